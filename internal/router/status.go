package router

import "time"

// TargetStatus is the health the router keeps of one target.
type TargetStatus struct {
	// Provider is the provider's name and Model the upstream model id.
	Provider string `json:"provider"`
	Model    string `json:"model"`
	Weight   int    `json:"weight"`
	// State is the breaker's, closed, half_open or open, except that a
	// target whose breaker is closed but which an upstream's Retry-After
	// keeps from taking requests is cooling_down.
	State string `json:"state"`
	// CooldownUntil is when a target that takes no requests for now (its
	// breaker open, or cooling down) takes them again; absent otherwise.
	// POST /admin/v1/targets/reset ends it at once.
	CooldownUntil *time.Time `json:"cooldown_until,omitempty"`
	// Inflight counts attempts and streams in progress.
	Inflight int64 `json:"inflight"`
	// Attempts counts the attempts made on the target since it was
	// configured (across configuration reloads that keep it); Successes those that produced a first chunk, Failures those
	// that counted against its health. The rest (a client's cancellation
	// or invalid request, attempts in progress) are neither.
	Attempts  int64 `json:"attempts"`
	Successes int64 `json:"successes"`
	Failures  int64 `json:"failures"`
	// EWMATTFTSeconds is the moving average of time to first token; 0
	// before the first answer.
	EWMATTFTSeconds float64 `json:"ewma_ttft_seconds"`
	// Headroom is the share of its rate limit the upstream last reported
	// left (1 when it reports none).
	Headroom float64 `json:"headroom"`
	// Share is the target's share of new requests by effective weight
	// (weight scaled by headroom, 0 while it cannot take requests).
	Share float64 `json:"share"`
}

// ModelStatus is the health of one model's targets.
type ModelStatus struct {
	Name      string         `json:"name"`
	Balancing string         `json:"balancing"`
	Targets   []TargetStatus `json:"targets"`
	// Routes are the model's routing rules' targets, in order; absent
	// when it has none.
	Routes []RouteStatus `json:"routes,omitempty"`
}

// RouteStatus is the health of one routing rule's targets.
type RouteStatus struct {
	Name    string         `json:"name"`
	Targets []TargetStatus `json:"targets"`
}

// Status returns every model's targets with their health, in configuration
// order.
func (r *Router) Status() []ModelStatus {
	now := r.now()
	out := make([]ModelStatus, 0, len(r.models))
	for _, m := range r.models {
		ms := ModelStatus{Name: m.Name, Balancing: m.Balancing.String(), Targets: targetsStatus(m, now)}
		for _, rt := range m.routes {
			ms.Routes = append(ms.Routes, RouteStatus{Name: rt.name, Targets: targetsStatus(rt.model, now)})
		}
		out = append(out, ms)
	}
	return out
}

// targetsStatus returns the status of m's targets.
func targetsStatus(m *Model, now time.Time) []TargetStatus {
	ms := ModelStatus{Targets: make([]TargetStatus, len(m.targets))}
	total := 0.0
	weights := make([]float64, len(m.targets))
	for i, t := range m.targets {
		state := t.breaker.current()
		if state != StateOpen && t.ready(now) {
			weights[i] = t.weight(now)
			total += weights[i]
		}
		t.mu.Lock()
		headroom := 1.0
		if now.Before(t.headroomUntil) {
			headroom = t.headroom
		}
		ms.Targets[i] = TargetStatus{
			Provider: t.Provider.Name(), Model: t.Model, Weight: t.Weight, State: state.String(),
			Inflight: t.inflight.Load(), Attempts: t.attempts.Load(), Successes: t.successes.Load(), Failures: t.failures.Load(),
			EWMATTFTSeconds: t.ewma, Headroom: headroom,
		}
		t.mu.Unlock()
		ms.Targets[i].cooldown(t, state, now)
	}
	for i := range ms.Targets {
		if total > 0 {
			ms.Targets[i].Share = weights[i] / total
		}
	}
	return ms.Targets
}

// cooldown fills in State and CooldownUntil for a target held back until a
// known time: by its open breaker, or by a Retry-After while its breaker is
// closed (cooling_down).
func (st *TargetStatus) cooldown(t *target, state State, now time.Time) {
	at, ok := t.readyAt()
	if !ok || !at.After(now) {
		return
	}
	at = at.UTC()
	st.CooldownUntil = &at
	if state == StateClosed {
		st.State = stateCoolingDown
	}
}

// stateCoolingDown is the State of a target whose breaker is closed but
// which a Retry-After keeps from taking requests.
const stateCoolingDown = "cooling_down"
