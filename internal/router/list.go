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
