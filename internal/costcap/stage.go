package costcap

import (
	"context"
	"fmt"

	"github.com/llmgw/llmgw/internal/auth"
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/pipeline"
	"github.com/llmgw/llmgw/internal/pricing"
)

// Header is the request header asking for a cost cap, in US dollars.
const Header = "x-llmgw-max-cost-usd"

// Options configure the stage.
type Options struct {
	// Tokens returns the prompt tokens of a call and the largest answer
	// it allows, as limits and budgets count them (ratelimit.Tokens).
	Tokens func(call *pipeline.Call) (prompt, answer int, err error)
	// Estimate returns the most call may cost (picodollars) with a prompt
	// of promptTokens and an answer of at most maxOutput tokens, whichever
	// target or fallback serves it; ok is false when one of them has no
	// price, or the model is not known.
	Estimate func(call *pipeline.Call, promptTokens, maxOutput int) (pico int64, ok bool)
	// Known reports whether a model name is served at all; a call for an
	// unknown model is passed on for the router to answer 404. Nil: every
	// model is.
	Known func(model string) bool
	// Fallbacks maps a model name to its cost_fallback.
	Fallbacks map[string]string
}

type stage struct{ o Options }

// New returns the cost cap stage.
func New(o Options) pipeline.Stage {
	s := &stage{o: o}
	return s.wrap
}

// capOf returns the cap that applies to call (0: none) and what set it.
func capOf(call *pipeline.Call) (int64, string) {
	limit, source := call.MaxCostPico, Header
	if p, ok := call.Caller.(*auth.Principal); ok && p != nil && p.MaxCostPico > 0 {
		if limit <= 0 || p.MaxCostPico < limit {
			limit, source = p.MaxCostPico, "this key's max_cost_usd"
		}
	}
	return limit, source
}

func (s *stage) wrap(next pipeline.Invoke) pipeline.Invoke {
	return func(ctx context.Context, call *pipeline.Call) (llm.Stream, error) {
		limit, source := capOf(call)
		if limit <= 0 {
			return next(ctx, call)
		}
		if s.o.Known != nil && !s.o.Known(call.Model) {
			return next(ctx, call) // the router's 404
		}
		call.CostCap = pipeline.CostCap{Applied: true, Cap: limit, Estimate: -1}
		est, priced, err := s.estimate(call)
		if err != nil {
			return nil, err
		}
		if priced {
			call.CostCap.Estimate = est
			if est <= limit {
				return next(ctx, call)
			}
		}
		if f, fe, ok, err := s.fallback(call, limit); err != nil {
			return nil, err
		} else if ok {
			call.Model = f
			call.CostCap.Estimate, call.CostCap.Fallback = fe, f
			return next(ctx, call)
		}
		return nil, refusal(call, priced, est, limit, source)
	}
}

// estimate returns the most call may cost on its current model.
func (s *stage) estimate(call *pipeline.Call) (int64, bool, error) {
	prompt, answer, err := s.o.Tokens(call)
	if err != nil {
		return 0, false, err
	}
	if s.o.Estimate == nil {
		return 0, false, nil
	}
	est, ok := s.o.Estimate(call, prompt, answer)
	return est, ok, nil
}

// fallback follows the cost fallbacks of call's model and returns the
// first the caller may use whose estimate is within limit. The call's
// model is as it was when fallback returns.
func (s *stage) fallback(call *pipeline.Call, limit int64) (string, int64, bool, error) {
	asked := call.Model
	defer func() { call.Model = asked }()
	f, ok := s.o.Fallbacks[asked]
	for steps := 0; ok && steps < len(s.o.Fallbacks); steps++ {
		if call.Allows(f) && (s.o.Known == nil || s.o.Known(f)) {
			call.Model = f
			est, priced, err := s.estimate(call)
			if err != nil {
				return "", 0, false, err
			}
			if priced && est <= limit {
				return f, est, true, nil
			}
		}
		f, ok = s.o.Fallbacks[f]
	}
	return "", 0, false, nil
}

// refusal is the error of a call whose estimate is above its cap, or
// cannot be made.
func refusal(call *pipeline.Call, priced bool, est, limit int64, source string) error {
	lower := "lower max_tokens, shorten the input, or raise the cap"
	if source != Header {
		lower = "lower max_tokens or shorten the input; a request may lower this cap, not raise it"
	}
	if !priced {
		return &llm.Error{Kind: llm.KindCostCapExceeded, Message: fmt.Sprintf(
			"the cost of model %q (or of one of its fallbacks) cannot be estimated: it has no price, so the cap of %s set by %s cannot be enforced; ask the gateway's operator to price it (pricing: in the configuration)",
			llm.Clip(call.Model), usd(limit), source)}
	}
	return &llm.Error{Kind: llm.KindCostCapExceeded, Message: fmt.Sprintf(
		"estimated cost %s is above the cap of %s set by %s (the prompt and the largest answer the request allows, priced at the most expensive target or fallback that may serve model %q); %s",
		usd(est), usd(limit), source, llm.Clip(call.Model), lower)}
}

// usd formats picodollars as dollars.
func usd(pico int64) string {
	return "$" + pricing.Amount(pico).String()
}
