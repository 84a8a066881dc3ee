package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmgw/llmgw/internal/auth"
	"github.com/llmgw/llmgw/internal/budget"
	"github.com/llmgw/llmgw/internal/limits"
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/pipeline"
	"github.com/llmgw/llmgw/internal/pricing"
	"github.com/llmgw/llmgw/internal/tokens"
)

// DefaultMaxTokens is the answer reserved against tokens per minute for a
// request that sets no max_tokens.
const DefaultMaxTokens = 4096

// Options configure the stage.
type Options struct {
	// Limiter holds the counts; it belongs to the process.
	Limiter limits.Limiter
	// Models are the configured models' own limits, by model name (a
	// wildcard model under its "prefix/*" name).
	Models map[string]limits.Limit
	// TargetTokens names the models (as Models does) with a target under a
	// tokens-per-minute limit: their calls' tokens are counted for the
	// router to reserve (pipeline.Call.ReservedTokens).
	TargetTokens map[string]bool
	// Target returns the provider type and upstream model id of the first
	// target serving model, for counting its prompt; nil or not found:
	// the prompt is estimated.
	Target func(model string) (providerType, upstreamModel string, ok bool)
	// DefaultMaxTokens replaces DefaultMaxTokens when above 0.
	DefaultMaxTokens int
	// Estimate returns the most call could cost (picodollars) with a
	// prompt of promptTokens and an answer of at most maxOutput tokens,
	// whichever target or fallback serves it; ok is false when one of
	// them has no price. Nil: no model is priced.
	Estimate func(call *pipeline.Call, promptTokens, maxOutput int) (pico int64, ok bool)
	// Exhausted, when set, hears of each call a budget refused, with the
	// caller's tenant (its ID, or a static key's tenant name): for the
	// budget's 100 % alert.
	Exhausted func(tenant string, d budget.Decision)
}

type model struct {
	subject string
	limit   limits.Limit
	// tokens: a target of the model has a tokens-per-minute limit.
	tokens bool
}

type stage struct {
	o         Options
	models    map[string]model
	wildcards []string // prefixes of wildcard models with limits, "openai/"
	// subjects caches the subject strings of keys and tenants, so that a
	// request builds none.
	subjects sync.Map
}

// New returns the limits stage, or nil (no stage) when no limiter is
// given.
func New(o Options) pipeline.Stage {
	if o.Limiter == nil {
		return nil
	}
	if o.DefaultMaxTokens <= 0 {
		o.DefaultMaxTokens = DefaultMaxTokens
	}
	s := &stage{o: o, models: make(map[string]model, len(o.Models))}
	add := func(name string) {
		if _, ok := s.models[name]; ok {
			return
		}
		s.models[name] = model{subject: "model:" + name, limit: o.Models[name], tokens: o.TargetTokens[name]}
		if prefix, ok := strings.CutSuffix(name, "*"); ok {
			s.wildcards = append(s.wildcards, prefix)
		}
	}
	for name, l := range o.Models {
		if !l.IsZero() {
			add(name)
		}
	}
	for name, on := range o.TargetTokens {
		if on {
			add(name)
		}
	}
	return s.wrap
}

// subject returns kind+":"+id, cached.
func (s *stage) subject(kind byte, id string) string {
	type k struct {
		kind byte
		id   string
	}
	if v, ok := s.subjects.Load(k{kind, id}); ok {
		return v.(string)
	}
	name := "key:"
	if kind == 't' {
		name = "tenant:"
	}
	v, _ := s.subjects.LoadOrStore(k{kind, id}, name+id)
	return v.(string)
}

func (s *stage) model(name string) (model, bool) {
	if m, ok := s.models[name]; ok {
		return m, true
	}
	for _, prefix := range s.wildcards {
		if strings.HasPrefix(name, prefix) && len(name) > len(prefix) {
			return s.models[prefix+"*"], true
		}
	}
	return model{}, false
}

func (s *stage) wrap(next pipeline.Invoke) pipeline.Invoke {
	return func(ctx context.Context, call *pipeline.Call) (llm.Stream, error) {
		var checks [3]limits.Check
		n := 0
		if p, ok := call.Caller.(*auth.Principal); ok && p != nil {
			if !p.Limits.IsZero() {
				id := p.KeyID
				if id == "" {
					id = p.KeyName
				}
				checks[n] = limits.Check{Subject: s.subject('k', id), Limit: p.Limits}
				n++
			}
			if !p.TenantLimits.IsZero() {
				id := p.TenantID
				if id == "" {
					id = p.Tenant
				}
				checks[n] = limits.Check{Subject: s.subject('t', id), Limit: p.TenantLimits}
				n++
			}
		}
		m, _ := s.model(call.Model)
		if !m.limit.IsZero() {
			checks[n] = limits.Check{Subject: m.subject, Limit: m.limit}
			n++
		}
		req := limits.Request{Checks: checks[:n:n]}
		var budgets []budget.Budget
		if p, ok := call.Caller.(*auth.Principal); ok && p != nil {
			budgets = p.Budgets
		}
		count := m.tokens || len(budgets) > 0
		for i := range req.Checks {
			count = count || req.Checks[i].Limit.TPM > 0
		}
		if count {
			prompt, answer, err := s.reserve(call)
			if err != nil {
				return nil, err
			}
			req.Tokens = int64(prompt) + int64(answer)
			call.ReservedTokens = req.Tokens
			if len(budgets) > 0 {
				var pico int64
				ok := false
				if s.o.Estimate != nil {
					pico, ok = s.o.Estimate(call, prompt, answer)
				}
				if !ok {
					// A model no target serves is unknown, whatever the
					// key: 404 as the router would answer, not a refusal.
					if s.o.Target != nil {
						if _, _, known := s.o.Target(call.Model); !known {
							return nil, llm.NewError(llm.KindNotFound, "model %q not found", llm.Clip(call.Model))
						}
					}
					return nil, &llm.Error{Kind: llm.KindPermission, Message: fmt.Sprintf(
						"this key has a budget, and model %q (or one of its fallbacks) has no price, so its cost cannot be held to it; ask the gateway's operator to price it (pricing: in the configuration)",
						llm.Clip(call.Model))}
				}
				req.Spend = budget.Request{Budgets: budgets, Estimate: pico}
			}
		}
		if n == 0 && len(req.Spend.Budgets) == 0 {
			return next(ctx, call)
		}
		d, lease, err := s.o.Limiter.Acquire(ctx, req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, llm.AsError(ctx.Err())
			}
			if errors.Is(err, limits.ErrClosed) {
				return nil, llm.Wrap(llm.KindUnavailable, err, "rate limits cannot be checked: the shared limit store does not answer; retry shortly")
			}
			return nil, llm.Wrap(llm.KindUnavailable, err, "rate limits cannot be checked; retry shortly")
		}
		if n > 0 {
			call.RateLimits = pipeline.RateLimits{Applied: true, Requests: d.Requests, Tokens: d.Tokens}
		}
		if !d.Allowed {
			call.RateLimits.Refused = d.Dimension
			if d.Dimension == limits.Spending {
				if s.o.Exhausted != nil {
					tenant := ""
					if p, ok := call.Caller.(*auth.Principal); ok && p != nil {
						tenant = p.TenantID
						if tenant == "" {
							tenant = p.Tenant
						}
					}
					s.o.Exhausted(tenant, d.Budget)
				}
				return nil, budgetRefusal(&d, req.Spend.Estimate)
			}
			return nil, refusal(&d, req.Tokens)
		}
		if lease.Spend.Valid() {
			call.Spend = &lease.Spend
		}
		stream, err := next(ctx, call)
		if err != nil {
			_ = lease.Release(context.WithoutCancel(ctx), 0)
			if call.Spend != nil {
				// Nothing answered: nothing to pay.
				_, _ = call.Spend.Settle(context.WithoutCancel(ctx), 0)
			}
			return nil, err
		}
		if stream == nil { // embeddings: the response is in the call
			used := int64(-1)
			if call.Embedding != nil {
				used = usedTokens(call.Embedding.Usage)
			}
			_ = lease.Release(context.WithoutCancel(ctx), used)
			return nil, nil
		}
		return &leased{Stream: stream, ctx: ctx, call: call, lease: lease}, nil
	}
}

// reserve returns the tokens call reserves against tokens per minute: its
// prompt and the largest answer it allows.
func (s *stage) reserve(call *pipeline.Call) (prompt, answer int, err error) {
	return Tokens(call, s.o.Target, s.o.DefaultMaxTokens)
}

// Tokens returns the prompt tokens of call and the largest answer it
// allows (its max tokens, else defaultMax, else DefaultMaxTokens): what
// limits and budgets reserve, and what a cost cap prices. The prompt is
// counted for the provider type and upstream model target gives for the
// call's model (nil or not found: estimated), once per call and model:
// the count is kept on the call for the stages after.
func Tokens(call *pipeline.Call, target func(model string) (providerType, upstreamModel string, ok bool), defaultMax int) (prompt, answer int, err error) {
	if prompt, answer, ok := call.TokenEstimate(); ok {
		return prompt, answer, nil
	}
	if call.Op == pipeline.OpEmbed {
		if call.Embed != nil {
			prompt = tokens.EstimateText(string(call.Embed.Input))
		}
		call.SetTokenEstimate(prompt, 0)
		return prompt, 0, nil
	}
	var typ, upstream string
	if target != nil {
		typ, upstream, _ = target(call.Model)
	}
	if n := call.Native; n != nil {
		prompt = n.Prompt(func(text string) int {
			c, _ := tokens.CountText(text, typ, upstream)
			return c
		})
		return prompt, n.MaxOutputTokens, nil
	}
	req, err := call.Decoded()
	if err != nil {
		return 0, 0, err
	}
	prompt, _ = tokens.Count(req, typ, upstream)
	answer = req.MaxOutputTokens()
	if answer <= 0 {
		answer = defaultMax
		if answer <= 0 {
			answer = DefaultMaxTokens
		}
	}
	call.SetTokenEstimate(prompt, answer)
	return prompt, answer, nil
}

// whose names the owner of a subject for messages.
func whose(subject string) string {
	kind, _, _ := strings.Cut(subject, ":")
	switch kind {
	case "key":
		return "this key's"
	case "tenant":
		return "this key's tenant's"
	case "model":
		return "this model's"
	case "target":
		return "the upstream target's"
	}
	return "a"
}

// refusal is the error of a refused decision.
func refusal(d *limits.Decision, reserved int64) error {
	if d.Never {
		return &llm.Error{Kind: llm.KindRateLimited, Message: fmt.Sprintf(
			"this request needs %d tokens (prompt plus max_tokens), more than %s tokens per minute limit allows at once; lower max_tokens or shorten the prompt",
			reserved, whose(d.Subject))}
	}
	retry := d.RetryAfter
	if retry <= 0 {
		retry = time.Second
	}
	return &llm.Error{Kind: llm.KindRateLimited, RetryAfter: retry, Message: fmt.Sprintf(
		"rate limit exceeded: %s %s limit is reached; retry after %ds",
		whose(d.Subject), d.Dimension, int64((retry+time.Second-1)/time.Second))}
}

// budgetRefusal is the error of a call a budget refused: it names the
// budget, says what is spent and held, and when it starts over.
func budgetRefusal(d *limits.Decision, estimate int64) error {
	b := d.Budget
	kind, _, _ := strings.Cut(b.Budget.Subject, ":")
	owner := map[string]string{"key": "this key's", "team": "this key's team's", "tenant": "this key's tenant's"}[kind]
	if owner == "" {
		owner = "a"
	}
	period := string(b.Budget.Period)
	if b.Budget.Period == budget.Total {
		period = "total"
	}
	msg := fmt.Sprintf("budget exceeded: %s %s budget of %s is spent (%s spent, %s held by requests in flight; this request may cost up to %s)",
		owner, period, usd(b.Budget.Limit), usd(b.Spent), usd(b.Reserved), usd(estimate))
	e := &llm.Error{Kind: llm.KindBudgetExceeded}
	if !b.ResetAt.IsZero() {
		msg += "; it starts over at " + b.ResetAt.UTC().Format(time.RFC3339)
		e.RetryAfter = max(d.RetryAfter, time.Second)
	}
	e.Message = msg
	return e
}

// usd formats picodollars as dollars with up to six decimals.
func usd(pico int64) string {
	return "$" + pricing.Amount(pico).String()
}

func usedTokens(u llm.Usage) int64 {
	t := u.PromptTokens + u.CompletionTokens
	if t <= 0 {
		t = u.TotalTokens
	}
	if t <= 0 {
		return -1 // unknown: the reservation stands
	}
	return int64(t)
}

// leased releases its lease when the stream ends or is closed, with the
// usage the upstream reported.
type leased struct {
	llm.Stream
	ctx   context.Context
	call  *pipeline.Call
	lease limits.Lease
	done  atomic.Bool
}

func (l *leased) Recv() (*llm.Chunk, error) {
	c, err := l.Stream.Recv()
	if err != nil {
		l.release(err)
	}
	return c, err
}

func (l *leased) Close() error {
	err := l.Stream.Close()
	l.release(io.EOF)
	return err
}

// Buffered passes on whether the next chunk is in hand.
func (l *leased) Buffered() bool { return llm.NextBuffered(l.Stream) }

func (l *leased) release(error) {
	if l.done.Swap(true) {
		return
	}
	u := l.Stream.Usage()
	if l.call.Op == pipeline.OpEmbed && l.call.Embedding != nil {
		u = l.call.Embedding.Usage
	}
	_ = l.lease.Release(context.WithoutCancel(l.ctx), usedTokens(u))
}
