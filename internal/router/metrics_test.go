package router_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/observe"
	"github.com/llmgw/llmgw/internal/router"
)

// failing answers every call with 503.
type failing struct{ name string }

func (f failing) Name() string { return f.name }
func (failing) Chat(context.Context, *llm.ChatRequest) (llm.Stream, error) {
	return nil, &llm.Error{Kind: llm.KindUpstreamUnavailable, UpstreamStatus: 503}
}

func TestBreakerGaugeFollowsClockAndRouter(t *testing.T) {
	clk := &manual{now: time.Unix(1_700_000_000, 0)}
	reg := observe.NewRegistry()
	r := router.New([]router.Model{{Name: "m", Retry: router.Retry{MaxAttempts: 1},
		Breaker:     router.BreakerPolicy{ConsecutiveFailures: 1, Cooldown: time.Minute},
		Targets:     []router.Target{{Provider: failing{"old"}, Model: "x", Weight: 1}},
		AllOpenWait: time.Millisecond}}, router.Options{Metrics: reg, Now: clk.Now})
	if _, err := r.Invoke(context.Background(), call()); err == nil {
		t.Fatal("want a failure")
	}
	old := gauge(t, reg, "old")
	if g := testutil.ToFloat64(old); g != 2 {
		t.Fatalf("gauge %v after the breaker tripped, want 2 (open)", g)
	}
	// No traffic: the scrape itself sees the cooldown over.
	clk.Add(time.Minute)
	if g := testutil.ToFloat64(old); g != 1 {
		t.Errorf("gauge %v after the cooldown, want 1 (half-open)", g)
	}

	// A new router on the registry: the old one's targets are no longer
	// reported, the new one's are.
	router.New([]router.Model{{Name: "n", Targets: []router.Target{{Provider: failing{"new"}, Model: "y", Weight: 1}}}},
		router.Options{Metrics: reg, Now: clk.Now})
	if n, err := testutil.GatherAndCount(reg.Gatherer(), "llmgw_breaker_state"); err != nil || n != 1 {
		t.Errorf("%d breaker series after the new router (%v), want 1", n, err)
	}
	if g := testutil.ToFloat64(&sumCollector{t: t, reg: reg, name: "llmgw_breaker_state", label: [2]string{"model", "n"}}); g != 0 {
		t.Errorf("new target's gauge %v, want 0 (closed)", g)
	}
}
