package router

import (
	"hash/fnv"
	"net/http"
	"slices"

	"github.com/llmgw/llmgw/internal/pipeline"
)

// Route is a rule of a model that sends some of its requests to targets of
// its own: the canary or the B side of a rollout. A model's routes are
// evaluated in order; the first whose Match holds for a request, and whose
// Percent takes it, chooses the targets that serve it. A request no route
// takes goes to the model's own targets. Everything else (balancing,
// retries, timeouts, breaker policy, fallbacks) is the model's.
//
// A route only chooses among targets of the configuration: nothing of a
// request names an upstream.
type Route struct {
	// Name names the route in metrics, logs and traces; unique within its
	// model.
	Name string
	// Match holds the conditions a request must meet, all of them.
	Match Match
	// Percent, when above 0, takes only that share of the matching
	// requests, chosen by a stable hash of the caller's key (see
	// StickyHeader): a key is in or out of the share for as long as the
	// route's name and percent stay the same, and a key in at 5 % stays in
	// at 20 %. 0 takes every matching request.
	Percent float64
	// Targets serve the requests the route takes, with breakers of their
	// own.
	Targets []Target
}

// Match is what a request must meet for a route to take it; a zero field
// puts no condition.
type Match struct {
	// Header is a request header (canonical name) that must have the value
	// HeaderValue.
	Header, HeaderValue string
	// KeyLabels are labels the caller's key must carry, with these values.
	KeyLabels map[string]string
	// Tenants are tenant names, one of which must be the caller's.
	Tenants []string
}

// Subject is what routes may match of a call's caller. The access stage's
// Caller implements it; a caller that does not matches no route with a
// key-label or tenant condition, and is never sticky.
type Subject interface {
	// RouteTenant returns the caller's tenant name ("" for none).
	RouteTenant() string
	// RouteKey returns a stable identity of the caller's key ("" for none),
	// the input of a route's percent hash.
	RouteKey() string
	// RouteLabel returns the value of the key's label name.
	RouteLabel(name string) (string, bool)
}

// StickyHeader is the request header whose value stands for the caller in
// a route's percent hash when the call has no key (authentication off). A
// call with neither is placed at random, request by request.
const StickyHeader = "x-llmgw-sticky"

var stickyKey = http.CanonicalHeaderKey(StickyHeader)

// percentScale is the resolution of a route's percent: 1/10000 of a
// percent.
const percentScale = 1_000_000

// route is a Route built: the model its targets serve under.
type route struct {
	name    string
	match   Match
	percent float64
	model   *Model
}

// takes reports whether the route takes call for model m.
func (rt *route) takes(call *pipeline.Call, model string, rnd func() float64) bool {
	mt := &rt.match
	if mt.Header != "" && headerValue(call.Header, mt.Header) != mt.HeaderValue {
		return false
	}
	subj, _ := call.Caller.(Subject)
	if len(mt.Tenants) > 0 && (subj == nil || !slices.Contains(mt.Tenants, subj.RouteTenant())) {
		return false
	}
	for k, v := range mt.KeyLabels {
		if subj == nil {
			return false
		}
		if got, ok := subj.RouteLabel(k); !ok || got != v {
			return false
		}
	}
	if rt.percent <= 0 || rt.percent >= 100 {
		return true
	}
	sticky := ""
	if subj != nil {
		sticky = subj.RouteKey()
	}
	if sticky == "" {
		sticky = headerValue(call.Header, stickyKey)
	}
	var bucket uint64
	if sticky == "" {
		bucket = uint64(rnd() * percentScale)
	} else {
		bucket = Bucket(model, rt.name, sticky)
	}
	return bucket < uint64(rt.percent*percentScale/100)
}

// Bucket returns where the caller identified by sticky falls, in [0,
// 1000000), for the route named rule of model: the route takes it when the
// bucket is below its percent times 10000.
func Bucket(model, rule, sticky string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(model))
	h.Write([]byte{0})
	h.Write([]byte(rule))
	h.Write([]byte{0})
	h.Write([]byte(sticky))
	return h.Sum64() % percentScale
}

// headerValue returns the first value of the canonical header name.
func headerValue(h http.Header, name string) string {
	if v := h[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// pick returns the model whose targets serve call for m: that of the first
// route of m that takes it, else m itself. It counts the route's match and
// names it on the call.
func (r *Router) pick(call *pipeline.Call, m *Model) *Model {
	for _, rt := range m.routes {
		if rt.takes(call, m.Name, r.rand) {
			r.metrics.routes.WithLabelValues(m.Name, rt.name).Inc()
			call.Route = rt.name
			return rt.model
		}
	}
	call.Route = ""
	return m
}

// buildRoutes builds m's routes into models of their own, which share m's
// name and policy; keys are m's targets' health keys, which routes' keys
// continue.
func (r *Router) buildRoutes(m *Model) {
	for _, rt := range m.Routes {
		sub := &Model{Name: m.Name, Targets: rt.Targets, Fallbacks: m.Fallbacks, ContextWindowFallbacks: m.ContextWindowFallbacks,
			ContentPolicyFallbacks: m.ContentPolicyFallbacks, Balancing: m.Balancing, Retry: m.Retry, Timeouts: m.Timeouts,
			Breaker: m.Breaker, AllOpenWait: m.AllOpenWait, rule: rt.Name}
		keys := healthKeys(sub)
		sub.targets = make([]*target, len(sub.Targets))
		for j := range sub.Targets {
			sub.targets[j] = r.newTarget(sub, j, keys[j])
		}
		sub.bal = newBalancer(sub.Balancing)
		m.routes = append(m.routes, &route{name: rt.Name, match: rt.Match, percent: rt.Percent, model: sub})
	}
}

// allTargets returns every target of the router: its models', then their
// routes', in configuration order.
func (r *Router) allTargets() []*target {
	var all []*target
	for _, m := range r.models {
		all = append(all, m.targets...)
		for _, rt := range m.routes {
			all = append(all, rt.model.targets...)
		}
	}
	return all
}
