package router

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/pipeline"
)

// FallbacksHeader is the request header that replaces a model's fallback
// list for one request: model names separated by commas, tried in order
// when every target of the requested model fails. Each must be a model the
// caller's key may use; an empty value turns fallbacks off.
const FallbacksHeader = "x-llmgw-fallbacks"

// The header's bounds: at most maxOverrideFallbacks names (each may cost a
// model's every attempt) of at most maxFallbackName bytes each. Beyond
// them the request is refused with a 400 naming the header, rather than
// the excess being dropped: a client that asked for a sixth fallback is
// told it will not get one.
const (
	maxOverrideFallbacks = 5
	maxFallbackName      = 256
)

// ParseFallbacks reads the FallbacksHeader lines of a request into model
// names; a header sent on several lines is one list, as if joined by
// commas. Blank entries are skipped, and the result is never nil, so that
// an empty header means "no fallbacks". Its work is linear in the bytes of
// the lines, it keeps no more than the names allowed, and it stops at the
// first name too many or too long: a 400 naming the header.
func ParseFallbacks(lines []string) ([]string, error) {
	out := []string{}
	for _, line := range lines {
		for line != "" {
			var name string
			name, line, _ = strings.Cut(line, ",")
			if name = strings.TrimSpace(name); name == "" {
				continue
			}
			if len(out) == maxOverrideFallbacks {
				return nil, llm.InvalidRequest(FallbacksHeader, "%s names more than %d models", FallbacksHeader, maxOverrideFallbacks)
			}
			if len(name) > maxFallbackName {
				return nil, llm.InvalidRequest(FallbacksHeader, "%s names a model longer than %d bytes", FallbacksHeader, maxFallbackName)
			}
			out = append(out, name)
		}
	}
	return out, nil
}

// pollInterval is how often a request waiting for a target rechecks when no
// recovery time is known (every half-open probe is out).
const pollInterval = 20 * time.Millisecond

// Invoke is the pipeline's terminal stage: it sends the call to the
// targets of its model, retrying and failing over as the model's policy
// says, then to its fallbacks. call.Attempts counts the attempts made and
// call.Provider names the provider that served.
func (r *Router) Invoke(ctx context.Context, call *pipeline.Call) (llm.Stream, error) {
	m, suffix, ok := r.resolve(call.Model)
	if !ok {
		return nil, llm.NewError(llm.KindNotFound, "model %q not found", llm.Clip(call.Model))
	}
	override, err := r.checkOverride(call)
	if err != nil {
		return nil, err
	}
	sel := r.pick(call, m)
	if !sel.servesNative(call) {
		return nil, unserved(call, m)
	}
	s, err := r.serve(ctx, call, sel, suffix)
	if err == nil {
		return s, nil
	}
	s, err = r.fallback(ctx, call, m, suffix, override, err)
	return s, exhausted(err)
}

// exhausted turns an upstream's rate limit that outlasted every attempt and
// fallback into 503 upstream_unavailable, keeping its Retry-After: a 429
// from the gateway means the caller's own limit or budget, while this is
// every upstream target failing.
func exhausted(err error) error {
	e := llm.AsError(err)
	if err == nil || e.Kind != llm.KindRateLimited || e.UpstreamStatus == 0 {
		return err
	}
	out := *e
	out.Kind = llm.KindUpstreamUnavailable
	out.Message = "every upstream target is rate limited"
	return &out
}

// fallback tries the fallback list that the failure err of model m leads
// to, in order, skipping models the caller's key may not use, and returns
// the first stream or the last error.
func (r *Router) fallback(ctx context.Context, call *pipeline.Call, m *Model, suffix string, override []string, err error) (llm.Stream, error) {
	v := classify(err)
	if errors.Is(err, errTargetLimited) {
		v.fallback = ordinary // every target at its limit: fall back
	}
	var names []string
	switch v.fallback {
	case ordinary:
		names = m.Fallbacks
		if override != nil {
			names = override
		}
	case contextWindow:
		names = m.ContextWindowFallbacks
	case contentPolicy:
		names = m.ContentPolicyFallbacks
	}
	for _, name := range names {
		if ctx.Err() != nil {
			break
		}
		fm, fsuffix, ok := r.resolve(name)
		if !ok || fm == m && fsuffix == suffix {
			continue
		}
		// A configured fallback is a route of the operator's, but the
		// key's model list still bounds where its requests may go (a
		// tenant kept off a provider stays off it when a model fails).
		if !call.Allows(name) {
			continue
		}
		sel := r.pick(call, fm)
		if !sel.servesNative(call) {
			continue
		}
		r.metrics.fallbacks.WithLabelValues(m.Name, fm.Name, v.fallback.String()).Inc()
		s, ferr := r.serve(ctx, call, sel, fsuffix)
		if ferr == nil {
			return s, nil
		}
		err = ferr
		if llm.AsError(ferr).Kind == llm.KindCanceled {
			break
		}
	}
	return nil, err
}

// checkOverride validates the call's fallback override: every model known
// and allowed to the caller.
func (r *Router) checkOverride(call *pipeline.Call) ([]string, error) {
	if call.Fallbacks == nil {
		return nil, nil
	}
	if len(call.Fallbacks) > maxOverrideFallbacks {
		return nil, llm.InvalidRequest(FallbacksHeader, "%s names more than %d models", FallbacksHeader, maxOverrideFallbacks)
	}
	for _, name := range call.Fallbacks {
		if !r.Has(name) {
			return nil, llm.InvalidRequest(FallbacksHeader, "%s: model %q not found", FallbacksHeader, llm.Clip(name))
		}
		if !call.Allows(name) {
			return nil, llm.NewError(llm.KindPermission, "%s: this key may not use model %q", FallbacksHeader, llm.Clip(name))
		}
	}
	return call.Fallbacks, nil
}

// serve makes up to the model's MaxAttempts attempts on its targets, each
// retry after a full-jitter backoff on another target where there is one,
// never past the request's deadline. It returns the stream of the first
// attempt that produced a first chunk, or the last error.
func (r *Router) serve(ctx context.Context, call *pipeline.Call, m *Model, suffix string) (llm.Stream, error) {
	deadline, _ := ctx.Deadline()
	if m.Timeouts.Total > 0 {
		if dl := time.Now().Add(m.Timeouts.Total); deadline.IsZero() || dl.Before(deadline) {
			deadline = dl
		}
	}
	tried := make(map[*target]mark, len(m.targets))
	if m.avoidIncapable(call, tried) {
		return nil, unserved(call, m)
	}
	var lastErr, limitedErr error
	waitUntil := time.Time{} // end of the bounded wait when no target is ready
	for n := 0; n < m.Retry.MaxAttempts; {
		t, err := r.next(ctx, m, tried, &waitUntil, deadline, n)
		if err != nil {
			if lastErr != nil && llm.AsError(err).Kind != llm.KindCanceled {
				return nil, lastErr
			}
			return nil, err
		}
		gen, ok := t.breaker.allow()
		if !ok {
			continue // lost a race for the last half-open probe: choose again
		}
		lease, lerr := r.acquire(ctx, call, t, upstreamModel(&t.Target, suffix))
		if lerr != nil {
			t.breaker.record(gen, neutral, 0)
			if !errors.Is(lerr, errTargetLimited) {
				return nil, lerr
			}
			// Skipped like a target cooling down, for this request; the
			// error kept is the one with the shortest wait.
			tried[t] = avoided
			if limitedErr == nil || shorter(lerr, limitedErr) {
				limitedErr = lerr
			}
			if m.allAvoided(tried) {
				if lastErr != nil {
					return nil, lastErr // an upstream answered: its error tells more
				}
				return nil, limitedErr
			}
			continue
		}
		if n > 0 {
			r.metrics.retries.WithLabelValues(m.Name).Inc()
		}
		n++
		call.Attempts++
		tried[t] = max(tried[t], triedOnce)
		t.attempts.Add(1)
		start := time.Now()
		a := &attempt{m: m, t: t, call: call, model: upstreamModel(&t.Target, suffix), deadline: deadline, n: call.Attempts}
		s, err := r.try(ctx, a)
		if err != nil {
			_ = lease.Release(context.WithoutCancel(ctx), 0)
		} else if lease.Valid() {
			s = &leased{Stream: s, ctx: ctx, lease: lease}
		}
		if err == nil {
			t.successes.Add(1)
			t.breaker.record(gen, success, 0)
			r.metrics.attempts.WithLabelValues(t.Provider.Name(), m.Name, "success").Inc()
			call.Provider, call.UpstreamModel = t.Provider.Name(), a.model
			return s, nil
		}
		err = capRetryAfter(err, m.Retry.MaxRetryAfter)
		v := classify(err)
		r.metrics.attempts.WithLabelValues(t.Provider.Name(), m.Name, v.outcome).Inc()
		r.metrics.duration.WithLabelValues(t.Provider.Name(), m.Name, v.outcome).Observe(time.Since(start).Seconds())
		r.logFailure(ctx, a, err)
		ra := retryAfter(err)
		if v.health {
			t.failures.Add(1)
			t.breaker.record(gen, failure, ra)
			t.observeLatency(time.Since(start), true)
			t.backOff(r.now(), ra)
		} else {
			t.breaker.record(gen, neutral, 0)
		}
		lastErr = err
		if v.avoid {
			tried[t] = avoided
		}
		if !v.retry || m.allAvoided(tried) {
			return nil, err
		}
	}
	return nil, lastErr
}

// mark is what a request has made of one of its model's targets.
type mark uint8

const (
	untried mark = iota
	// triedOnce: tried; another attempt goes elsewhere while it can.
	triedOnce
	// avoided: failed in a way it would again (its credentials refused);
	// no further attempt of the request goes to it.
	avoided
)

// allAvoided reports whether every target of m that takes traffic is
// avoided by the request.
func (m *Model) allAvoided(tried map[*target]mark) bool {
	for _, t := range m.targets {
		if t.Weight > 0 && tried[t] != avoided {
			return false
		}
	}
	return true
}

// next waits out the backoff before attempt n (0: the first) and returns the
// target to try: one not tried yet where possible. When no target is ready
// (breakers open, Retry-After pending), it waits for the first to recover,
// for at most the model's AllOpenWait in all, then answers 503
// upstream_unavailable. It never waits past the deadline.
func (r *Router) next(ctx context.Context, m *Model, tried map[*target]mark, waitUntil *time.Time, deadline time.Time, n int) (*target, error) {
	if d := backoff(m.Retry, n, r.rand()); d > 0 {
		if err := sleep(ctx, d, deadline); err != nil {
			return nil, err
		}
	}
	for {
		now := r.now()
		if c := m.candidates(now, tried); len(c) > 0 {
			return m.bal.pick(c, r.rand), nil
		}
		if waitUntil.IsZero() {
			*waitUntil = time.Now().Add(m.AllOpenWait)
		}
		wait, known := m.recovery(now, tried)
		if !known || wait <= 0 {
			wait = pollInterval
		}
		left := time.Until(*waitUntil)
		if left <= 0 || (known && wait > left) {
			return nil, unavailable(m, wait)
		}
		if err := sleep(ctx, min(wait, left), deadline); err != nil {
			return nil, err
		}
	}
}

// recovery returns how long until the first target of m the request does
// not avoid is ready again, and false when that is unknown (a half-open
// breaker's probes are out).
func (m *Model) recovery(now time.Time, tried map[*target]mark) (time.Duration, bool) {
	var first time.Time
	known, found := true, false
	for _, t := range m.targets {
		if t.Weight <= 0 || tried[t] == avoided {
			continue
		}
		at, ok := t.readyAt()
		if !ok {
			known = false
			continue
		}
		if !found || at.Before(first) {
			first, found = at, true
		}
	}
	if !found {
		return 0, false
	}
	return first.Sub(now), known
}

// unavailable is the error of a model none of whose targets can take a
// request, retry after the first is expected back.
func unavailable(m *Model, retryAfter time.Duration) error {
	return &llm.Error{Kind: llm.KindUpstreamUnavailable, RetryAfter: max(retryAfter, 0),
		Message: "no upstream target of model " + m.Name + " is available"}
}

// sleep waits d, or returns the request's error when ctx ends first, or an
// upstream_timeout when the wait would pass the deadline.
func sleep(ctx context.Context, d time.Duration, deadline time.Time) error {
	if !deadline.IsZero() && !time.Now().Add(d).Before(deadline) {
		return llm.NewError(llm.KindUpstreamTimeout, "no time left before the request deadline for another attempt")
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return llm.AsError(ctx.Err())
	}
}
