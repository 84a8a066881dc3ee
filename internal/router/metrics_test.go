package router_test

import (
	"context"
	"io"
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

// chunks streams its chunks one Recv at a time, as an upstream stream does
// (not an answer in hand).
type chunks struct{ n int }

func (c *chunks) Recv() (*llm.Chunk, error) {
	if c.n == 0 {
		return nil, io.EOF
	}
	c.n--
	return &llm.Chunk{Choices: []llm.Choice{{Message: llm.Message{Role: "assistant"}}}}, nil
}
func (c *chunks) Usage() llm.Usage { return llm.Usage{} }
func (c *chunks) Close() error     { return nil }

// streaming answers every call with a stream of three chunks; unary with
// an answer in hand.
type streaming struct{ name string }

func (s streaming) Name() string { return s.name }
func (streaming) Chat(context.Context, *llm.ChatRequest) (llm.Stream, error) {
	return &chunks{n: 3}, nil
}

type unary struct{ name string }

func (u unary) Name() string { return u.name }
func (unary) Chat(context.Context, *llm.ChatRequest) (llm.Stream, error) {
	return llm.NewSliceStream(nil, &llm.Chunk{}), nil
}

// durationSamples is the number of observations of
// llmgw_upstream_duration_seconds with the labels provider, model, outcome.
func durationSamples(t *testing.T, reg *observe.Registry, provider, model, outcome string) uint64 {
	t.Helper()
	mfs, err := reg.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "llmgw_upstream_duration_seconds" {
			continue
		}
		for _, m := range mf.Metric {
			if hasLabel(m, [2]string{"provider", provider}) && hasLabel(m, [2]string{"model", model}) && hasLabel(m, [2]string{"outcome", outcome}) {
				return m.GetHistogram().GetSampleCount()
			}
		}
	}
	return 0
}

// An upstream attempt's duration is observed once: when the answer is in
// hand for a non-streamed one, when the stream ends for a stream, at the
// failure for a failed one, labelled by the configured model (the
// wildcard's pattern, not the requested name).
func TestUpstreamDuration(t *testing.T) {
	reg := observe.NewRegistry()
	r := router.New([]router.Model{
		{Name: "s", Targets: []router.Target{{Provider: streaming{"sp"}, Model: "x", Weight: 1}}},
		{Name: "u/*", Targets: []router.Target{{Provider: unary{"up"}, Model: "*", Weight: 1}}},
		{Name: "f", Retry: router.Retry{MaxAttempts: 1}, Targets: []router.Target{{Provider: failing{"fp"}, Model: "x", Weight: 1}}, AllOpenWait: time.Millisecond},
	}, router.Options{Metrics: reg})

	c := call()
	c.Model = "s"
	s, err := r.Invoke(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Recv(); err != nil {
		t.Fatal(err)
	}
	if n := durationSamples(t, reg, "sp", "s", "success"); n != 0 {
		t.Errorf("stream under way: %d samples, want 0", n)
	}
	if _, err := drain(s); err != nil {
		t.Fatal(err)
	}
	if n := durationSamples(t, reg, "sp", "s", "success"); n != 1 {
		t.Errorf("stream ended: %d samples, want 1", n)
	}

	c = call()
	c.Model, c.Stream = "u/anything-the-client-sends", false
	s, err = r.Invoke(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if n := durationSamples(t, reg, "up", "u/*", "success"); n != 1 {
		t.Errorf("answer in hand: %d samples, want 1 (before the stream is read)", n)
	}
	if _, err := drain(s); err != nil {
		t.Fatal(err)
	}
	if n := durationSamples(t, reg, "up", "u/*", "success"); n != 1 {
		t.Errorf("answer read: %d samples, want still 1", n)
	}

	c = call()
	c.Model = "f"
	if _, err := r.Invoke(context.Background(), c); err == nil {
		t.Fatal("want a failure")
	}
	if n := durationSamples(t, reg, "fp", "f", "unavailable"); n != 1 {
		t.Errorf("failed attempt: %d samples, want 1", n)
	}
	if n, err := testutil.GatherAndCount(reg.Gatherer(), "llmgw_upstream_duration_seconds"); err != nil || n != 4 {
		t.Errorf("%d series (%v), want 4: a success series per target and the failure", n, err)
	}
}
