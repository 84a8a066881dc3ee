package router

import (
	"time"

	"github.com/llmgw/llmgw/internal/llm"
)

// ObserveCheck records the result of an active health check of the
// provider named provider (a cheap request such as its model list; nil err
// is success) on the breaker of each of its targets, in every model.
//
// A failed check counts as one failed attempt would: in a closed breaker
// toward its consecutive failures and its error rate; in a half-open one it
// opens it again. Only failures that say something of the upstream's
// health count (a connection failure, a timeout, 5xx, 401 or 403); a 429
// or another 4xx to the check is left out, as a client error is for
// attempts.
//
// A successful check is weaker evidence than a successful attempt: the
// upstream answers, but its answer says nothing of a model of it. So a
// success never counts in a closed breaker (it would dilute failures of a
// model the check does not exercise), and it closes a half-open breaker
// only when checks alone opened it: checks' failures opened it while no
// attempt had failed since the last one that succeeded. A breaker that
// attempts opened is closed only by attempts, through its half-open
// probes, as without checks. An open breaker waits its cooldown whatever
// the checks say.
func (r *Router) ObserveCheck(provider string, err error) {
	if err != nil && !checkCounts(err) {
		return
	}
	for _, t := range r.allTargets() {
		if t.Provider.Name() == provider {
			t.breaker.check(err == nil)
		}
	}
}

// checkCounts reports whether a failed check counts against the breakers.
func checkCounts(err error) bool {
	v := classify(err)
	return v.health && llm.AsError(err).Kind != llm.KindRateLimited
}

// check records an active check's result (see ObserveCheck).
func (b *breaker) check(ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	b.advance(now)
	switch b.state {
	case StateClosed:
		if ok {
			return
		}
		b.recordClosed(now, failure, 0)
		if b.state == StateOpen {
			b.byCheck = !b.attemptFailed
		}
	case StateHalfOpen:
		switch {
		case !ok:
			byCheck := b.byCheck
			b.trip(now, time.Duration(0))
			b.byCheck = byCheck
		case b.byCheck:
			b.setState(StateClosed)
			b.consecutive, b.admitted, b.succeeded = 0, 0, 0
			b.window = [buckets]bucket{}
			b.byCheck = false
		}
	}
}
