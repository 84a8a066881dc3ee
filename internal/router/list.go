package router

import (
	"strings"

	"github.com/llmgw/llmgw/internal/provider"
)

// Wildcard is a wildcard model ("openai/*") as a model list sees it.
type Wildcard struct {
	// Name is the model's name; Prefix is Name without its "*".
	Name, Prefix string
	// Providers are the providers of the targets that take traffic and pass
	// the requested name's suffix on as the upstream model id (target
	// model "*"), in configuration order, each once: the models their
	// upstreams list are the models the wildcard reaches.
	Providers []provider.Provider
}

// Wildcards returns the wildcard models, in configuration order.
func (r *Router) Wildcards() []Wildcard {
	var out []Wildcard
	for _, m := range r.models {
		if !strings.HasSuffix(m.Name, "/*") {
			continue
		}
		w := Wildcard{Name: m.Name, Prefix: m.Name[:len(m.Name)-1]}
		seen := map[provider.Provider]bool{}
		for i := range m.Targets {
			t := &m.Targets[i]
			if t.Weight > 0 && t.Model == "*" && !seen[t.Provider] {
				seen[t.Provider] = true
				w.Providers = append(w.Providers, t.Provider)
			}
		}
		out = append(out, w)
	}
	return out
}

// ServedBy returns the name of the model that serves the requested name,
// matched as every route matches it (an exact name first, then the
// longest wildcard prefix), or "" when none does. A listing uses it to
// leave out a name a wildcard's upstream lists that another model
// shadows.
func (r *Router) ServedBy(name string) string {
	m, _, ok := r.resolve(name)
	if !ok {
		return ""
	}
	return m.Name
}

// EachTarget calls fn with the provider name and upstream model id of
// every target that may serve a call for name: its model's targets and
// its routing rules', then those of every fallback it may lead to (override, when not nil,
// replacing the ordinary fallbacks as a call's x-llmgw-fallbacks does),
// until fn returns false. It reports false when name is not served. It
// is how admission bounds a call's cost whatever target serves it.
func (r *Router) EachTarget(name string, override []string, fn func(provider, upstream string) bool) bool {
	m, suffix, ok := r.resolve(name)
	if !ok {
		return false
	}
	// A model's targets, then its routes' (any may serve the call).
	each := func(m *Model, suffix string) bool {
		lists := [][]Target{m.Targets}
		for _, rt := range m.routes {
			lists = append(lists, rt.model.Targets)
		}
		for _, ts := range lists {
			for i := range ts {
				t := &ts[i]
				if !fn(t.Provider.Name(), upstreamModel(t, suffix)) {
					return false
				}
			}
		}
		return true
	}
	if !each(m, suffix) {
		return true
	}
	names := m.Fallbacks
	if override != nil {
		names = override
	}
	for _, list := range [][]string{names, m.ContextWindowFallbacks, m.ContentPolicyFallbacks} {
		for _, n := range list {
			fm, fsuffix, ok := r.resolve(n)
			if ok && !each(fm, fsuffix) {
				return true
			}
		}
	}
	return true
}
