package health

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/llmgw/llmgw/internal/observe"
	"github.com/llmgw/llmgw/internal/router"
)

// manual is a clock moved by hand.
type manual struct{ t atomic.Int64 }

func (m *manual) Now() time.Time      { return time.Unix(0, m.t.Load()) }
func (m *manual) Add(d time.Duration) { m.t.Add(int64(d)) }
func newManual() *manual              { m := &manual{}; m.t.Store(time.Unix(1_800_000_000, 0).UnixNano()); return m }
func target(state string, weight int) router.TargetStatus {
	return router.TargetStatus{Provider: "p", Model: "x", Weight: weight, State: state}
}

func models(states ...[]router.TargetStatus) []router.ModelStatus {
	out := make([]router.ModelStatus, len(states))
	for i, ts := range states {
		out[i] = router.ModelStatus{Name: "m" + string(rune('0'+i)), Targets: ts}
	}
	return out
}

func TestModels(t *testing.T) {
	ok := []router.TargetStatus{target("open", 1), target("closed", 1)}
	half := []router.TargetStatus{target("half_open", 1)}
	dead := []router.TargetStatus{target("open", 1), target("cooling_down", 1), target("closed", 0)}
	tests := []struct {
		name  string
		ms    []router.ModelStatus
		want  Status
		unavl []string
	}{
		{"all served", models(ok, half), OK, []string{}},
		{"one without a target", models(ok, dead), Degraded, []string{"m1"}},
		{"none", models(dead, dead), Unavailable, []string{"m0", "m1"}},
		{"no models", nil, OK, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Models(tt.ms)
			if got.Status != tt.want || strings.Join(got.Unavailable, ",") != strings.Join(tt.unavl, ",") || got.Unavailable == nil {
				t.Errorf("Models = %+v, want %s %v", got, tt.want, tt.unavl)
			}
		})
	}
}

func TestReadinessStatus(t *testing.T) {
	up := func(context.Context) error { return nil }
	down := func(context.Context) error { return errors.New("down") }
	healthy := models([]router.TargetStatus{target("closed", 1)})
	tests := []struct {
		name string
		st   State
		want Status
	}{
		{"all well", State{Models: healthy, Dependencies: []Dependency{{Name: "store", Required: true, Probe: up}}}, OK},
		{"draining", State{Draining: true, Models: healthy}, Unavailable},
		{"required store down", State{Models: healthy, Dependencies: []Dependency{{Name: "store", Required: true, Probe: down}}}, Unavailable},
		{"optional redis down", State{Models: healthy, Dependencies: []Dependency{{Name: "store", Required: true, Probe: up}, {Name: "redis", Probe: down}}}, Degraded},
		{"required redis down", State{Models: healthy, Dependencies: []Dependency{{Name: "redis", Required: true, Probe: down}}}, Unavailable},
		{"some models without a target", State{Models: models([]router.TargetStatus{target("closed", 1)}, []router.TargetStatus{target("open", 1)})}, Degraded},
		{"no model has a target", State{Models: models([]router.TargetStatus{target("open", 1)})}, Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := observe.NewRegistry()
			r := NewReadiness(Options{Metrics: reg})
			rep := r.Report(tt.st)
			if rep.Status != tt.want {
				b, _ := json.Marshal(rep)
				t.Fatalf("status %s, want %s: %s", rep.Status, tt.want, b)
			}
			wantOverall := 1.0
			if tt.want == Unavailable {
				wantOverall = 0
			}
			if got := testutil.ToFloat64(r.gauge.WithLabelValues("overall")); got != wantOverall {
				t.Errorf("llmgw_ready{dependency=overall} = %v, want %v", got, wantOverall)
			}
		})
	}
}

func TestReadinessCachesProbes(t *testing.T) {
	clk := newManual()
	var n atomic.Int32
	dep := Dependency{Name: "store", Required: true, Probe: func(context.Context) error { n.Add(1); return nil }}
	r := NewReadiness(Options{TTL: time.Second, Now: clk.Now})
	st := State{Dependencies: []Dependency{dep}}
	for range 100 {
		r.Report(st)
	}
	if n.Load() != 1 {
		t.Fatalf("100 reports within the TTL asked the store %d times, want 1", n.Load())
	}
	clk.Add(999 * time.Millisecond)
	r.Report(st)
	if n.Load() != 1 {
		t.Fatal("asked again before the TTL")
	}
	clk.Add(time.Millisecond)
	r.Report(st)
	if n.Load() != 2 {
		t.Fatalf("asked %d times once the TTL passed, want 2", n.Load())
	}
	// Draining is read at each call, never from the cache.
	if rep := r.Report(State{Draining: true, Dependencies: []Dependency{dep}}); rep.Status != Unavailable {
		t.Fatalf("draining reported %s from the cache", rep.Status)
	}
}

func TestReadinessBoundedAndParallel(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	hang := func(ctx context.Context) error { <-release; return nil } // ignores its context
	slow := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	r := NewReadiness(Options{Timeout: 50 * time.Millisecond})
	rep := r.Report(State{Dependencies: []Dependency{
		{Name: "store", Required: true, Probe: hang},
		{Name: "redis", Probe: slow},
	}})
	if rep.Status != Unavailable {
		t.Fatalf("status %s", rep.Status)
	}
	for _, name := range []string{"store", "redis"} {
		if dr := rep.Checks[name].(DependencyReport); dr.Error != "timeout" {
			t.Errorf("%s: %+v, want a timeout", name, dr)
		}
	}
}

func TestReadinessBodyHasNoSecrets(t *testing.T) {
	const dsn = "postgres://llmgw:hunter2-secret@db.internal:5432/llmgw"
	r := NewReadiness(Options{})
	rep := r.Report(State{Dependencies: []Dependency{{
		Name: "store", Required: true, Detail: map[string]any{"driver": "postgres"},
		Probe: func(context.Context) error { return errors.New("failed to connect to " + dsn) },
	}}})
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "hunter2") || strings.Contains(string(b), "db.internal") {
		t.Fatalf("the report leaks the DSN: %s", b)
	}
	if !strings.Contains(string(b), `"store":{"status":"unavailable","required":true,`) {
		t.Fatalf("unexpected shape: %s", b)
	}
}
