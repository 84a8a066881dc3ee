package gateway

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/observe"
)

// connections returns llmgw_upstream_connections{provider=up} by state.
func connections(t *testing.T, reg *observe.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "llmgw_upstream_connections" {
			continue
		}
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
			if provider != "up" {
				t.Errorf("series of provider %q", provider)
			}
			got[state] = m.GetGauge().GetValue()
		}
	}
	return got
}

// get makes one request through the snapshot's client of provider up.
func get(t *testing.T, snap *Snapshot, url string) {
	t.Helper()
	resp, err := snap.pools["up"].Get(url)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// Every snapshot's pool is reported in the process's registry under its
// provider's name: two live snapshots are one series, their sum, and a
// closed snapshot's pool leaves it. The mock has no pool.
func TestSnapshotPoolsInTheRegistry(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }))
	t.Cleanup(srv.Close)
	cfg, err := config.Parse([]byte(`
providers:
  - {name: up, type: openai_compatible, base_url: "`+srv.URL+`/v1"}
  - {name: mock, type: mock}
models:
  - {name: m, targets: [{provider: up, model: x}]}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	reg := observe.NewRegistry()
	old, err := Compile(cfg, Options{Metrics: reg})
	if err != nil {
		t.Fatal(err)
	}
	get(t, old, srv.URL)
	cur, err := Compile(cfg, Options{Metrics: reg}) // a reload: registering again must not panic
	if err != nil {
		t.Fatal(err)
	}
	get(t, cur, srv.URL)
	if n, err := testutil.GatherAndCount(reg.Gatherer(), "llmgw_upstream_connections"); err != nil || n != 3 {
		t.Errorf("%d series (%v), want 3: open, idle and in_use of provider up", n, err)
	}
	if got := connections(t, reg); got["open"] != 2 || got["idle"] != 2 || got["in_use"] != 0 {
		t.Errorf("two snapshots: %v, want open 2, idle 2, in_use 0", got)
	}
	old.Close()
	if got := connections(t, reg); got["open"] != 1 || got["idle"] != 1 || got["in_use"] != 0 {
		t.Errorf("old snapshot closed: %v, want open 1, idle 1, in_use 0", got)
	}
	cur.Close()
	if got := connections(t, reg); len(got) != 0 {
		t.Errorf("both closed: %v, want no series", got)
	}
}

// With the process's Clients, a client kept across snapshots is one pool,
// counted once, and Close leaves it to the process; a snapshot activated
// without the provider retires its pool, which leaves the metric.
func TestKeptClientPoolCountedOnceAndRetiredOnActivation(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }))
	t.Cleanup(srv.Close)
	parse := func(y string) *config.Config {
		cfg, err := config.Parse([]byte(y), nil)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	with := parse(`
providers:
  - {name: up, type: openai_compatible, base_url: "` + srv.URL + `/v1"}
models:
  - {name: m, targets: [{provider: up, model: x}]}
`)
	without := parse(`
providers:
  - {name: mock, type: mock}
models:
  - {name: m, targets: [{provider: mock, model: x}]}
`)
	reg := observe.NewRegistry()
	clients := NewClients(0)
	opts := Options{Metrics: reg, Clients: clients}
	old, err := Compile(with, opts)
	if err != nil {
		t.Fatal(err)
	}
	old.Activate()
	get(t, old, srv.URL)
	cur, err := Compile(with, opts)
	if err != nil {
		t.Fatal(err)
	}
	cur.Activate()
	old.Close()
	if cur.pools["up"] != old.pools["up"] {
		t.Fatal("the reload did not keep the provider's client")
	}
	if got := connections(t, reg); got["open"] != 1 || got["idle"] != 1 {
		t.Errorf("one kept client, two snapshots: %v, want open 1, idle 1", got)
	}
	next, err := Compile(without, opts)
	if err != nil {
		t.Fatal(err)
	}
	next.Activate()
	if got := connections(t, reg); len(got) != 0 {
		t.Errorf("provider removed: %v, want no series", got)
	}
}
