package router_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/observe"
	"github.com/llmgw/llmgw/internal/pipeline"
	protocol "github.com/llmgw/llmgw/internal/protocol/openai"
	"github.com/llmgw/llmgw/internal/provider"
	"github.com/llmgw/llmgw/internal/provider/openai"
	"github.com/llmgw/llmgw/internal/provider/providertest"
	"github.com/llmgw/llmgw/internal/router"
	"github.com/llmgw/llmgw/internal/router/faulttest"
)

// upstream is a fake OpenAI API behind a fault proxy, as a provider.
type upstream struct {
	proxy *faulttest.Proxy
	p     *openai.Provider
}

func newUpstream(t *testing.T, name string, f faulttest.Fault) *upstream {
	t.Helper()
	fake := providertest.NewOpenAI(t)
	px := faulttest.New(t, fake.URL)
	px.Set(f)
	p, err := openai.New(openai.Config{Name: name, Type: openai.TypeOpenAI, BaseURL: px.URL, APIKey: "sk-test",
		HTTPClient: provider.NewHTTPClient(provider.ClientOptions{ConnectTimeout: time.Second})})
	if err != nil {
		t.Fatal(err)
	}
	return &upstream{proxy: px, p: p}
}

const streamBody = `{"model":"m","stream":true,"messages":[{"role":"user","content":"hello faulty world"}]}`

func call() *pipeline.Call {
	c := pipeline.NewChatCall(protocol.Protocol, []byte(streamBody), protocol.DecodeChatRequest)
	c.Model, c.Stream = "m", true
	return c
}

// drain reads a stream to its end and returns the bytes of its chunks.
func drain(s llm.Stream) ([]byte, error) {
	defer s.Close()
	var out []byte
	for {
		c, err := s.Recv()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, c.Raw...)
	}
}

func targets(us ...*upstream) []router.Target {
	var ts []router.Target
	for _, u := range us {
		ts = append(ts, router.Target{Provider: u.p, Model: "gpt-4o-mini", Weight: 1})
	}
	return ts
}

func TestThousandRequestsWithOneHealthyTarget(t *testing.T) {
	healthy := newUpstream(t, "healthy", faulttest.Fault{})
	faulty := []*upstream{
		newUpstream(t, "reset", faulttest.Fault{Kind: faulttest.Reset}),
		newUpstream(t, "hang", faulttest.Fault{Kind: faulttest.Hang}),
		newUpstream(t, "drip", faulttest.Fault{Kind: faulttest.Drip, Delay: 10 * time.Millisecond}),
		newUpstream(t, "slow", faulttest.Fault{Kind: faulttest.Latency, Delay: 2 * time.Second}),
		newUpstream(t, "storm429", faulttest.Fault{Kind: faulttest.Status, Status: 429, Header: http.Header{"Retry-After": {"1"}}}),
		newUpstream(t, "burst5xx", faulttest.Fault{Kind: faulttest.Status, Status: 502}),
	}
	// The deadline is generous: on a loaded machine a request's attempts on
	// failing targets take time, and every request must still succeed.
	const deadline = 15 * time.Second
	m := router.Model{Name: "m", Targets: targets(append(faulty, healthy)...),
		Retry:       router.Retry{MaxAttempts: 8, BaseBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond},
		Timeouts:    router.Timeouts{FirstToken: 500 * time.Millisecond, StreamIdle: 2 * time.Second},
		Breaker:     router.BreakerPolicy{ConsecutiveFailures: 3, Cooldown: 300 * time.Millisecond, HalfOpenProbes: 1},
		AllOpenWait: time.Second}
	reg := observe.NewRegistry()
	r := router.New([]router.Model{m}, router.Options{Metrics: reg})

	const n, workers = 1000, 16
	var next, failed atomic.Int64
	var maxAttempts, late atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for next.Add(1) <= n {
				ctx, cancel := context.WithTimeout(context.Background(), deadline)
				start := time.Now()
				c := call()
				s, err := r.Invoke(ctx, c)
				var body []byte
				if err == nil {
					body, err = drain(s)
				}
				if time.Since(start) > deadline+time.Second {
					late.Add(1)
				}
				cancel()
				if err != nil || !bytes.Contains(body, []byte("world")) {
					if failed.Add(1) == 1 {
						t.Errorf("request failed: %v (body %q)", err, body)
					}
				}
				for old := maxAttempts.Load(); int64(c.Attempts) > old && !maxAttempts.CompareAndSwap(old, int64(c.Attempts)); old = maxAttempts.Load() {
				}
			}
		})
	}
	wg.Wait()
	if f := failed.Load(); f != 0 {
		t.Errorf("%d of %d requests failed; targets %+v", f, n, r.Status())
		mfs, _ := reg.Gatherer().Gather()
		for _, mf := range mfs {
			if mf.GetName() == "llmgw_upstream_attempts_total" {
				for _, m := range mf.GetMetric() {
					t.Logf("%v %v", m.GetLabel(), m.GetCounter().GetValue())
				}
			}
		}
	}
	if a := maxAttempts.Load(); a > 8 {
		t.Errorf("a request made %d attempts, more than max_attempts 8", a)
	}
	if l := late.Load(); l != 0 {
		t.Errorf("%d requests outlived their deadline", l)
	}
	for _, u := range faulty {
		if u.proxy.Accepted() == 0 {
			t.Errorf("faulty target %s never tried: the faults were not exercised", u.p.Name())
		}
	}
	retries := testutil.ToFloat64(mustCounter(t, reg, "llmgw_upstream_retries_total"))
	if retries == 0 {
		t.Error("no retries counted")
	}
}

// mustCounter finds the single-series total of a metric in reg.
func mustCounter(t *testing.T, reg *observe.Registry, name string) *sumCollector {
	t.Helper()
	return &sumCollector{t: t, reg: reg, name: name}
}

func TestBreakerOpensAndRecoversOverTCP(t *testing.T) {
	a := newUpstream(t, "a", faulttest.Fault{Kind: faulttest.Status, Status: 500})
	b := newUpstream(t, "b", faulttest.Fault{})
	clk := &manual{now: time.Unix(1_700_000_000, 0)}
	reg := observe.NewRegistry()
	r := router.New([]router.Model{{Name: "m", Balancing: router.RoundRobin, Targets: targets(a, b),
		Retry:   router.Retry{MaxAttempts: 3, BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond},
		Breaker: router.BreakerPolicy{ConsecutiveFailures: 3, Cooldown: time.Minute, HalfOpenProbes: 1}}},
		router.Options{Metrics: reg, Now: clk.Now})
	state := func() string { return r.Status()[0].Targets[0].State }
	send := func() {
		t.Helper()
		s, err := r.Invoke(context.Background(), call())
		if err == nil {
			_, err = drain(s)
		}
		if err != nil {
			t.Fatalf("request failed: %v", err)
		}
	}
	for i := 0; state() != "open"; i++ {
		if i == 20 {
			t.Fatal("breaker of the failing target never opened")
		}
		send()
	}
	if g := testutil.ToFloat64(gauge(t, reg, "a")); g != 2 {
		t.Errorf("llmgw_breaker_state for a = %v, want 2 (open)", g)
	}
	seen := a.proxy.Accepted()
	for range 10 {
		send()
	}
	if got := a.proxy.Accepted(); got != seen {
		t.Errorf("open breaker let %d requests through", got-seen)
	}

	a.proxy.Set(faulttest.Fault{})
	clk.Add(time.Minute)
	if state() != "half_open" {
		t.Fatalf("state %s after the cooldown, want half_open", state())
	}
	for i := 0; state() != "closed"; i++ {
		if i == 10 {
			t.Fatal("breaker never closed after the target recovered")
		}
		send()
	}
	if got := a.proxy.Accepted(); got == seen {
		t.Error("recovered target got no traffic")
	}
	if g := testutil.ToFloat64(gauge(t, reg, "a")); g != 0 {
		t.Errorf("llmgw_breaker_state for a = %v, want 0 (closed)", g)
	}
}

func TestAttemptsBoundedAndBackoffObserved(t *testing.T) {
	a := newUpstream(t, "a", faulttest.Fault{Kind: faulttest.Status, Status: 503})
	b := newUpstream(t, "b", faulttest.Fault{Kind: faulttest.Status, Status: 503})
	clk := &manual{now: time.Unix(1_700_000_000, 0)}
	const base = 20 * time.Millisecond
	r := router.New([]router.Model{{Name: "m", Targets: targets(a, b),
		Retry:       router.Retry{MaxAttempts: 3, BaseBackoff: base, MaxBackoff: time.Second},
		Breaker:     router.BreakerPolicy{ConsecutiveFailures: 5, Cooldown: time.Hour},
		AllOpenWait: 10 * time.Millisecond}},
		router.Options{Now: clk.Now, Rand: func() float64 { return 0.99 }})

	// One request alone: three attempts, the retries after backoffs of
	// 0.99*base and 0.99*2*base.
	c := call()
	_, err := r.Invoke(context.Background(), c)
	if llm.AsError(err).Kind != llm.KindUpstreamUnavailable || c.Attempts != 3 {
		t.Fatalf("err %v after %d attempts", err, c.Attempts)
	}
	times := append(a.proxy.Times(), b.proxy.Times()...)
	slices.SortFunc(times, func(x, y time.Time) int { return x.Compare(y) })
	if len(times) != 3 {
		t.Fatalf("%d upstream requests, want 3", len(times))
	}
	for i, want := range []time.Duration{99 * base / 100, 2 * 99 * base / 100} {
		if gap := times[i+1].Sub(times[i]); gap < want {
			t.Errorf("retry %d came %v after the previous attempt, before its backoff of %v", i+1, gap, want)
		}
	}

	// Many requests: once the breakers open, no more traffic at all.
	const n, workers = 100, 4
	var wg sync.WaitGroup
	var over atomic.Int64
	var next atomic.Int64
	for range workers {
		wg.Go(func() {
			for next.Add(1) <= n {
				c := call()
				if _, err := r.Invoke(context.Background(), c); err == nil || c.Attempts > 3 {
					over.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if over.Load() != 0 {
		t.Errorf("%d requests succeeded or went over 3 attempts", over.Load())
	}
	// Each breaker trips after 5 failures; at most one more attempt per
	// worker can be in flight on it when it does.
	if total := a.proxy.Accepted() + b.proxy.Accepted(); total > 2*(5+workers) {
		t.Errorf("%d upstream requests for %d client requests: a retry storm", total, n+1)
	}
}

func TestFirstTokenTimeoutFailsOverOverTCP(t *testing.T) {
	for _, f := range []faulttest.Fault{
		{Kind: faulttest.Hang},
		{Kind: faulttest.Drip, Delay: 10 * time.Millisecond},
		{Kind: faulttest.Latency, Delay: time.Second},
	} {
		a := newUpstream(t, "a", f)
		b := newUpstream(t, "b", faulttest.Fault{})
		r := router.New([]router.Model{{Name: "m", Balancing: router.RoundRobin, Targets: targets(a, b),
			Timeouts: router.Timeouts{FirstToken: 100 * time.Millisecond}}}, router.Options{})
		// The watchdog fails the test rather than hang it if the
		// first-token timer is broken.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c := call()
		s, err := r.Invoke(ctx, c)
		if err != nil {
			t.Fatalf("fault %d: the client saw %v", f.Kind, err)
		}
		body, err := drain(s)
		if err != nil || !bytes.Contains(body, []byte(`"faulty "`)) || !bytes.Contains(body, []byte(`"finish_reason":"stop"`)) {
			t.Errorf("fault %d: incomplete stream (%d bytes), err %v", f.Kind, len(body), err)
		}
		if c.Attempts != 2 || c.Provider != "b" || a.proxy.Accepted() != 1 {
			t.Errorf("fault %d: %d attempts, served by %s, a accepted %d", f.Kind, c.Attempts, c.Provider, a.proxy.Accepted())
		}
	}
}

func TestClientLatencyWithinDeadline(t *testing.T) {
	hang := newUpstream(t, "hang", faulttest.Fault{Kind: faulttest.Hang})
	drip := newUpstream(t, "drip", faulttest.Fault{Kind: faulttest.Drip, Delay: 30 * time.Millisecond})
	slow := newUpstream(t, "slow", faulttest.Fault{Kind: faulttest.Latency, Delay: 5 * time.Second})
	// The slack covers a loaded machine; what it rules out is waiting for
	// a target: the slow one answers after 5s, the others never (the
	// first-token timeout is 10s).
	const slack = time.Second
	tests := []struct {
		name     string
		ctx      time.Duration // the request's deadline; 0: none
		total    time.Duration // the model's total timeout
		deadline time.Duration
	}{
		{"request deadline", 300 * time.Millisecond, 0, 300 * time.Millisecond},
		{"model total timeout", 0, 250 * time.Millisecond, 250 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := router.New([]router.Model{{Name: "m", Targets: targets(hang, drip, slow),
				Retry:    router.Retry{MaxAttempts: 10, BaseBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond},
				Timeouts: router.Timeouts{FirstToken: 10 * time.Second, Total: tt.total}}}, router.Options{})
			ctx := context.Background()
			if tt.ctx > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.ctx)
				defer cancel()
			}
			start := time.Now()
			s, err := r.Invoke(ctx, call())
			if err == nil {
				_, err = drain(s)
			}
			took := time.Since(start)
			if took > tt.deadline+slack {
				t.Errorf("answered after %v, deadline %v", took, tt.deadline)
			}
			if e := llm.AsError(err); e.Kind != llm.KindUpstreamTimeout && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v, want upstream_timeout", err)
			}
		})
	}
}

// A target that cannot be connected to (its port closed) fails over like
// any failure before the first chunk. Connect timeouts themselves belong to
// each provider's HTTP client (providers[].connect_timeout); a connection
// accepted but never answered is bounded by the first-token timeout, as
// TestFirstTokenTimeoutFailsOverOverTCP shows with the Hang fault.
func TestUnreachableTargetFailsOver(t *testing.T) {
	gone := newUpstream(t, "gone", faulttest.Fault{})
	gone.proxy.Close()
	ok := newUpstream(t, "ok", faulttest.Fault{})
	r := router.New([]router.Model{{Name: "m", Balancing: router.RoundRobin, Targets: targets(gone, ok)}}, router.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := call()
	s, err := r.Invoke(ctx, c)
	if err == nil {
		_, err = drain(s)
	}
	if err != nil || c.Attempts != 2 || c.Provider != "ok" {
		t.Errorf("err %v after %d attempts, served by %q", err, c.Attempts, c.Provider)
	}
	if st := r.Status()[0].Targets[0]; st.Failures != 1 {
		t.Errorf("unreachable target: %+v, want one failure", st)
	}
}
