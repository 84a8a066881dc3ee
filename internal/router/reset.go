package router

// TargetID names one target: the configured model it serves, its
// provider's name and the upstream's model id ("*" in a wildcard model).
type TargetID struct {
	Model         string `json:"model"`
	Provider      string `json:"provider"`
	UpstreamModel string `json:"upstream_model"`
}

// matches reports whether t is chosen by sel, whose empty fields match
// every target.
func (sel TargetID) matches(t *target) bool {
	return (sel.Model == "" || sel.Model == t.model) &&
		(sel.Provider == "" || sel.Provider == t.Provider.Name()) &&
		(sel.UpstreamModel == "" || sel.UpstreamModel == t.Model)
}

// Reset closes the breaker and ends the Retry-After cool-down of every
// target sel chooses (an empty field matching every target), and returns
// the targets reset, in configuration order. An attempt in flight when it
// happens does not count afterwards: the breaker starts a new generation.
func (r *Router) Reset(sel TargetID) []TargetID {
	out := []TargetID{}
	for _, t := range r.allTargets() {
		if !sel.matches(t) {
			continue
		}
		t.reset()
		out = append(out, TargetID{Model: t.model, Provider: t.Provider.Name(), UpstreamModel: t.Model})
	}
	return out
}
