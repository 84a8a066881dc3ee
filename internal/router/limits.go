package router

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/llmgw/llmgw/internal/limits"
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/pipeline"
)

// errTargetLimited marks the error of a target at its own limit.
var errTargetLimited = errors.New("router: upstream target at its limit")

// acquire takes t's limits for one attempt of call on upstream model:
// an empty lease when t has none, an error wrapping errTargetLimited when
// t is at its limit, another error when the limits cannot be checked.
func (r *Router) acquire(ctx context.Context, call *pipeline.Call, t *target, model string) (limits.Lease, error) {
	if r.limiter == nil || t.Limits.IsZero() {
		return limits.Lease{}, nil
	}
	subject := t.subject
	if subject == "" {
		subject = "target:" + t.Provider.Name() + "/" + model
	}
	d, lease, err := r.limiter.Acquire(ctx, limits.Request{
		Checks: []limits.Check{{Subject: subject, Limit: t.Limits}},
		Tokens: call.ReservedTokens,
	})
	if err != nil {
		if ctx.Err() != nil {
			return limits.Lease{}, llm.AsError(ctx.Err())
		}
		return limits.Lease{}, llm.Wrap(llm.KindUnavailable, err, "rate limits cannot be checked: the shared limit store does not answer; retry shortly")
	}
	if d.Allowed {
		return lease, nil
	}
	call.RateLimits.Refused = d.Dimension
	e := &llm.Error{Kind: llm.KindRateLimited, Err: errTargetLimited}
	if d.Never {
		e.Message = fmt.Sprintf("this request needs %d tokens, more than the %s tokens per minute limit of every upstream target of the model allows at once", call.ReservedTokens, t.model)
		return limits.Lease{}, e
	}
	e.RetryAfter = max(d.RetryAfter, time.Second)
	e.Message = fmt.Sprintf("rate limit exceeded: every upstream target of model %s is at its %s limit; retry after %ds",
		t.model, d.Dimension, int64((e.RetryAfter+time.Second-1)/time.Second))
	return limits.Lease{}, e
}

// shorter reports whether a asks a shorter wait than b; a refusal that
// can never pass asks the longest.
func shorter(a, b error) bool {
	ra, rb := llm.AsError(a).RetryAfter, llm.AsError(b).RetryAfter
	return ra > 0 && (rb == 0 || ra < rb)
}

// leased releases a target's lease when the stream ends or is closed,
// with the usage the upstream reported.
type leased struct {
	llm.Stream
	ctx   context.Context
	lease limits.Lease
	done  atomic.Bool
}

func (l *leased) Recv() (*llm.Chunk, error) {
	c, err := l.Stream.Recv()
	if err != nil {
		l.release()
	}
	return c, err
}

func (l *leased) Close() error {
	err := l.Stream.Close()
	l.release()
	return err
}

// Buffered passes on whether the next chunk is in hand.
func (l *leased) Buffered() bool { return llm.NextBuffered(l.Stream) }

func (l *leased) release() {
	if l.done.Swap(true) {
		return
	}
	u := l.Stream.Usage()
	used := int64(u.PromptTokens + u.CompletionTokens)
	if used <= 0 {
		used = -1 // unknown: the reservation stands
	}
	_ = l.lease.Release(context.WithoutCancel(l.ctx), used)
}
