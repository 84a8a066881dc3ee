package router

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/llmgw/llmgw/internal/observe"
	"github.com/llmgw/llmgw/internal/pipeline"
)

// subject is a caller with a tenant, a key and labels.
type subject struct {
	tenant, key string
	labels      map[string]string
}

func (s subject) Allows(string) bool  { return true }
func (s subject) RouteTenant() string { return s.tenant }
func (s subject) RouteKey() string    { return s.key }
func (s subject) RouteLabel(n string) (string, bool) {
	v, ok := s.labels[n]
	return v, ok
}

// withRoutes returns a router over model "m": default target on provider
// "stable", and the given routes, each with one target on a provider named
// after the route.
func withRoutes(t *testing.T, reg *observe.Registry, routes ...Route) *Router {
	t.Helper()
	for i := range routes {
		if routes[i].Targets == nil {
			routes[i].Targets = []Target{{Provider: &scripted{name: routes[i].Name}, Model: "new", Weight: 1}}
		}
	}
	m := fast(Model{Name: "m", Targets: []Target{{Provider: &scripted{name: "stable"}, Model: "old", Weight: 1}}, Routes: routes})
	return New([]Model{m}, Options{Metrics: reg})
}

// via invokes model m for caller (nil: none) with headers h and returns
// the provider that served and the route named on the call.
func via(t *testing.T, r *Router, caller pipeline.Caller, h http.Header) (string, string) {
	t.Helper()
	call := chatCall("m", false)
	call.Caller, call.Header = caller, h
	s, err := r.Invoke(context.Background(), call)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	s.Close()
	return call.Provider, call.Route
}

func TestRouteByHeader(t *testing.T) {
	reg := observe.NewRegistry()
	r := withRoutes(t, reg, Route{Name: "b", Match: Match{Header: "X-Llmgw-Variant", HeaderValue: "b"}})
	for _, tt := range []struct {
		h           http.Header
		prov, route string
	}{
		{http.Header{"X-Llmgw-Variant": {"b"}}, "b", "b"},
		{http.Header{"X-Llmgw-Variant": {"a"}}, "stable", ""},
		{http.Header{"X-Llmgw-Variant": {"B"}}, "stable", ""},
		{nil, "stable", ""},
	} {
		if p, rt := via(t, r, nil, tt.h); p != tt.prov || rt != tt.route {
			t.Errorf("headers %v: served by %q route %q, want %q %q", tt.h, p, rt, tt.prov, tt.route)
		}
	}
	if got := testutil.ToFloat64(r.metrics.routes.WithLabelValues("m", "b")); got != 1 {
		t.Errorf("llmgw_route_rule_matches_total{rule=b} = %v, want 1", got)
	}
}

func TestRouteByKeyLabelAndTenant(t *testing.T) {
	r := withRoutes(t, nil,
		Route{Name: "canary", Match: Match{KeyLabels: map[string]string{"env": "canary", "team": "x"}}},
		Route{Name: "acme", Match: Match{Tenants: []string{"acme", "beta"}}},
	)
	for _, tt := range []struct {
		caller pipeline.Caller
		prov   string
	}{
		{subject{labels: map[string]string{"env": "canary", "team": "x"}}, "canary"},
		{subject{labels: map[string]string{"env": "canary"}}, "stable"}, // every label must match
		{subject{labels: map[string]string{"env": "prod", "team": "x"}}, "stable"},
		{subject{tenant: "acme"}, "acme"},
		{subject{tenant: "beta", labels: map[string]string{"env": "canary", "team": "x"}}, "canary"}, // first rule wins
		{subject{tenant: "other"}, "stable"},
		{nil, "stable"},
	} {
		if p, _ := via(t, r, tt.caller, nil); p != tt.prov {
			t.Errorf("caller %+v: served by %q, want %q", tt.caller, p, tt.prov)
		}
	}
}

// All conditions of a match hold together.
func TestRouteConditionsAnd(t *testing.T) {
	r := withRoutes(t, nil, Route{Name: "both", Match: Match{Header: "X-Llmgw-Variant", HeaderValue: "b", Tenants: []string{"acme"}}})
	h := http.Header{"X-Llmgw-Variant": {"b"}}
	if p, _ := via(t, r, subject{tenant: "acme"}, h); p != "both" {
		t.Errorf("both conditions: served by %q", p)
	}
	if p, _ := via(t, r, subject{tenant: "other"}, h); p != "stable" {
		t.Errorf("header only: served by %q", p)
	}
	if p, _ := via(t, r, subject{tenant: "acme"}, nil); p != "stable" {
		t.Errorf("tenant only: served by %q", p)
	}
}

// A 5 % route takes about 5 % of keys: over n fixed keys, within six
// standard deviations of the binomial count (deterministic: the keys are
// fixed, so the count is the same on every run). The same key always
// goes the same way, and a key taken at 5 % is still taken at 20 %.
func TestRoutePercentSticky(t *testing.T) {
	const n, p = 4000, 0.05
	r5 := withRoutes(t, nil, Route{Name: "canary", Match: Match{Tenants: []string{"acme"}}, Percent: 5})
	r20 := withRoutes(t, nil, Route{Name: "canary", Match: Match{Tenants: []string{"acme"}}, Percent: 20})
	in := 0
	for i := range n {
		c := subject{tenant: "acme", key: fmt.Sprintf("key-%d", i)}
		first, _ := via(t, r5, c, nil)
		if again, _ := via(t, r5, c, nil); again != first {
			t.Fatalf("key %d served by %q then %q", i, first, again)
		}
		if first == "canary" {
			in++
			if at20, _ := via(t, r20, c, nil); at20 != "canary" {
				t.Errorf("key %d in the 5 %% share but not in the 20 %%", i)
			}
		}
	}
	mean, sd := n*p, math.Sqrt(n*p*(1-p))
	if math.Abs(float64(in)-mean) > 6*sd {
		t.Errorf("%d of %d keys taken, want %.0f ± %.0f", in, n, mean, 6*sd)
	}
	// Another tenant never enters the share, whatever its key.
	for i := range 200 {
		if p, _ := via(t, r5, subject{tenant: "other", key: fmt.Sprintf("key-%d", i)}, nil); p != "stable" {
			t.Fatalf("tenant other served by %q", p)
		}
	}
}

// Without a key, the sticky header stands for the caller.
func TestRoutePercentStickyHeader(t *testing.T) {
	r := withRoutes(t, nil, Route{Name: "canary", Percent: 50, Match: Match{Header: "X-Llmgw-Variant", HeaderValue: "x"}})
	in := 0
	for i := range 400 {
		h := http.Header{"X-Llmgw-Variant": {"x"}, "X-Llmgw-Sticky": {fmt.Sprintf("user-%d", i)}}
		first, _ := via(t, r, nil, h)
		for range 3 {
			if again, _ := via(t, r, nil, h); again != first {
				t.Fatalf("user %d served by %q then %q", i, first, again)
			}
		}
		if first == "canary" {
			in++
		}
	}
	if in < 140 || in > 260 { // 200 ± 6 sd (10)
		t.Errorf("%d of 400 users taken at 50 %%", in)
	}
}

// A route's targets have breakers of their own, kept by a new router on
// the same Health; the model's fallbacks serve when they all fail.
func TestRouteTargetsHealthAndFallbacks(t *testing.T) {
	c := newClock()
	h := NewHealth()
	reg := observe.NewRegistry()
	canary := &scripted{name: "canary", errs: []error{e503, e503, e503}}
	stable := &scripted{name: "stable"}
	fb := &scripted{name: "fb"}
	pol := BreakerPolicy{ConsecutiveFailures: 3, Cooldown: time.Minute}
	build := func() *Router {
		m := fast(Model{Name: "m", Retry: Retry{MaxAttempts: 3}, Breaker: pol, Fallbacks: []string{"f"},
			// The default target is the same provider and upstream
			// model as the route's: their health is still apart.
			Targets: []Target{{Provider: canary, Model: "new", Weight: 1}, {Provider: stable, Model: "old", Weight: 1}},
			Routes: []Route{{Name: "beta", Match: Match{Tenants: []string{"acme"}},
				Targets: []Target{{Provider: canary, Model: "new", Weight: 1}}}}})
		f := fast(Model{Name: "f", Targets: []Target{{Provider: fb, Model: "fb", Weight: 1}}})
		r := New([]Model{m, f}, Options{Now: c.Now, Health: h, Metrics: reg})
		r.Activate()
		return r
	}
	r1 := build()
	call := chatCall("m", false)
	call.Caller = subject{tenant: "acme"}
	s, err := r1.Invoke(context.Background(), call)
	if err != nil || served(t, s) != "fb@fb" {
		t.Fatalf("every route target failing: err %v, want the fallback to serve", err)
	}
	st := r1.Status()[0]
	if st.Routes[0].Targets[0].State != "open" || st.Targets[0].State != "closed" {
		t.Fatalf("route target %s, default target on the same upstream %s; want open, closed", st.Routes[0].Targets[0].State, st.Targets[0].State)
	}
	r2 := build()
	if st := r2.Status()[0]; st.Routes[0].Targets[0].State != "open" || st.Routes[0].Targets[0].Failures != 3 {
		t.Fatalf("after a reload the route target is %+v, want open with 3 failures", st.Routes[0].Targets[0])
	}
	want := `
# HELP llmgw_breaker_state Circuit breaker state of each target: 0 closed, 1 half-open, 2 open.
# TYPE llmgw_breaker_state gauge
llmgw_breaker_state{model="f",provider="fb",target="fb#0"} 0
llmgw_breaker_state{model="m",provider="canary",target="new#0"} 0
llmgw_breaker_state{model="m",provider="canary",target="new#beta/0"} 2
llmgw_breaker_state{model="m",provider="stable",target="old#1"} 0
`
	if err := testutil.GatherAndCompare(reg.Gatherer(), strings.NewReader(want), "llmgw_breaker_state"); err != nil {
		t.Error(err)
	}
	// A reload that drops the route forgets its health and its series.
	if got := testutil.ToFloat64(r2.metrics.routes.WithLabelValues("m", "beta")); got != 1 {
		t.Errorf("matches of beta = %v, want 1", got)
	}
	r3 := New([]Model{fast(Model{Name: "m", Targets: []Target{{Provider: stable, Model: "old", Weight: 1}}})}, Options{Now: c.Now, Health: h, Metrics: reg})
	r3.Activate()
	if h.Len() != 1 {
		t.Errorf("health of %d targets kept, want 1", h.Len())
	}
	if n := testutil.CollectAndCount(r3.metrics.routes); n != 0 {
		t.Errorf("%d route series left after the route was removed", n)
	}
}

// Admission bounds a call's cost over every target that may serve it: a
// route's targets are among them, the model's and its fallbacks' too.
func TestEachTargetIncludesRouteTargets(t *testing.T) {
	m := Model{Name: "m", Fallbacks: []string{"f"}, Targets: []Target{{Provider: named("a"), Model: "old", Weight: 1}},
		Routes: []Route{{Name: "r", Percent: 5, Targets: []Target{{Provider: named("b"), Model: "new", Weight: 1}}}}}
	f := Model{Name: "f", Targets: []Target{{Provider: named("c"), Model: "fb", Weight: 1}},
		Routes: []Route{{Name: "fr", Percent: 5, Targets: []Target{{Provider: named("d"), Model: "fb2", Weight: 1}}}}}
	r := New([]Model{m, f}, Options{})
	var got []string
	r.EachTarget("m", nil, func(p, up string) bool { got = append(got, p+"/"+up); return true })
	if want := []string{"a/old", "b/new", "c/fb", "d/fb2"}; !slices.Equal(got, want) {
		t.Errorf("targets %v, want %v", got, want)
	}
}
