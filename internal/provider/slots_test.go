package provider

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/llmgw/llmgw/internal/llm"
)

// holdingUpstream answers each request once release is closed, counting
// the requests it holds at once.
type holdingUpstream struct {
	*httptest.Server
	release        chan struct{}
	arrived        chan struct{}
	now, maxAtOnce atomic.Int64
}

func newHoldingUpstream(t *testing.T, tls bool) *holdingUpstream {
	u := &holdingUpstream{release: make(chan struct{}), arrived: make(chan struct{}, 16)}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := u.now.Add(1)
		for {
			m := u.maxAtOnce.Load()
			if n <= m || u.maxAtOnce.CompareAndSwap(m, n) {
				break
			}
		}
		u.arrived <- struct{}{}
		<-u.release
		u.now.Add(-1)
		_, _ = io.WriteString(w, "ok")
	})
	if tls {
		u.Server = httptest.NewTLSServer(h)
	} else {
		u.Server = httptest.NewServer(h)
	}
	t.Cleanup(u.Close)
	return u
}

func get(c *http.Client, url string) error {
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return CloseEnded(resp.Body)
}

// waitsOf reads a pool's waits as the metrics report them.
func waitsOf(t *testing.T, pools *Pools, metric string) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(pools)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == metric {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("%s not reported", metric)
	return 0
}

// With max_connections 2, three requests at once: two reach the upstream,
// the third waits for one of them to end, then is served; the wait is
// counted. The upstream never holds more than two.
func TestMaxConnectionsBoundsAndWaits(t *testing.T) {
	for _, tls := range []bool{false, true} {
		name := map[bool]string{false: "http", true: "https"}[tls]
		t.Run(name, func(t *testing.T) {
			up := newHoldingUpstream(t, tls)
			c := NewHTTPClient(ClientOptions{MaxConnections: 2, PoolTimeout: time.Minute})
			if tls {
				c.Transport.(*h1Transport).fallback.TLSClientConfig = up.Client().Transport.(*http.Transport).TLSClientConfig
			}
			pools := NewPools()
			pools.Add("up", c)
			var wg sync.WaitGroup
			errs := make(chan error, 3)
			for range 3 {
				wg.Add(1)
				go func() { defer wg.Done(); errs <- get(c, up.URL) }()
			}
			<-up.arrived
			<-up.arrived
			sl := c.Transport.(*h1Transport).slots
			deadline := time.Now().Add(10 * time.Second)
			for sl.waits.Load() != 1 { // the third request is on its way to the wait
				if time.Now().After(deadline) {
					t.Fatal("the third request never waited")
				}
				time.Sleep(time.Millisecond)
			}
			if n := up.now.Load(); n != 2 {
				t.Fatalf("%d requests at the upstream, want 2", n)
			}
			close(up.release)
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Error(err)
				}
			}
			if m := up.maxAtOnce.Load(); m != 2 {
				t.Errorf("the upstream held %d at once, want 2", m)
			}
			if w := waitsOf(t, pools, "llmgw_upstream_connection_waits_total"); w != 1 {
				t.Errorf("waits %v, want 1", w)
			}
			if w := waitsOf(t, pools, "llmgw_upstream_connection_wait_timeouts_total"); w != 0 {
				t.Errorf("timeouts %v, want 0", w)
			}
		})
	}
}

// A request that finds no connection free within pool_timeout fails with
// ErrPoolExhausted, which is the upstream being unavailable; the slot of
// the request in progress is given back when its body is closed.
func TestMaxConnectionsTimeout(t *testing.T) {
	up := newHoldingUpstream(t, false)
	c := NewHTTPClient(ClientOptions{MaxConnections: 1, PoolTimeout: 20 * time.Millisecond})
	pools := NewPools()
	pools.Add("up", c)
	first := make(chan error, 1)
	go func() { first <- get(c, up.URL) }()
	<-up.arrived
	err := get(c, up.URL)
	if !errors.Is(err, ErrPoolExhausted) {
		t.Fatalf("second request: %v, want ErrPoolExhausted", err)
	}
	var le *llm.Error
	if !errors.As(TransportError("up", err), &le) || le.Kind != llm.KindUpstreamUnavailable {
		t.Errorf("TransportError: %v, want upstream unavailable", TransportError("up", err))
	}
	if w := waitsOf(t, pools, "llmgw_upstream_connection_wait_timeouts_total"); w != 1 {
		t.Errorf("timeouts %v, want 1", w)
	}
	close(up.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	// The first request's body is closed: its slot is free again.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", up.URL, nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("after the slot came back: %v", err)
	}
	resp.Body.Close()
	if n := testutil.CollectAndCount(pools, "llmgw_upstream_connection_waits_total"); n != 1 {
		t.Errorf("%d waits series, want 1", n)
	}
}

// Without max_connections nothing waits and no wait metric is reported.
func TestNoMaxConnectionsNoWaitMetrics(t *testing.T) {
	c := NewHTTPClient(ClientOptions{})
	if c.Transport.(*h1Transport).slots != nil {
		t.Fatal("slots without max_connections")
	}
	pools := NewPools()
	pools.Add("up", c)
	if n := testutil.CollectAndCount(pools, "llmgw_upstream_connection_waits_total"); n != 0 {
		t.Errorf("%d waits series without a bound", n)
	}
}
