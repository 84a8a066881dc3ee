package router

import (
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/llm"
)

var (
	checkDown    = &llm.Error{Kind: llm.KindUpstreamUnavailable, UpstreamStatus: 503}
	checkLimited = &llm.Error{Kind: llm.KindRateLimited, UpstreamStatus: 429}
	checkMissing = &llm.Error{Kind: llm.KindUpstream, UpstreamStatus: 404}
)

func checkRouter(c *clock) (*Router, *fake, *fake) {
	a, b := &fake{name: "a"}, &fake{name: "b"}
	pol := BreakerPolicy{ConsecutiveFailures: 2, Cooldown: 10 * time.Second, HalfOpenProbes: 2}
	r := New([]Model{
		{Name: "m1", Breaker: pol, Targets: []Target{{Provider: a, Model: "x", Weight: 1}, {Provider: b, Model: "y", Weight: 1}}},
		{Name: "m2", Breaker: pol, Targets: []Target{{Provider: a, Model: "z", Weight: 1}}},
	}, Options{Now: c.Now})
	return r, a, b
}

// states returns the state of every target, "model/provider".
func states(r *Router) map[string]string {
	out := map[string]string{}
	for _, m := range r.Status() {
		for _, t := range m.Targets {
			out[m.Name+"/"+t.Provider] = t.State
		}
	}
	return out
}

func TestObserveCheckOpensAndCloses(t *testing.T) {
	c := newClock()
	r, _, _ := checkRouter(c)
	r.ObserveCheck("a", checkDown)
	if s := states(r); s["m1/a"] != "closed" {
		t.Fatalf("one failed check of two: %v", s)
	}
	r.ObserveCheck("a", checkDown)
	s := states(r)
	if s["m1/a"] != "open" || s["m2/a"] != "open" || s["m1/b"] != "closed" {
		t.Fatalf("after two failed checks of a: %v; want a's targets open in every model, b's closed", s)
	}
	r.ObserveCheck("a", nil)
	if s := states(r); s["m1/a"] != "open" {
		t.Fatalf("a success closed an open breaker before its cooldown: %v", s)
	}
	c.Add(10 * time.Second)
	if s := states(r); s["m1/a"] != "half_open" {
		t.Fatalf("after the cooldown: %v", s)
	}
	r.ObserveCheck("a", nil)
	if s := states(r); s["m1/a"] != "closed" || s["m2/a"] != "closed" {
		t.Fatalf("a success after checks alone opened the breakers: %v, want closed", s)
	}
}

func TestObserveCheckNeverClosesWhatAttemptsOpened(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(r *Router, b *breaker)
	}{
		{"attempts alone", func(_ *Router, b *breaker) { fail(b); fail(b) }},
		{"an attempt, then a check", func(r *Router, b *breaker) { fail(b); r.ObserveCheck("a", checkDown) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock()
			r, _, _ := checkRouter(c)
			b := r.exact["m1"].targets[0].breaker
			tc.open(r, b)
			if s := b.current(); s != StateOpen {
				t.Fatalf("state %v, want open", s)
			}
			c.Add(10 * time.Second)
			r.ObserveCheck("a", nil)
			if s := b.current(); s != StateHalfOpen {
				t.Fatalf("a check closed a breaker attempts opened: %v, want half_open", s)
			}
			// The probes still decide.
			g1, _ := b.allow()
			g2, _ := b.allow()
			b.record(g1, success, 0)
			b.record(g2, success, 0)
			if s := b.current(); s != StateClosed {
				t.Fatalf("after two good probes: %v", s)
			}
		})
	}
}

func TestObserveCheckSuccessIsNotAnAttemptsSuccess(t *testing.T) {
	c := newClock()
	r, _, _ := checkRouter(c)
	b := r.exact["m1"].targets[0].breaker
	fail(b)
	r.ObserveCheck("a", nil) // must not reset the run of failures
	fail(b)
	if s := b.current(); s != StateOpen {
		t.Fatalf("state %v: a check's success hid an attempt's failure", s)
	}
}

func TestObserveCheckFailureReopensHalfOpen(t *testing.T) {
	c := newClock()
	r, _, _ := checkRouter(c)
	b := r.exact["m1"].targets[0].breaker
	fail(b)
	fail(b)
	c.Add(10 * time.Second)
	r.ObserveCheck("a", checkDown)
	if s := b.current(); s != StateOpen {
		t.Fatalf("a failed check in half-open: %v, want open", s)
	}
	c.Add(10 * time.Second)
	r.ObserveCheck("a", nil)
	if s := b.current(); s != StateHalfOpen {
		t.Fatalf("attempts opened it first: a check must not close it (%v)", s)
	}
}

func TestObserveCheckIgnoresRateLimitsAndClientErrors(t *testing.T) {
	c := newClock()
	r, _, _ := checkRouter(c)
	for range 5 {
		r.ObserveCheck("a", checkLimited)
		r.ObserveCheck("a", checkMissing)
	}
	if s := states(r); s["m1/a"] != "closed" {
		t.Fatalf("429 and 404 to a check opened the breaker: %v", s)
	}
}

// fail records a failed attempt on b.
func fail(b *breaker) {
	gen, _ := b.allow()
	b.record(gen, failure, 0)
}
