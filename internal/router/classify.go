package router

import (
	"time"

	"github.com/llmgw/llmgw/internal/llm"
)

// list names which of a model's fallback lists a failure leads to.
type list uint8

const (
	noFallback list = iota
	ordinary
	contextWindow
	contentPolicy
)

// String returns the reason label of the llmgw_fallbacks_total metric.
func (l list) String() string {
	switch l {
	case contextWindow:
		return "context_window"
	case contentPolicy:
		return "content_policy"
	}
	return "error"
}

// verdict is what a failed attempt means for the request and the target.
type verdict struct {
	// retry: another attempt, on this model's targets, may succeed.
	retry bool
	// health: the failure counts against the target's breaker.
	health bool
	// avoid: this target fails the same way again; another attempt for the
	// request goes to another target only.
	avoid bool
	// fallback: the list of fallback models to try once this model gave up.
	fallback list
	// outcome is the attempt's label in llmgw_upstream_attempts_total.
	outcome string
}

// classify decides what a failed attempt means. Retried: connection
// failures, timeouts before the first token, 408, 409, 429, 5xx (Anthropic's
// 529 included) and an error event before the first token. 401 and 403 mean
// the target's credentials are wrong or revoked: a fault of the target, not
// of the client, so it counts against its breaker and the request goes on
// to another target (never the same one again). A context window or content
// policy rejection is not retried on the same model but leads to the
// matching fallback list. A client's cancellation, the gateway's own limits
// and a client's invalid request end the request as they are.
func classify(err error) verdict {
	e := llm.AsError(err)
	if s := e.UpstreamStatus; (s == 401 || s == 403) && e.Kind == llm.KindUpstream {
		return verdict{retry: true, health: true, avoid: true, fallback: ordinary, outcome: "unauthorized"}
	}
	if s := e.UpstreamStatus; s >= 400 && s < 500 && s != 408 && s != 409 && s != 429 && e.Kind == llm.KindUpstream {
		// Another client error: the same request fails the same way
		// anywhere.
		return verdict{outcome: "rejected"}
	}
	switch e.Kind {
	case llm.KindUpstreamTimeout:
		return verdict{retry: true, health: true, fallback: ordinary, outcome: "timeout"}
	case llm.KindUpstreamUnavailable:
		return verdict{retry: true, health: true, fallback: ordinary, outcome: "unavailable"}
	case llm.KindUpstream:
		return verdict{retry: true, health: true, fallback: ordinary, outcome: "error"}
	case llm.KindRateLimited:
		if e.UpstreamStatus != 0 {
			return verdict{retry: true, health: true, fallback: ordinary, outcome: "rate_limited"}
		}
	case llm.KindContextLength:
		return verdict{fallback: contextWindow, outcome: "context_length"}
	case llm.KindContentPolicy:
		return verdict{fallback: contentPolicy, outcome: "content_policy"}
	case llm.KindCanceled:
		return verdict{outcome: "canceled"}
	}
	return verdict{outcome: "rejected"}
}

// retryAfter returns the wait an error asks for.
func retryAfter(err error) time.Duration {
	return llm.AsError(err).RetryAfter
}

// capRetryAfter returns err with the wait it asks for cut to limit: an
// upstream's Retry-After is honoured, and passed on to the client, up to
// the model's Retry.MaxRetryAfter only, so that one answer cannot take a
// target out of rotation (and tell clients to stay away) for a day.
func capRetryAfter(err error, limit time.Duration) error {
	e := llm.AsError(err)
	if e.RetryAfter <= limit {
		return err
	}
	out := *e
	out.RetryAfter = limit
	return &out
}

// backoff returns the wait before retry n (1 for the first retry): a
// uniformly random duration below base*2^(n-1), capped at maxWait (full
// jitter). rnd is in [0, 1).
func backoff(r Retry, n int, rnd float64) time.Duration {
	if n <= 0 {
		return 0
	}
	ceil := r.BaseBackoff
	for i := 1; i < n && ceil < r.MaxBackoff; i++ {
		ceil *= 2
	}
	ceil = min(ceil, r.MaxBackoff)
	return time.Duration(rnd * float64(ceil))
}
