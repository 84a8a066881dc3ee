package config

import (
	"maps"
	"math"
	"net/http"
	"regexp"
	"slices"

	"golang.org/x/net/http/httpguts"
)

// Route is a routing rule of a model: the requests it matches (all of its
// match conditions together), or a share of them, go to its own targets
// instead of the model's. A model's routes are evaluated in order and the
// first that takes a request chooses its targets; a request no route takes
// goes to the model's targets. Balancing, retries, timeouts, the breaker
// policy and fallbacks are the model's. Routes run A/B tests and canaries
// (docs/rollouts.md).
type Route struct {
	// Name names the rule in the llmgw_route_rule_matches_total metric,
	// the access log and traces. Required, unique within the model; letters,
	// digits, '_', '-' and '.', at most 64 bytes.
	Name string `yaml:"name" json:"name"`
	// Match holds the conditions a request must meet, all of them. At least
	// one is required unless Percent is set (a share of every request).
	Match RouteMatch `yaml:"match,omitempty" json:"match,omitzero"`
	// Percent, when set, takes only that share of the matching requests:
	// above 0 and at most 100. The share is chosen by a stable hash of the
	// caller's key (its store ID, or a static key's name), so that a key's
	// requests all go the same way; raising the percent keeps every key
	// already taken. A request without a key is placed by its
	// x-llmgw-sticky header, and at random when it has none. Absent: every
	// matching request.
	Percent *float64 `yaml:"percent,omitempty" json:"percent,omitempty"`
	// Targets serve the requests the rule takes, as a model's targets do
	// (each with its own circuit breaker). At least one must have a weight
	// above 0.
	Targets []Target `yaml:"targets" json:"targets"`
}

// RouteMatch is what a request must meet for a route to take it. Nothing
// of a request names an upstream: it only chooses among configured
// targets.
type RouteMatch struct {
	// Header is a request header that must carry a value exactly.
	Header *HeaderMatch `yaml:"header,omitempty" json:"header,omitempty"`
	// KeyLabels are labels (set on keys through the admin API) that the
	// caller's key must carry, each with the value given. Static keys and
	// JWTs carry none.
	KeyLabels map[string]string `yaml:"key_labels,omitempty" json:"key_labels,omitempty"`
	// Tenants are tenant names, one of which must be the caller's.
	Tenants []string `yaml:"tenants,omitempty" json:"tenants,omitempty"`
}

// HeaderMatch is a request header and the value it must have.
type HeaderMatch struct {
	// Name is the header's name, case-insensitive. Required; credential
	// headers (Authorization, X-Api-Key, Cookie...) are refused.
	Name string `yaml:"name" json:"name"`
	// Value is the value the header's first line must equal,
	// case-sensitive. Required.
	Value string `yaml:"value" json:"value"`
}

// MaxRoutes bounds the routes of one model.
const MaxRoutes = 32

var routeName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// credentialHeaders may not be matched: a route would put a secret in the
// configuration.
var credentialHeaders = map[string]bool{
	"Authorization": true, "Proxy-Authorization": true, "X-Api-Key": true, "Api-Key": true,
	"Cookie": true, "X-Goog-Api-Key": true,
}

// validateRoutes checks the model's routes, at path.
func (m *Model) validateRoutes(p *problems, path string, providers map[string]int) {
	rp := fieldPath(path, "routes")
	if len(m.Routes) > MaxRoutes {
		p.add(rp, "at most %d routes", MaxRoutes)
	}
	_, wild := m.Wildcard()
	names := make(map[string]int, len(m.Routes))
	for i := range m.Routes {
		r := &m.Routes[i]
		path := indexPath(rp, i)
		if !routeName.MatchString(r.Name) {
			p.add(fieldPath(path, "name"), "required: letters, digits, '_', '-' and '.', at most 64 bytes")
		} else if j, dup := names[r.Name]; dup {
			p.add(fieldPath(path, "name"), "duplicate route name %q (also at index %d)", r.Name, j)
		} else {
			names[r.Name] = i
		}
		mp := fieldPath(path, "match")
		mt := &r.Match
		empty := mt.Header == nil && len(mt.KeyLabels) == 0 && len(mt.Tenants) == 0
		if empty && r.Percent == nil {
			p.add(mp, "at least one condition (header, key_labels, tenants) is required unless percent is set: a route that takes every request leaves the model's targets unused")
		}
		if h := mt.Header; h != nil {
			hp := fieldPath(mp, "header")
			switch {
			case h.Name == "":
				p.add(fieldPath(hp, "name"), "required")
			case !httpguts.ValidHeaderFieldName(h.Name):
				p.add(fieldPath(hp, "name"), "not a valid header name")
			case credentialHeaders[http.CanonicalHeaderKey(h.Name)]:
				p.add(fieldPath(hp, "name"), "a credential header cannot be matched")
			}
			if h.Value == "" {
				p.add(fieldPath(hp, "value"), "required")
			} else if !httpguts.ValidHeaderFieldValue(h.Value) {
				p.add(fieldPath(hp, "value"), "not a valid header value")
			}
		}
		for _, k := range sortedKeys(mt.KeyLabels) {
			if k == "" {
				p.add(fieldPath(mp, "key_labels"), "a label name must not be empty")
			}
		}
		seen := make(map[string]bool, len(mt.Tenants))
		for j, t := range mt.Tenants {
			tp := indexPath(fieldPath(mp, "tenants"), j)
			switch {
			case t == "":
				p.add(tp, "must not be empty")
			case seen[t]:
				p.add(tp, "duplicate tenant %q", t)
			}
			seen[t] = true
		}
		if r.Percent != nil && (!(*r.Percent > 0 && *r.Percent <= 100) || math.IsNaN(*r.Percent)) {
			p.add(fieldPath(path, "percent"), "must be above 0 and at most 100")
		}
		validateTargets(p, path, wild, r.Targets, providers)
		for j := range r.Targets {
			r.Targets[j].Timeouts.validate(p, fieldPath(indexPath(fieldPath(path, "targets"), j), "timeouts"))
		}
	}
}

// validateTargets checks the targets of a model or of one of its routes
// (their timeouts are checked with the model's routing settings).
func validateTargets(p *problems, path string, wild bool, targets []Target, providers map[string]int) {
	if len(targets) == 0 {
		p.add(fieldPath(path, "targets"), "at least one target is required")
		return
	}
	positive := false
	for j, t := range targets {
		tp := indexPath(fieldPath(path, "targets"), j)
		if t.Provider == "" {
			p.add(fieldPath(tp, "provider"), "required")
		} else if _, ok := providers[t.Provider]; !ok {
			p.add(fieldPath(tp, "provider"), "unknown provider %q", t.Provider)
		}
		switch {
		case t.Model == "":
			p.add(fieldPath(tp, "model"), "required")
		case wild && t.Model != "*":
			p.add(fieldPath(tp, "model"), "must be \"*\" in a wildcard model")
		case !wild && t.Model == "*":
			p.add(fieldPath(tp, "model"), "\"*\" is only allowed in a wildcard model such as \"openai/*\"")
		}
		if t.Weight < 0 {
			p.add(fieldPath(tp, "weight"), "must not be negative")
		}
		positive = positive || t.Weight > 0
		t.Limits.validate(p, tp)
	}
	if !positive {
		p.add(fieldPath(path, "targets"), "at least one target needs a weight above 0")
	}
}

// sortedKeys returns m's keys in order, so that problems come in a stable
// order.
func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}

// cloneRoutes deep-copies routes.
func cloneRoutes(routes []Route) []Route {
	out := cloneSlice(routes)
	for i := range out {
		r := &out[i]
		r.Targets = cloneSlice(r.Targets)
		for j := range r.Targets {
			r.Targets[j].Limits = cloneLimits(r.Targets[j].Limits)
		}
		if r.Percent != nil {
			v := *r.Percent
			r.Percent = &v
		}
		if r.Match.Header != nil {
			h := *r.Match.Header
			r.Match.Header = &h
		}
		r.Match.KeyLabels = maps.Clone(r.Match.KeyLabels)
		r.Match.Tenants = cloneSlice(r.Match.Tenants)
	}
	return out
}
