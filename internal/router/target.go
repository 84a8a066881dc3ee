package router

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/llmgw/llmgw/internal/provider"
)

// Headroom steering: below lowHeadroom of a rate limit left, a target's
// share shrinks in proportion, down to minHeadroomFactor of its weight (never
// to nothing, so that fresh headers keep arriving). A report counts until
// the limit resets, and for at most headroomTTL.
const (
	lowHeadroom       = 0.2
	minHeadroomFactor = 0.05
	headroomTTL       = time.Minute
)

// ewmaAlpha is the weight of a new time-to-first-token sample; maxPenalty
// caps the sample a failure counts as, so a target recovers in a few
// answers however long it failed.
const (
	ewmaAlpha  = 0.3
	maxPenalty = 30 * time.Second
)

// target is a Target with the health the router keeps of it. The health
// is shared with the targets of later routers that keep the same target
// (see Health).
type target struct {
	Target
	model string // the configured model name, for metrics
	label string // the target's metric label
	// subject is the target's limit subject; empty for a wildcard
	// target, whose upstream model comes with each request.
	subject string
	// key is the target's identity in a Health.
	key healthKey
	*health

	// durationOK is the target's llmgw_upstream_duration_seconds series of
	// successful attempts.
	durationOK prometheus.Observer

	// onHeadroom is observeHeadroom on the router's clock, made once so
	// that an attempt hands it to the provider without allocating.
	onHeadroom func(provider.Headroom)
}

// health is what the router learns of a target as calls succeed and fail:
// its breaker, counters, latency average, rate-limit headroom and
// Retry-After. It outlives a router when a Health keeps it.
type health struct {
	breaker *breaker
	// inflight counts attempts and streams in progress.
	inflight atomic.Int64
	// attempts counts attempts made; successes those that produced a first
	// chunk, failures those that counted against the target's health.
	attempts, successes, failures atomic.Int64

	mu            sync.Mutex
	ewma          float64 // seconds; 0 until the first sample
	headroom      float64 // share of its rate limit left, 0..1
	headroomUntil time.Time
	notBefore     time.Time // the target's Retry-After
}

func newHealth(p BreakerPolicy, now func() time.Time) *health {
	return &health{breaker: newBreaker(p, now, nil), headroom: 1}
}

func (r *Router) newTarget(m *Model, j int, key healthKey) *target {
	t := &target{Target: m.Targets[j], model: m.Name, key: key}
	t.label = t.Model + "#" + strconv.Itoa(j)
	if m.rule != "" {
		t.label = t.Model + "#" + m.rule + "/" + strconv.Itoa(j)
	}
	if t.Model != "*" {
		t.subject = "target:" + t.Provider.Name() + "/" + t.Model
	}
	if r.health != nil {
		t.health = r.health.take(key, m.Breaker, r.now)
	} else {
		t.health = newHealth(m.Breaker, r.now)
	}
	t.durationOK = r.metrics.duration.WithLabelValues(t.Provider.Name(), m.Name, "success")
	t.onHeadroom = func(h provider.Headroom) { t.observeHeadroom(r.now(), h) }
	return t
}

// factor returns the share of its weight the target gets for its headroom.
func (t *target) factor(now time.Time) float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.headroom >= lowHeadroom || !now.Before(t.headroomUntil) {
		return 1
	}
	return max(minHeadroomFactor, t.headroom/lowHeadroom)
}

// observeHeadroom records the rate-limit headroom the upstream reported.
func (t *target) observeHeadroom(now time.Time, h provider.Headroom) {
	ttl := headroomTTL
	if r := h.Reset(); r > 0 {
		ttl = min(ttl, r)
	}
	t.mu.Lock()
	t.headroom, t.headroomUntil = h.Fraction(), now.Add(ttl)
	t.mu.Unlock()
}

// weight returns the target's effective weight: its configured weight
// scaled by its headroom.
func (t *target) weight(now time.Time) float64 {
	if t.Weight <= 0 {
		return 0
	}
	return float64(t.Weight) * t.factor(now)
}

// ready reports whether the target may take an attempt now.
func (t *target) ready(now time.Time) bool {
	if t.Weight <= 0 {
		return false
	}
	at, ok := t.readyAt()
	return ok && !now.Before(at)
}

// readyAt returns when the target may next take an attempt, the later of
// its breaker's readiness and its Retry-After; false when unknown
// (half-open probes out).
func (t *target) readyAt() (time.Time, bool) {
	at, ok := t.breaker.readyAt()
	if !ok {
		return at, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.notBefore.After(at) {
		return t.notBefore, true
	}
	return at, true
}

// backOff honours a Retry-After: no attempt before now+d.
func (t *target) backOff(now time.Time, d time.Duration) {
	if d <= 0 {
		return
	}
	t.mu.Lock()
	if nb := now.Add(d); nb.After(t.notBefore) {
		t.notBefore = nb
	}
	t.mu.Unlock()
}

// reset closes the target's breaker and ends its Retry-After.
func (t *target) reset() {
	t.breaker.reset()
	t.mu.Lock()
	t.notBefore = time.Time{}
	t.mu.Unlock()
}

// observeLatency folds a time-to-first-token sample into the moving
// average. A failure is folded in as at least twice the average, so a
// failing target looks slow to latency balancing until it recovers.
func (t *target) observeLatency(d time.Duration, failed bool) {
	s := d.Seconds()
	t.mu.Lock()
	defer t.mu.Unlock()
	if failed {
		s = min(max(s, 2*t.ewma), maxPenalty.Seconds())
	}
	if t.ewma == 0 {
		t.ewma = s
		return
	}
	t.ewma += ewmaAlpha * (s - t.ewma)
}

func (t *target) latency() float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.ewma
}
