package router

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/llm"
)

func TestFirstChunkAfterTimerFailsOver(t *testing.T) {
	tests := []struct {
		name     string
		timeouts Timeouts
	}{
		{"first token", Timeouts{FirstToken: 10 * time.Millisecond}},
		{"total", Timeouts{Total: 10 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &scripted{name: "a", late: true}
			b := &scripted{name: "b"}
			r := New([]Model{fast(Model{Name: "m", Balancing: RoundRobin, Targets: []Target{
				{Provider: a, Model: "x", Weight: 1, Timeouts: tt.timeouts}, {Provider: b, Model: "x", Weight: 1}}})}, Options{})
			call := chatCall("m", true)
			s, err := r.Invoke(watchdog(t), call)
			if err != nil {
				t.Fatal(err)
			}
			// The chunk a sent as its timer fired must not reach the client.
			if got := served(t, s); got != "x@b" || call.Attempts != 2 {
				t.Errorf("served %s after %d attempts, want x@b after 2", got, call.Attempts)
			}
			if st := r.Status()[0].Targets[0]; st.Failures != 1 || st.Successes != 0 || st.Inflight != 0 {
				t.Errorf("target a: %+v, want one failure", st)
			}
		})
	}
}

func TestCredentialsRefusedFailOver(t *testing.T) {
	e401 := &llm.Error{Kind: llm.KindUpstream, UpstreamStatus: 401}
	e403 := &llm.Error{Kind: llm.KindUpstream, UpstreamStatus: 403}
	for _, refused := range []error{e401, e403} {
		// The other target serves; the refusing one counts a failure and
		// its breaker opens.
		a := &scripted{name: "a", errs: []error{refused, refused, refused}}
		b := &scripted{name: "b"}
		r := New([]Model{fast(Model{Name: "m", Balancing: RoundRobin, Breaker: BreakerPolicy{ConsecutiveFailures: 1, Cooldown: time.Hour},
			Targets: []Target{{Provider: a, Model: "x", Weight: 1}, {Provider: b, Model: "x", Weight: 1}}})}, Options{})
		call := chatCall("m", true)
		s, err := r.Invoke(context.Background(), call)
		if err != nil {
			t.Fatalf("%v: %v", refused, err)
		}
		if got := served(t, s); got != "x@b" || call.Attempts != 2 {
			t.Errorf("%v: served %s after %d attempts", refused, got, call.Attempts)
		}
		st := r.Status()[0].Targets
		if st[0].State != "open" || st[0].Failures != 1 || st[0].Attempts != 1 || st[1].Successes != 1 {
			t.Errorf("%v: targets %+v", refused, st)
		}

		// Never the same target twice: one attempt, then the fallback.
		c := &scripted{name: "c", errs: []error{refused, refused, refused}}
		r = New([]Model{
			fast(Model{Name: "m", Fallbacks: []string{"fb"}, Targets: []Target{{Provider: c, Model: "x", Weight: 1}}}),
			fast(Model{Name: "fb", Targets: []Target{{Provider: &scripted{name: "fb"}, Model: "f", Weight: 1}}}),
		}, Options{})
		call = chatCall("m", true)
		s, err = r.Invoke(context.Background(), call)
		if err != nil {
			t.Fatalf("%v: %v", refused, err)
		}
		if got := served(t, s); got != "f@fb" || c.count() != 1 {
			t.Errorf("%v: served %s after %d calls to the refusing target", refused, got, c.count())
		}
	}
}

func TestTotalTimeoutCapsBackoff(t *testing.T) {
	a := &scripted{name: "a", errs: []error{e503, e503, e503}}
	const total = 100 * time.Millisecond
	r := New([]Model{{Name: "m", Retry: Retry{MaxAttempts: 3, BaseBackoff: time.Second, MaxBackoff: time.Second},
		Timeouts: Timeouts{Total: total}, Targets: []Target{{Provider: a, Model: "x", Weight: 1}}}},
		Options{Rand: func() float64 { return 0.99 }})
	start := time.Now()
	_, err := r.Invoke(context.Background(), chatCall("m", false)) // no deadline of its own
	took := time.Since(start)
	// A backoff of 990ms does not fit in the total: the last error at once.
	// The slack is for a loaded machine; the sleep ruled out is 990ms.
	if took > total+600*time.Millisecond || llm.AsError(err).UpstreamStatus != 503 || a.count() != 1 {
		t.Errorf("err %v after %v and %d attempts, want the 503 within the %v total", err, took, a.count(), total)
	}
}

// countingClock is a manual clock that signals every reading.
type countingClock struct {
	*clock
	reads chan struct{}
}

func (c *countingClock) Now() time.Time {
	select {
	case c.reads <- struct{}{}:
	default:
	}
	return c.clock.Now()
}

func TestAllOpenWaitPollsWhileProbesAreOut(t *testing.T) {
	clk := &countingClock{clock: newClock(), reads: make(chan struct{}, 1)}
	entered, release := make(chan struct{}), make(chan struct{})
	p := &gated{scripted: scripted{name: "a", errs: []error{e503}}, entered: entered, release: release, gate: 1}
	r := New([]Model{{Name: "m", Retry: Retry{MaxAttempts: 1}, AllOpenWait: 5 * time.Second,
		Breaker: BreakerPolicy{ConsecutiveFailures: 1, Cooldown: time.Minute, HalfOpenProbes: 1},
		Targets: []Target{{Provider: p, Model: "x", Weight: 1}}}}, Options{Now: clk.Now})
	if _, err := r.Invoke(context.Background(), chatCall("m", false)); err == nil {
		t.Fatal("first call should fail and open the breaker")
	}
	clk.Add(time.Minute) // half-open: one probe

	probe := make(chan error, 1)
	go func() {
		s, err := r.Invoke(watchdog(t), chatCall("m", false))
		if err == nil {
			s.Close()
		}
		probe <- err
	}()
	<-entered // the only probe is out: no target, no recovery time known
	drain := func() {
		for len(clk.reads) > 0 {
			<-clk.reads
		}
	}
	drain()
	waiting := make(chan error, 1)
	go func() {
		s, err := r.Invoke(watchdog(t), chatCall("m", false))
		if err == nil {
			s.Close()
		}
		waiting <- err
	}()
	// Two readings of the clock: the request found no target, then looked
	// again after a poll. Returning 503 at once reads it once.
	for range 2 {
		select {
		case <-clk.reads:
		case err := <-waiting:
			t.Fatalf("request waiting for the probe ended early: %v", err)
		case <-time.After(5 * time.Second):
			t.Fatal("request neither polled nor ended")
		}
	}
	close(release)
	if err := <-probe; err != nil {
		t.Fatalf("probe: %v", err)
	}
	if err := <-waiting; err != nil {
		t.Fatalf("request waiting for the probe: %v", err)
	}
	if p.count() != 3 {
		t.Errorf("%d calls, want 3 (failure, probe, the waiting request)", p.count())
	}
}

// gated is scripted, but call number gate (from 0) signals entered and
// waits for release before answering.
type gated struct {
	scripted
	entered, release chan struct{}
	gate             int
}

func (g *gated) Chat(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error) {
	if g.count() == g.gate {
		close(g.entered)
		<-g.release
	}
	return g.scripted.Chat(ctx, req)
}

func TestTargetTimeoutsOverrideModel(t *testing.T) {
	tests := []struct {
		name string
		tm   Timeouts
	}{
		{"first token", Timeouts{FirstToken: 20 * time.Millisecond}},
		{"total", Timeouts{Total: 20 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &scripted{name: "a", hang: true}
			b := &scripted{name: "b"}
			// The model has no timeouts: only a's own end its hang.
			r := New([]Model{fast(Model{Name: "m", Balancing: RoundRobin, Targets: []Target{
				{Provider: a, Model: "x", Weight: 1, Timeouts: tt.tm}, {Provider: b, Model: "x", Weight: 1}}})}, Options{})
			call := chatCall("m", true)
			s, err := r.Invoke(watchdog(t), call)
			if err != nil {
				t.Fatal(err)
			}
			if got := served(t, s); got != "x@b" || call.Attempts != 2 {
				t.Errorf("served %s after %d attempts", got, call.Attempts)
			}
		})
	}
	got := Timeouts{FirstToken: 1}.or(Timeouts{FirstToken: 2, StreamIdle: 3, Total: 4})
	if got != (Timeouts{FirstToken: 1, StreamIdle: 3, Total: 4}) {
		t.Errorf("or = %+v", got)
	}
}

func TestObserveLatency(t *testing.T) {
	tg := &target{health: &health{}}
	steps := []struct {
		d      time.Duration
		failed bool
		want   float64
	}{
		{100 * time.Millisecond, false, 0.1},                 // first sample taken as it is
		{200 * time.Millisecond, false, 0.1 + 0.3*(0.2-0.1)}, // 0.13
		{0, true, 0.13 + 0.3*(0.26-0.13)},                    // a failure counts as twice the average
		{time.Hour, true, 0.169 + 0.3*(30-0.169)},            // capped at 30s
	}
	for i, s := range steps {
		tg.observeLatency(s.d, s.failed)
		if got := tg.latency(); math.Abs(got-s.want) > 1e-9 {
			t.Errorf("step %d: ewma %v, want %v", i, got, s.want)
		}
	}
}
