package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/llmgw/llmgw/internal/observe"
	"github.com/llmgw/llmgw/internal/store"
	"github.com/llmgw/llmgw/internal/store/pgtest"
	"github.com/llmgw/llmgw/internal/store/postgres"
	"github.com/llmgw/llmgw/internal/store/sqlite"
)

// opSeries reads, for one driver and op, the number of calls observed in
// llmgw_store_operation_duration_seconds and llmgw_store_errors_total.
func opSeries(t *testing.T, reg *observe.Registry, driver, op string) (calls uint64, errs float64) {
	t.Helper()
	mfs, err := reg.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["driver"] != driver || labels["op"] != op {
				continue
			}
			switch mf.GetName() {
			case "llmgw_store_operation_duration_seconds":
				calls = m.GetHistogram().GetSampleCount()
			case "llmgw_store_errors_total":
				errs = m.GetCounter().GetValue()
			}
		}
	}
	return calls, errs
}

// TestInstrument runs the same operations on both drivers: every call is
// observed under its driver and op; not found, conflict, invalid and
// cancelled calls are not errors; calls on a store that cannot answer are.
func TestInstrument(t *testing.T) {
	for _, tc := range []struct {
		driver string
		open   func(t *testing.T) store.Store
	}{
		{"sqlite", func(t *testing.T) store.Store {
			s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "llmgw.db"))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
		{"postgres", func(t *testing.T) store.Store {
			s, err := postgres.Open(t.Context(), pgtest.FreshSchema(t))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
	} {
		t.Run(tc.driver, func(t *testing.T) {
			raw := tc.open(t)
			reg := observe.NewRegistry()
			s := store.Instrument(raw, tc.driver, reg)
			ctx := context.Background()
			if _, err := s.Tenants().Create(ctx, store.Tenant{Name: "acme"}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Tenants().Create(ctx, store.Tenant{Name: "acme"}); !errors.Is(err, store.ErrConflict) {
				t.Fatalf("second create: %v, want a conflict", err)
			}
			if _, err := s.Tenants().Create(ctx, store.Tenant{}); !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("create without a name: %v, want invalid", err)
			}
			if _, err := s.Tenants().Get(ctx, "acme"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Keys().GetByHash(ctx, []byte("nobody's hash")); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("unknown hash: %v, want not found", err)
			}
			cancelled, cancel := context.WithCancel(ctx)
			cancel()
			if _, err := s.Tenants().List(cancelled, store.ListOptions{}); !errors.Is(err, context.Canceled) {
				t.Fatalf("list with a cancelled context: %v", err)
			}
			if err := s.Ping(ctx); err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				op    string
				calls uint64
			}{{"tenants.create", 3}, {"tenants.get", 1}, {"keys.get_by_hash", 1}, {"tenants.list", 1}, {"ping", 1}, {"changes.head", 0}} {
				if calls, errs := opSeries(t, reg, tc.driver, c.op); calls != c.calls || errs != 0 {
					t.Errorf("%s: %d calls, %v errors; want %d calls, no error", c.op, calls, errs, c.calls)
				}
			}

			// The database goes away under the store.
			if err := raw.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Tenants().Get(ctx, "acme"); err == nil || !store.Failure(err) {
				t.Fatalf("get on a closed store: %v, want a failure", err)
			}
			if _, err := s.Changes().Head(ctx); err == nil {
				t.Fatal("head on a closed store succeeded")
			}
			for _, c := range []struct {
				op    string
				calls uint64
				errs  float64
			}{{"tenants.get", 2, 1}, {"changes.head", 1, 1}, {"tenants.create", 3, 0}} {
				if calls, errs := opSeries(t, reg, tc.driver, c.op); calls != c.calls || errs != c.errs {
					t.Errorf("%s after the close: %d calls, %v errors; want %d, %v", c.op, calls, errs, c.calls, c.errs)
				}
			}
		})
	}
}

func TestFailure(t *testing.T) {
	for err, want := range map[error]bool{
		nil:                                    false,
		fmt.Errorf("x: %w", store.ErrNotFound): false,
		store.ErrConflict:                      false,
		store.ErrInvalid:                       false,
		fmt.Errorf("q: %w", context.Canceled):  false,
		context.DeadlineExceeded:               true,
		errors.New("connection refused"):       true,
	} {
		if got := store.Failure(err); got != want {
			t.Errorf("Failure(%v) = %v, want %v", err, got, want)
		}
	}
}

// BenchmarkInstrument is the per-request lookup of a key, Keys.GetByHash,
// on each driver, as it is and measured: the difference is what
// Instrument costs a call.
func BenchmarkInstrument(b *testing.B) {
	for _, tc := range []struct {
		driver string
		open   func(b *testing.B) store.Store
	}{
		{"sqlite", func(b *testing.B) store.Store {
			s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "llmgw.db"))
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
		{"postgres", func(b *testing.B) store.Store {
			s, err := postgres.Open(b.Context(), pgtest.FreshSchema(b))
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
	} {
		raw := tc.open(b)
		b.Cleanup(func() { raw.Close() })
		ctx := context.Background()
		tn, err := raw.Tenants().Create(ctx, store.Tenant{Name: "acme"})
		if err != nil {
			b.Fatal(err)
		}
		hash := make([]byte, 32)
		hash[0] = 1
		if _, err := raw.Keys().Create(ctx, store.Key{TenantID: tn.ID, Name: "k", Hash: hash, Prefix: "sk-llmgw-abcd"}); err != nil {
			b.Fatal(err)
		}
		for _, v := range []struct {
			name string
			s    store.Store
		}{{"plain", raw}, {"measured", store.Instrument(raw, tc.driver, observe.NewRegistry())}} {
			b.Run(tc.driver+"/"+v.name, func(b *testing.B) {
				b.ReportAllocs()
				keys := v.s.Keys()
				for b.Loop() {
					if _, err := keys.GetByHash(ctx, hash); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
