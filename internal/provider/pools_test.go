package provider

import (
	"context"
	"crypto/tls"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// poolSeries gathers p and returns its series as "provider/state" -> value.
func poolSeries(t *testing.T, p *Pools) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(p); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var provider, state string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "provider":
					provider = l.GetValue()
				case "state":
					state = l.GetValue()
				}
			}
			got[provider+"/"+state] = m.GetGauge().GetValue()
		}
	}
	return got
}

func wantSeries(t *testing.T, what string, p *Pools, want map[string]float64) {
	t.Helper()
	if got := poolSeries(t, p); !maps.Equal(got, want) {
		t.Errorf("%s: series %v, want %v", what, got, want)
	}
}

// slowServer answers each request once release is closed, after telling
// arrived.
func slowServer(t *testing.T) (srv *httptest.Server, arrived *sync.WaitGroup, release chan struct{}) {
	t.Helper()
	arrived = &sync.WaitGroup{}
	release = make(chan struct{})
	srv, _ = newCountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Done()
		<-release
		echo(w, r)
	}))
	return srv, arrived, release
}

// N requests in flight hold N connections in use; once they have ended
// the N connections are idle; retired, the pool closes them and its series
// go.
func TestPoolsReportOpenIdleInUse(t *testing.T) {
	const n = 3
	srv, arrived, release := slowServer(t)
	arrived.Add(n)
	_, c := newH1Client(t, ClientOptions{})
	p := NewPools()
	if !p.Add("local", c) {
		t.Fatal("the client's pool was not added")
	}
	wantSeries(t, "before any request", p, map[string]float64{"local/open": 0})
	var done sync.WaitGroup
	for range n {
		done.Add(1)
		go func() {
			defer done.Done()
			if _, err := post(context.Background(), c, srv.URL, "x"); err != nil {
				t.Error(err)
			}
		}()
	}
	arrived.Wait()
	wantSeries(t, "requests in flight", p, map[string]float64{"local/open": n, "local/in_use": n, "local/idle": 0})
	close(release)
	done.Wait()
	wantSeries(t, "requests ended", p, map[string]float64{"local/open": n, "local/in_use": 0, "local/idle": n})
	Retire(c)
	wantSeries(t, "retired", p, map[string]float64{})
}

// A retired pool still counts the connection of a request in flight, and
// closes it instead of pooling it when the request ends.
func TestPoolsRetiredPoolCountsItsLastConnections(t *testing.T) {
	srv, arrived, release := slowServer(t)
	arrived.Add(1)
	tr, c := newH1Client(t, ClientOptions{})
	p := NewPools()
	p.Add("local", c)
	errc := make(chan error, 1)
	go func() {
		_, err := post(context.Background(), c, srv.URL, "x")
		errc <- err
	}()
	arrived.Wait()
	Retire(c)
	wantSeries(t, "retired with a request in flight", p, map[string]float64{"local/open": 1, "local/in_use": 1, "local/idle": 0})
	close(release)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if n := tr.idleCount(); n != 0 {
		t.Errorf("a retired pool kept %d idle connections", n)
	}
	wantSeries(t, "retired, request ended", p, map[string]float64{})
}

// Two snapshots' pools of one provider are one set of series, their sum;
// a pool that was garbage collected leaves it.
func TestPoolsSumPoolsOfOneProvider(t *testing.T) {
	srv, _ := newCountingServer(t, http.HandlerFunc(echo))
	p := NewPools()
	_, old := newH1Client(t, ClientOptions{})
	_, cur := newH1Client(t, ClientOptions{})
	p.Add("local", old)
	p.Add("local", cur)
	p.Add("other", NewHTTPClient(ClientOptions{})) // collected below
	for _, c := range []*http.Client{old, cur} {
		if _, err := post(context.Background(), c, srv.URL, "x"); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	wantSeries(t, "two pools", p, map[string]float64{"local/open": 2, "local/in_use": 0, "local/idle": 2})
	Retire(old)
	wantSeries(t, "one retired", p, map[string]float64{"local/open": 1, "local/in_use": 0, "local/idle": 1})
	if p.Add("replaced", &http.Client{Transport: http.DefaultTransport}) {
		t.Error("a client with another transport was added")
	}
}

// TLS upstreams go through net/http's Transport: their connections are
// counted open, and no idle or in_use series is made up for them.
func TestPoolsCountTLSConnectionsOpen(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(echo))
	t.Cleanup(srv.Close)
	roots := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	c := NewHTTPClient(ClientOptions{TLSConfig: &tls.Config{RootCAs: roots}})
	p := NewPools()
	p.Add("hosted", c)
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	wantSeries(t, "after a TLS request", p, map[string]float64{"hosted/open": 1})
	// net/http's Transport pools the connection from its own goroutine:
	// close it from the server's side and wait for the client to see it.
	srv.CloseClientConnections()
	eventually(t, "the TLS connection to be counted closed", func() bool { return poolSeries(t, p)["hosted/open"] == 0 })
	wantSeries(t, "after the connection closed", p, map[string]float64{"hosted/open": 0})
}
