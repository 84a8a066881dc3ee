package router

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Health keeps what routers learn of their targets (breakers, counters,
// latency averages, headroom, Retry-After) across the routers of a
// process, so that a new configuration does not forget it. It is process
// state: created once, handed to every router (Options.Health).
//
// A target is the same target in a new router when its configured model,
// provider name, upstream model id and Target.Identity are the same (and,
// for a target listed twice, its rank among those). Weight, timeouts,
// limits and the breaker policy may change: the target keeps its health
// and the new policy applies from then on. A target whose provider now
// reaches another upstream (Identity: type, address or credentials
// changed) is a new target and starts afresh.
//
// Health is safe for concurrent use.
type Health struct {
	mu      sync.Mutex
	targets map[healthKey]*health
	// series are the (provider, model) and model label values of the
	// router in force, whose metric series its successor deletes when it
	// no longer serves them.
	series map[[2]string]bool
	// rules are the (model, rule) label values of the routes of the
	// router in force, likewise.
	rules map[[2]string]bool
}

// NewHealth returns an empty Health.
func NewHealth() *Health {
	return &Health{targets: make(map[healthKey]*health), series: make(map[[2]string]bool), rules: make(map[[2]string]bool)}
}

// healthKey is a target's identity across routers.
type healthKey struct {
	// rule is the route whose target it is, "" for the model's own.
	model, rule, provider, identity, upstream string
	// rank tells apart targets of one model with the same provider and
	// upstream model, in configuration order.
	rank int
}

// take returns the health kept under k, updated to policy p, or a new one.
func (h *Health) take(k healthKey, p BreakerPolicy, now func() time.Time) *health {
	h.mu.Lock()
	defer h.mu.Unlock()
	if hl, ok := h.targets[k]; ok {
		hl.breaker.setPolicy(p)
		return hl
	}
	hl := newHealth(p, now)
	h.targets[k] = hl
	return hl
}

// Len returns how many targets' health is kept.
func (h *Health) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.targets)
}

// keys returns the identities of m's targets, in order.
func healthKeys(m *Model) []healthKey {
	keys := make([]healthKey, len(m.Targets))
	seen := make(map[[2]string]int)
	for j, t := range m.Targets {
		id := [2]string{t.Provider.Name(), t.Model}
		keys[j] = healthKey{model: m.Name, rule: m.rule, provider: id[0], identity: t.Identity, upstream: t.Model, rank: seen[id]}
		seen[id]++
	}
	return keys
}

// Activate makes r the router in force: the llmgw_breaker_state gauge
// reports r's targets, and when r was built with a Health, the health of
// every target r does not have is forgotten and the metric series of
// models and provider-model pairs that r no longer serves are deleted, so
// that their number stays bounded however often the configuration
// changes. Call it once r serves, after the swap: routers still finishing
// requests keep what they hold, and a series an old request writes to
// after that appears again until the next activation.
func (r *Router) Activate() {
	all := r.allTargets()
	r.metrics.breaker.set(all)
	h := r.health
	if h == nil {
		return
	}
	keep := make(map[healthKey]bool, len(all))
	series := make(map[[2]string]bool)
	for _, t := range all {
		keep[t.key] = true
		series[[2]string{t.Provider.Name(), t.model}] = true
		series[[2]string{"", t.model}] = true
	}
	rules := make(map[[2]string]bool)
	for _, m := range r.models {
		for _, rt := range m.routes {
			rules[[2]string{m.Name, rt.name}] = true
		}
	}
	h.mu.Lock()
	for k := range h.targets {
		if !keep[k] {
			delete(h.targets, k)
		}
	}
	old, oldRules := h.series, h.rules
	h.series, h.rules = series, rules
	h.mu.Unlock()
	for s := range oldRules {
		if !rules[s] {
			r.metrics.routes.DeleteLabelValues(s[0], s[1])
		}
	}
	for s := range old {
		if series[s] {
			continue
		}
		if s[0] == "" {
			r.metrics.retries.DeletePartialMatch(prometheus.Labels{"model": s[1]})
			r.metrics.fallbacks.DeletePartialMatch(prometheus.Labels{"model": s[1]})
			r.metrics.fallbacks.DeletePartialMatch(prometheus.Labels{"fallback": s[1]})
			continue
		}
		pair := prometheus.Labels{"provider": s[0], "model": s[1]}
		r.metrics.attempts.DeletePartialMatch(pair)
		r.metrics.ttft.DeletePartialMatch(pair)
	}
}
