package health

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/observe"
)

// observed collects what a Checker reports.
type observed struct {
	mu   sync.Mutex
	seen []string
}

func (o *observed) add(p string, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := p + ":up"
	if err != nil {
		s = p + ":down"
	}
	o.seen = append(o.seen, s)
}

func (o *observed) list() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.seen...)
}

func TestCheckerSchedule(t *testing.T) {
	defer goleak.VerifyNone(t)
	clk := newManual()
	var calls atomic.Int32
	probes := []Probe{{Provider: "a", Interval: 30 * time.Second, Timeout: time.Second,
		Check: func(context.Context) error { calls.Add(1); return nil }}}
	c := NewChecker(CheckerOptions{Probes: func() []Probe { return probes }, Now: clk.Now, Rescan: time.Hour})
	defer c.Close()
	if wait := c.Round(); wait != 30*time.Second {
		t.Fatalf("first round: wait %v, want 30s", wait)
	}
	c.wg.Wait()
	if calls.Load() != 1 {
		t.Fatalf("first round ran %d checks, want 1 at once", calls.Load())
	}
	clk.Add(29 * time.Second)
	if wait := c.Round(); wait != time.Second {
		t.Fatalf("wait %v, want 1s", wait)
	}
	c.wg.Wait()
	if calls.Load() != 1 {
		t.Fatal("checked before the interval")
	}
	clk.Add(time.Second)
	c.Round()
	c.wg.Wait()
	if calls.Load() != 2 {
		t.Fatalf("%d checks after the interval, want 2", calls.Load())
	}
}

func TestCheckerResultsAndMetrics(t *testing.T) {
	defer goleak.VerifyNone(t)
	var failing atomic.Bool
	failing.Store(true)
	reg := observe.NewRegistry()
	obs := &observed{}
	probes := []Probe{{Provider: "a", Interval: time.Minute, Timeout: time.Second, Check: func(context.Context) error {
		if failing.Load() {
			return &llm.Error{Kind: llm.KindUpstreamUnavailable, Provider: "a", UpstreamStatus: 503, Message: "the upstream is unavailable",
				Err: errors.New("https://user:pass@example.invalid/v1/models")}
		}
		return nil
	}}}
	cur := probes
	var mu sync.Mutex
	c := NewChecker(CheckerOptions{Probes: func() []Probe { mu.Lock(); defer mu.Unlock(); return cur }, Observe: obs.add, Metrics: reg})
	defer c.Close()
	c.CheckNow()
	res := c.Results()["a"]
	if res.Up || res.UpstreamStatus != 503 || res.Error != "the upstream is unavailable" {
		t.Fatalf("result %+v", res)
	}
	if got := testutil.ToFloat64(c.up.WithLabelValues("a")); got != 0 {
		t.Fatalf("llmgw_provider_up = %v, want 0", got)
	}
	failing.Store(false)
	c.CheckNow()
	if !c.Results()["a"].Up || testutil.ToFloat64(c.up.WithLabelValues("a")) != 1 {
		t.Fatalf("after a good check: %+v", c.Results())
	}
	if got := obs.list(); len(got) != 2 || got[0] != "a:down" || got[1] != "a:up" {
		t.Fatalf("observed %v", got)
	}
	if n := testutil.CollectAndCount(c.duration, "llmgw_provider_check_duration_seconds"); n != 1 {
		t.Fatalf("duration series: %d", n)
	}
	// A configuration without the check: its series and result go.
	mu.Lock()
	cur = nil
	mu.Unlock()
	c.Round()
	if n := testutil.CollectAndCount(c.up, "llmgw_provider_up"); n != 0 || c.Results() != nil {
		t.Fatalf("provider no longer checked: %d series, results %v", n, c.Results())
	}
}

func TestCheckerTimeout(t *testing.T) {
	defer goleak.VerifyNone(t)
	obs := &observed{}
	c := NewChecker(CheckerOptions{Observe: obs.add, Probes: func() []Probe {
		return []Probe{{Provider: "slow", Interval: time.Minute, Timeout: 20 * time.Millisecond,
			Check: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }}}
	}})
	defer c.Close()
	c.CheckNow()
	if r := c.Results()["slow"]; r.Up || r.Error != "the check timed out" {
		t.Fatalf("result %+v", r)
	}
}

// TestCheckerLoopAndClose drives the background loop through its After
// channel and checks that Close stops it and the checks under way.
func TestCheckerLoopAndClose(t *testing.T) {
	defer goleak.VerifyNone(t)
	hits := make(chan struct{}, 10)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits <- struct{}{}
		<-r.Context().Done() // hangs until the check is canceled
	}))
	defer up.Close()
	after := make(chan time.Time)
	c := NewChecker(CheckerOptions{
		After: func(time.Duration) <-chan time.Time { return after },
		Probes: func() []Probe {
			return []Probe{{Provider: "p", Interval: time.Second, Timeout: time.Hour, Check: func(ctx context.Context) error {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, up.URL, nil)
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					resp.Body.Close()
				}
				return err
			}}}
		},
	})
	c.Start()
	<-hits // the first round's check reached the upstream
	c.Close()
	up.CloseClientConnections()
	http.DefaultClient.CloseIdleConnections()
}
