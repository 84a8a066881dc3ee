package router

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/llmgw/llmgw/internal/observe"
)

// A breaker opened on one router stays open on the next router built on the
// same Health when the target is kept (even with a new weight and breaker
// policy), is gone when the target was removed in between, and starts
// closed when the provider's identity changed.
func TestHealthKeptAcrossRouters(t *testing.T) {
	c := newClock()
	h := NewHealth()
	reg := observe.NewRegistry()
	a := &scripted{name: "a", errs: []error{e503, e503, e503}}
	b := &scripted{name: "b"}
	pol := BreakerPolicy{ConsecutiveFailures: 3, Cooldown: time.Minute}
	model := func(weight int, identity string, ts ...Target) Model {
		m := fast(Model{Name: "m", Retry: Retry{MaxAttempts: 1}, Breaker: pol})
		m.Targets = append([]Target{{Provider: a, Model: "x", Weight: weight, Identity: identity}}, ts...)
		return m
	}
	opts := Options{Now: c.Now, Health: h, Metrics: reg}
	r1 := New([]Model{model(1, "id1")}, opts)
	r1.Activate()
	for range 3 {
		_, _ = r1.Invoke(context.Background(), chatCall("m", false))
	}
	if st := r1.Status()[0].Targets[0]; st.State != "open" || st.Failures != 3 {
		t.Fatalf("first router: %+v, want open after 3 failures", st)
	}
	// Kept: a new weight and a longer cooldown keep the breaker open, and
	// the counters with it.
	m2 := model(5, "id1", Target{Provider: b, Model: "y", Weight: 1})
	m2.Breaker.Cooldown = 2 * time.Minute
	r2 := New([]Model{m2}, opts)
	r2.Activate()
	st := r2.Status()[0].Targets[0]
	if st.State != "open" || st.Failures != 3 || st.Weight != 5 || st.CooldownUntil == nil || !st.CooldownUntil.Equal(c.Now().Add(time.Minute)) {
		t.Fatalf("kept target on the new router: %+v", st)
	}
	want := `
# HELP llmgw_breaker_state Circuit breaker state of each target: 0 closed, 1 half-open, 2 open.
# TYPE llmgw_breaker_state gauge
llmgw_breaker_state{model="m",provider="a",target="x#0"} 2
llmgw_breaker_state{model="m",provider="b",target="y#1"} 0
`
	if err := testutil.GatherAndCompare(reg.Gatherer(), strings.NewReader(want), "llmgw_breaker_state"); err != nil {
		t.Error(err)
	}
	if s, err := r2.Invoke(context.Background(), chatCall("m", false)); err != nil || served(t, s) != "y@b" || a.count() != 3 {
		t.Fatalf("the open target was called (%d calls) or b did not serve: %v", a.count(), err)
	}
	if h.Len() != 2 {
		t.Errorf("health of %d targets kept, want 2", h.Len())
	}
	// Removed, then back: it starts closed.
	r3 := New([]Model{{Name: "m", Targets: []Target{{Provider: b, Model: "y", Weight: 1}}}}, opts)
	r3.Activate()
	if h.Len() != 1 {
		t.Errorf("after removing a: health of %d targets kept, want 1", h.Len())
	}
	r4 := New([]Model{model(1, "id1")}, opts)
	r4.Activate()
	if st := r4.Status()[0].Targets[0]; st.State != "closed" || st.Failures != 0 {
		t.Fatalf("a target removed and added back: %+v, want a fresh closed breaker", st)
	}
	// A changed identity is a new target.
	for range 3 {
		_, _ = r4.Invoke(context.Background(), chatCall("m", false))
	}
	r5 := New([]Model{model(1, "id2")}, opts)
	r5.Activate()
	if st := r5.Status()[0].Targets[0]; st.State != "closed" {
		t.Fatalf("new identity: %+v, want closed", st)
	}
}

// Activation deletes the counter and histogram series of what the new
// router no longer serves, so that their number stays bounded.
func TestActivateDeletesSeriesOfRemovedTargets(t *testing.T) {
	reg := observe.NewRegistry()
	h := NewHealth()
	a, b := &scripted{name: "a"}, &scripted{name: "b"}
	opts := Options{Health: h, Metrics: reg}
	for i := range 20 {
		p := a
		if i%2 == 1 {
			p = b
		}
		name := "m" + strings.Repeat("x", i)
		r := New([]Model{fast(Model{Name: name, Targets: []Target{{Provider: p, Model: "x", Weight: 1}}})}, opts)
		r.Activate()
		if s, err := r.Invoke(context.Background(), chatCall(name, false)); err != nil {
			t.Fatal(err)
		} else {
			s.Close()
		}
	}
	for _, name := range []string{"llmgw_upstream_attempts_total", "llmgw_upstream_ttft_seconds"} {
		if n, err := testutil.GatherAndCount(reg.Gatherer(), name); err != nil || n != 1 {
			t.Errorf("%s has %d series after 20 configurations, want 1", name, n)
		}
	}
}
