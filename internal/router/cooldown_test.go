package router

import (
	"context"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/llm"
)

// A day-long Retry-After is honoured up to the model's MaxRetryAfter only,
// on the target and in what the client is told; the target shows as
// cooling down until then, and a reset ends it at once.
func TestRetryAfterCappedShownAndReset(t *testing.T) {
	c := newClock()
	day := &llm.Error{Kind: llm.KindRateLimited, UpstreamStatus: 429, RetryAfter: 24 * time.Hour}
	a := &scripted{name: "a", errs: []error{day, day}}
	m := fast(Model{Name: "m", Retry: Retry{MaxAttempts: 1}, Targets: []Target{{Provider: a, Model: "x", Weight: 1}}})
	r := New([]Model{m}, Options{Now: c.Now})

	_, err := r.Invoke(context.Background(), chatCall("m", false))
	if e := llm.AsError(err); e.Kind != llm.KindUpstreamUnavailable || e.RetryAfter != defaultMaxRetryAfter {
		t.Fatalf("err %v, retry after %v; want 503 with the capped %v", err, e.RetryAfter, defaultMaxRetryAfter)
	}
	st := r.Status()[0].Targets[0]
	if st.State != "cooling_down" || st.CooldownUntil == nil || !st.CooldownUntil.Equal(c.Now().Add(time.Minute)) || st.Share != 0 {
		t.Fatalf("status %+v (until %v), want cooling_down for a minute", st, st.CooldownUntil)
	}
	// No target is ready: the gateway's own 503 carries the capped wait.
	_, err = r.Invoke(context.Background(), chatCall("m", false))
	if e := llm.AsError(err); e.Kind != llm.KindUpstreamUnavailable || e.RetryAfter > time.Minute || a.count() != 1 {
		t.Fatalf("while cooling down: err %v retry after %v after %d calls", err, e.RetryAfter, a.count())
	}
	// Past the cap, the target is tried again (and rate limits again).
	c.Add(time.Minute)
	if st := r.Status()[0].Targets[0]; st.State != "closed" || st.CooldownUntil != nil {
		t.Fatalf("after the cap: %+v", st)
	}
	if _, err := r.Invoke(context.Background(), chatCall("m", false)); a.count() != 2 || llm.AsError(err).RetryAfter != time.Minute {
		t.Fatalf("after the cap: err %v after %d calls", err, a.count())
	}
	// A reset ends the cool-down at once.
	ids := r.Reset(TargetID{Model: "m"})
	if len(ids) != 1 || ids[0] != (TargetID{Model: "m", Provider: "a", UpstreamModel: "x"}) {
		t.Fatalf("reset %v", ids)
	}
	if st := r.Status()[0].Targets[0]; st.State != "closed" || st.CooldownUntil != nil || st.Share != 1 {
		t.Fatalf("after reset: %+v", st)
	}
	s, err := r.Invoke(context.Background(), chatCall("m", false))
	if err != nil {
		t.Fatal(err)
	}
	if got := served(t, s); got != "x@a" {
		t.Errorf("served %s", got)
	}
}

// A Retry-After that trips the breaker keeps it open for the longer of its
// cooldown and the cap, not for the upstream's day; the status says until
// when, and a reset closes it.
func TestBreakerCooldownCappedAndReset(t *testing.T) {
	c := newClock()
	day := &llm.Error{Kind: llm.KindRateLimited, UpstreamStatus: 429, RetryAfter: 24 * time.Hour}
	a := &scripted{name: "a", errs: []error{day}}
	b := &scripted{name: "b"}
	m := fast(Model{Name: "m", Retry: Retry{MaxAttempts: 1},
		Breaker: BreakerPolicy{ConsecutiveFailures: 1, Cooldown: 5 * time.Second},
		Targets: []Target{{Provider: a, Model: "x", Weight: 1}}})
	m.Retry.MaxRetryAfter = 10 * time.Second
	other := fast(Model{Name: "n", Targets: []Target{{Provider: b, Model: "y", Weight: 1}}})
	r := New([]Model{m, other}, Options{Now: c.Now})
	_, err := r.Invoke(context.Background(), chatCall("m", false))
	if e := llm.AsError(err); e.RetryAfter != 10*time.Second {
		t.Fatalf("err %v retry after %v, want 10s", err, e.RetryAfter)
	}
	st := r.Status()[0].Targets[0]
	if st.State != "open" || st.CooldownUntil == nil || !st.CooldownUntil.Equal(c.Now().Add(10*time.Second)) {
		t.Fatalf("status %+v (until %v), want open for 10s", st, st.CooldownUntil)
	}
	// Selectors: a provider or upstream model that is not the target's
	// chooses nothing; the other model's target is left alone.
	if ids := r.Reset(TargetID{Model: "m", Provider: "b"}); len(ids) != 0 {
		t.Fatalf("reset %v", ids)
	}
	if ids := r.Reset(TargetID{Model: "m", UpstreamModel: "y"}); len(ids) != 0 {
		t.Fatalf("reset %v", ids)
	}
	if ids := r.Reset(TargetID{Model: "m", Provider: "a", UpstreamModel: "x"}); len(ids) != 1 {
		t.Fatalf("reset %v", ids)
	}
	if st := r.Status()[0].Targets[0]; st.State != "closed" || st.CooldownUntil != nil {
		t.Fatalf("after reset: %+v", st)
	}
	if ids := r.Reset(TargetID{}); len(ids) != 2 {
		t.Fatalf("reset all: %v", ids)
	}
}
