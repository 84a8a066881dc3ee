package router

import (
	"sync"
	"time"
)

// State is a circuit breaker's state.
type State uint8

// Breaker states; their numbers are the values of the llmgw_breaker_state
// gauge.
const (
	StateClosed State = iota
	StateHalfOpen
	StateOpen
)

// String returns "closed", "half_open" or "open".
func (s State) String() string {
	switch s {
	case StateHalfOpen:
		return "half_open"
	case StateOpen:
		return "open"
	}
	return "closed"
}

// BreakerPolicy configures a target's circuit breaker; see config.Breaker.
// Zero fields take the defaults 5, 0.5, 30s, 20, 30s and 2.
type BreakerPolicy struct {
	ConsecutiveFailures int
	ErrorRate           float64
	Window              time.Duration
	MinRequests         int
	Cooldown            time.Duration
	HalfOpenProbes      int
}

func (p BreakerPolicy) withDefaults() BreakerPolicy {
	if p.ConsecutiveFailures <= 0 {
		p.ConsecutiveFailures = 5
	}
	if p.ErrorRate <= 0 || p.ErrorRate > 1 {
		p.ErrorRate = 0.5
	}
	if p.Window <= 0 {
		p.Window = 30 * time.Second
	}
	if p.MinRequests <= 0 {
		p.MinRequests = 20
	}
	if p.Cooldown <= 0 {
		p.Cooldown = 30 * time.Second
	}
	if p.HalfOpenProbes <= 0 {
		p.HalfOpenProbes = 2
	}
	return p
}

// outcome is what an attempt says about its target's health.
type outcome uint8

const (
	// neutral: the attempt says nothing of the target (the client went
	// away, or its request was invalid).
	neutral outcome = iota
	success
	failure
)

// buckets is how many slices the error-rate window is cut into.
const buckets = 10

type bucket struct {
	epoch         int64
	total, failed int
}

// breaker is one target's circuit breaker. Closed, it counts consecutive
// failures and the failure rate over a sliding window of buckets; tripped,
// it is open until its cooldown (or the target's Retry-After, if longer)
// has passed; then half-open, it admits HalfOpenProbes attempts, closing
// when they all succeed and opening again on any failure. Results are
// tagged with the generation they were admitted in, so that an attempt
// started before a transition cannot sway the state after it.
type breaker struct {
	p        BreakerPolicy
	now      func() time.Time
	onChange func(State)

	mu          sync.Mutex
	state       State
	generation  uint64
	consecutive int
	window      [buckets]bucket
	openUntil   time.Time
	admitted    int // half-open probes let through
	succeeded   int // half-open probes that succeeded
	// attemptFailed: an attempt failed since the last one that succeeded
	// (check.go); byCheck: active checks alone opened the breaker.
	attemptFailed, byCheck bool
}

func newBreaker(p BreakerPolicy, now func() time.Time, onChange func(State)) *breaker {
	return &breaker{p: p.withDefaults(), now: now, onChange: onChange}
}

// setPolicy makes p the policy from now on; the state and what was counted
// stay.
func (b *breaker) setPolicy(p BreakerPolicy) {
	b.mu.Lock()
	b.p = p.withDefaults()
	b.mu.Unlock()
}

// allow admits an attempt, or reports false when the breaker is open or its
// half-open probes are all out. The generation returned goes to record.
func (b *breaker) allow() (uint64, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	b.advance(now)
	switch b.state {
	case StateOpen:
		return 0, false
	case StateHalfOpen:
		if b.admitted >= b.p.HalfOpenProbes {
			return 0, false
		}
		b.admitted++
	}
	return b.generation, true
}

// readyAt returns when the breaker will admit an attempt: the zero time
// when it would at once, the end of its cooldown when open, and false when
// that is unknown (half-open with every probe out: ready when one
// finishes).
func (b *breaker) readyAt() (time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.state == StateOpen:
		return b.openUntil, true
	case b.state == StateHalfOpen && b.admitted >= b.p.HalfOpenProbes:
		return time.Time{}, false
	}
	return time.Time{}, true
}

// advance moves an open breaker whose cooldown is over to half-open.
func (b *breaker) advance(now time.Time) {
	if b.state == StateOpen && !now.Before(b.openUntil) {
		b.setState(StateHalfOpen)
		b.admitted, b.succeeded = 0, 0
	}
}

// current returns the state, having moved it along the clock.
func (b *breaker) current() State {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.advance(b.now())
	return b.state
}

// record counts the result of an attempt admitted in generation gen.
// retryAfter, the wait a failing target asked for, lengthens the cooldown
// if it trips the breaker.
func (b *breaker) record(gen uint64, o outcome, retryAfter time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if gen != b.generation {
		return
	}
	now := b.now()
	switch b.state {
	case StateClosed:
		if o != neutral {
			b.attemptFailed = o == failure
		}
		b.recordClosed(now, o, retryAfter)
	case StateHalfOpen:
		switch o {
		case neutral:
			b.admitted--
		case failure:
			b.trip(now, retryAfter)
		case success:
			b.succeeded++
			if b.succeeded >= b.p.HalfOpenProbes {
				b.setState(StateClosed)
				b.consecutive = 0
				b.window = [buckets]bucket{}
			}
		}
	}
}

func (b *breaker) recordClosed(now time.Time, o outcome, retryAfter time.Duration) {
	if o == neutral {
		return
	}
	width := max(b.p.Window/buckets, time.Millisecond)
	epoch := now.UnixNano() / int64(width)
	bk := &b.window[epoch%buckets]
	if bk.epoch != epoch {
		*bk = bucket{epoch: epoch}
	}
	bk.total++
	if o == success {
		b.consecutive = 0
		return
	}
	bk.failed++
	b.consecutive++
	total, failed := 0, 0
	for _, x := range b.window {
		if x.epoch > epoch-buckets {
			total += x.total
			failed += x.failed
		}
	}
	rate := total >= b.p.MinRequests && float64(failed) >= b.p.ErrorRate*float64(total)
	if b.consecutive >= b.p.ConsecutiveFailures || rate {
		b.trip(now, retryAfter)
	}
}

// trip opens the breaker for the cooldown or retryAfter, whichever is
// longer.
func (b *breaker) trip(now time.Time, retryAfter time.Duration) {
	b.openUntil = now.Add(max(b.p.Cooldown, retryAfter))
	b.admitted, b.succeeded, b.consecutive = 0, 0, 0
	b.byCheck = false
	b.setState(StateOpen)
}

// reset closes the breaker and forgets what it counted. The new generation
// keeps attempts admitted before the reset from swaying it after.
func (b *breaker) reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.consecutive, b.admitted, b.succeeded = 0, 0, 0
	b.window = [buckets]bucket{}
	b.openUntil = time.Time{}
	b.attemptFailed, b.byCheck = false, false
	b.setState(StateClosed)
}

// setState moves to s in a new generation and reports the change.
func (b *breaker) setState(s State) {
	b.state = s
	b.generation++
	if b.onChange != nil {
		b.onChange(s)
	}
}
