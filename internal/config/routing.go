package config

import (
	"math"
	"time"
)

// Balancing strategies: the values Model.Balancing may take.
const (
	BalanceWeighted      = "weighted"
	BalanceRoundRobin    = "round_robin"
	BalanceLeastInflight = "least_inflight"
	BalanceLatency       = "latency"
)

// BalancingStrategies returns every valid Model.Balancing, in documentation
// order.
func BalancingStrategies() []string {
	return []string{BalanceWeighted, BalanceRoundRobin, BalanceLeastInflight, BalanceLatency}
}

// Routing defaults, applied to every model.
const (
	DefaultBalancing           = BalanceWeighted
	DefaultMaxAttempts         = 3
	DefaultBaseBackoff         = 100 * time.Millisecond
	DefaultMaxBackoff          = 5 * time.Second
	DefaultFirstTokenTimeout   = 60 * time.Second
	DefaultConsecutiveFailures = 5
	DefaultErrorRate           = 0.5
	DefaultBreakerWindow       = 30 * time.Second
	DefaultBreakerMinRequests  = 20
	DefaultBreakerCooldown     = 30 * time.Second
	DefaultHalfOpenProbes      = 2
	DefaultAllOpenWait         = 2 * time.Second
	DefaultMaxRetryAfter       = 60 * time.Second
	// MaxRetryAfterLimit caps retry.max_retry_after.
	MaxRetryAfterLimit = 24 * time.Hour
	// MaxAttemptsLimit caps retry.max_attempts: more attempts than this only
	// add load to upstreams that are already failing.
	MaxAttemptsLimit = 10
)

// Retry bounds the attempts made for one request on a model's targets.
// Only failures that another attempt may cure are retried: connection
// failures, timeouts before the first token, 408, 409, 429, 5xx and an
// error event before the first token; after a 401 or 403 (the target's
// credentials refused), only on another target. Nothing is retried once the first
// byte has reached the client.
type Retry struct {
	// MaxAttempts is the most attempts made on this model's targets for one
	// request, the first included; 1 turns retries off. Default 3, at most
	// 10.
	MaxAttempts int `yaml:"max_attempts" json:"max_attempts"`
	// BaseBackoff is the backoff before the first retry; each later retry
	// doubles it, and the actual wait is a random duration up to it (full
	// jitter). A target's Retry-After is always honoured on top. Default
	// "100ms".
	BaseBackoff Duration `yaml:"base_backoff" json:"base_backoff"`
	// MaxBackoff caps the backoff. Default "5s". A target's Retry-After is
	// honoured apart from it: no attempt goes to that target before then,
	// and a request waits for it only up to all_open_wait.
	MaxBackoff Duration `yaml:"max_backoff" json:"max_backoff"`
	// MaxRetryAfter caps the wait an upstream's Retry-After (or
	// retry-after-ms, or the x-ratelimit-reset-* of a 429) can impose on
	// its target: no attempt goes to that target for that long at most, a
	// breaker it trips stays open for at most the longer of this and
	// breaker.cooldown, and the Retry-After the gateway passes on to
	// clients is cut to it too. Without a cap, one answer carrying
	// "Retry-After: 99999999" would take a target out of rotation for a
	// day. GET /admin/v1/targets shows a target held back this way as
	// "cooling_down" with its "cooldown_until"; POST
	// /admin/v1/targets/reset ends the wait at once. Default "60s", at
	// most "24h".
	MaxRetryAfter Duration `yaml:"max_retry_after" json:"max_retry_after"`
}

// Timeouts bound one attempt on a target. A zero field in a target's
// timeouts keeps the model's value. The connect timeout is not among them:
// it is providers[].connect_timeout, for every target of that provider,
// because connections are pooled and shared by all of a provider's targets;
// a connection that opens but never answers is bounded by FirstToken.
type Timeouts struct {
	// FirstToken bounds the wait for the first streamed chunk (the whole
	// answer, for a request that does not stream, is bounded by Total
	// only). When it passes the attempt fails over to another target before
	// anything has been sent to the client. Default "60s".
	FirstToken Duration `yaml:"first_token,omitempty" json:"first_token,omitempty"`
	// StreamIdle is the longest gap allowed between two chunks of a stream
	// once it has started. Default server.stream_idle_timeout.
	StreamIdle Duration `yaml:"stream_idle,omitempty" json:"stream_idle,omitempty"`
	// Total bounds everything done for a request on this model, retries,
	// backoff and the stream to its end included; on a target, one attempt
	// on it. server.request_timeout always applies as well. Default: none
	// beyond server.request_timeout.
	Total Duration `yaml:"total,omitempty" json:"total,omitempty"`
}

// Breaker configures the circuit breaker kept for each target. A closed
// breaker opens on ConsecutiveFailures failures in a row, or when at least
// MinRequests attempts within Window failed at a rate of ErrorRate or more.
// An open breaker sends no traffic for Cooldown (longer if the target asked
// for it with Retry-After), then lets HalfOpenProbes attempts through: the
// breaker closes when they all succeed and opens again on any failure. Only
// failures that reflect the target's health count: connection failures,
// timeouts, 429, 5xx and 401/403 (the target's credentials refused), not a
// client's invalid request or cancellation.
type Breaker struct {
	// ConsecutiveFailures opens the breaker after that many failures in a
	// row. Default 5.
	ConsecutiveFailures int `yaml:"consecutive_failures" json:"consecutive_failures"`
	// ErrorRate opens the breaker when the share of failed attempts over
	// Window reaches it, from 0 (exclusive) to 1. Default 0.5.
	ErrorRate float64 `yaml:"error_rate" json:"error_rate"`
	// Window is the sliding window over which ErrorRate is measured.
	// Default "30s".
	Window Duration `yaml:"window" json:"window"`
	// MinRequests is the fewest attempts within Window for ErrorRate to
	// apply. Default 20.
	MinRequests int `yaml:"min_requests" json:"min_requests"`
	// Cooldown is how long an open breaker stays open. Default "30s".
	Cooldown Duration `yaml:"cooldown" json:"cooldown"`
	// HalfOpenProbes is how many attempts a half-open breaker lets through
	// to test the target. Default 2.
	HalfOpenProbes int `yaml:"half_open_probes" json:"half_open_probes"`
}

// applyRoutingDefaults fills the model's unset routing settings; streamIdle
// is the server-wide stream idle timeout.
func (m *Model) applyRoutingDefaults(streamIdle Duration) {
	setDefault(&m.Balancing, DefaultBalancing)
	setDefault(&m.Retry.MaxAttempts, DefaultMaxAttempts)
	setDefault(&m.Retry.BaseBackoff, Duration(DefaultBaseBackoff))
	setDefault(&m.Retry.MaxBackoff, Duration(DefaultMaxBackoff))
	setDefault(&m.Retry.MaxRetryAfter, Duration(DefaultMaxRetryAfter))
	setDefault(&m.Timeouts.FirstToken, Duration(DefaultFirstTokenTimeout))
	setDefault(&m.Timeouts.StreamIdle, streamIdle)
	b := &m.Breaker
	setDefault(&b.ConsecutiveFailures, DefaultConsecutiveFailures)
	setDefault(&b.ErrorRate, DefaultErrorRate)
	setDefault(&b.Window, Duration(DefaultBreakerWindow))
	setDefault(&b.MinRequests, DefaultBreakerMinRequests)
	setDefault(&b.Cooldown, Duration(DefaultBreakerCooldown))
	setDefault(&b.HalfOpenProbes, DefaultHalfOpenProbes)
	setDefault(&m.AllOpenWait, Duration(DefaultAllOpenWait))
}

// validateRouting checks the model's routing settings, at path.
func (m *Model) validateRouting(p *problems, path string) {
	switch m.Balancing {
	case BalanceWeighted, BalanceRoundRobin, BalanceLeastInflight, BalanceLatency:
	default:
		p.add(fieldPath(path, "balancing"), "unknown strategy %q (want weighted, round_robin, least_inflight or latency)", m.Balancing)
	}
	r := m.Retry
	rp := fieldPath(path, "retry")
	if r.MaxAttempts < 1 || r.MaxAttempts > MaxAttemptsLimit {
		p.add(fieldPath(rp, "max_attempts"), "must be between 1 and %d", MaxAttemptsLimit)
	}
	switch {
	case r.BaseBackoff <= 0:
		p.add(fieldPath(rp, "base_backoff"), "must be > 0")
	case r.MaxBackoff < r.BaseBackoff:
		p.add(fieldPath(rp, "max_backoff"), "must not be below base_backoff (%s)", r.BaseBackoff)
	}
	if r.MaxRetryAfter <= 0 || r.MaxRetryAfter.Std() > MaxRetryAfterLimit {
		p.add(fieldPath(rp, "max_retry_after"), "must be above 0 and at most %s", MaxRetryAfterLimit)
	}
	m.Timeouts.validate(p, fieldPath(path, "timeouts"))
	for j := range m.Targets {
		m.Targets[j].Timeouts.validate(p, fieldPath(indexPath(fieldPath(path, "targets"), j), "timeouts"))
	}
	m.Breaker.validate(p, fieldPath(path, "breaker"))
	if m.AllOpenWait < 0 {
		p.add(fieldPath(path, "all_open_wait"), "must not be negative")
	}
}

// validate reports negative timeouts.
func (t Timeouts) validate(p *problems, path string) {
	checkDurations(p, path, map[string]Duration{
		"first_token": t.FirstToken,
		"stream_idle": t.StreamIdle,
		"total":       t.Total,
	})
}

// validate checks a breaker's settings.
func (b Breaker) validate(p *problems, path string) {
	if b.ConsecutiveFailures < 1 {
		p.add(fieldPath(path, "consecutive_failures"), "must be >= 1")
	}
	if !(b.ErrorRate > 0 && b.ErrorRate <= 1) || math.IsNaN(b.ErrorRate) {
		p.add(fieldPath(path, "error_rate"), "must be above 0 and at most 1")
	}
	if b.Window <= 0 {
		p.add(fieldPath(path, "window"), "must be > 0")
	}
	if b.MinRequests < 1 {
		p.add(fieldPath(path, "min_requests"), "must be >= 1")
	}
	if b.Cooldown <= 0 {
		p.add(fieldPath(path, "cooldown"), "must be > 0")
	}
	if b.HalfOpenProbes < 1 {
		p.add(fieldPath(path, "half_open_probes"), "must be >= 1")
	}
}
