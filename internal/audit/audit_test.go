package audit_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/llmgw/llmgw/internal/audit"
	"github.com/llmgw/llmgw/internal/auth"
	"github.com/llmgw/llmgw/internal/store"
	"github.com/llmgw/llmgw/internal/store/pgtest"
	"github.com/llmgw/llmgw/internal/store/postgres"
	"github.com/llmgw/llmgw/internal/store/sqlite"
)

// backend is a store and a way to run SQL on its database behind its
// back, as someone with access to the database would.
type backend struct {
	name  string
	store store.Store
	exec  func(t *testing.T, query string, args ...any)
	ph    func(i int) string // the placeholder of the i-th argument
}

func backends(t *testing.T) []backend {
	path := filepath.Join(t.TempDir(), "llmgw.db")
	lite, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lite.Close() })
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	out := []backend{{name: "sqlite", store: lite, ph: func(int) string { return "?" },
		exec: func(t *testing.T, q string, args ...any) {
			t.Helper()
			if _, err := db.ExecContext(t.Context(), q, args...); err != nil {
				t.Fatal(err)
			}
		}}}
	dsn := pgtest.FreshSchema(t)
	pg, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	out = append(out, backend{name: "postgres", store: pg, ph: func(i int) string { return fmt.Sprintf("$%d", i) },
		exec: func(t *testing.T, q string, args ...any) {
			t.Helper()
			if _, err := conn.Exec(t.Context(), q, args...); err != nil {
				t.Fatal(err)
			}
		}})
	return out
}

var chainKey = auth.Derive([]byte("a server secret of at least thirty-two characters"), auth.PurposeAuditChain)

func newLog(t *testing.T, s store.Store) *audit.Log {
	l := audit.New(s.Audit(), chainKey, audit.Options{})
	t.Cleanup(func() { l.Close() })
	return l
}

func record(t *testing.T, l *audit.Log, n int) {
	t.Helper()
	for i := range n {
		err := l.Record(t.Context(), audit.Event{Actor: "admin_token", Action: "key.update", TenantID: "tn_1",
			Target: fmt.Sprintf("key_%d", i), Source: "10.1.2.3", RequestID: fmt.Sprintf("req-%d", i),
			Before: map[string]any{"name": fmt.Sprintf("k%d", i)}, After: map[string]any{"name": fmt.Sprintf("k%d-new", i)}})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func verify(t *testing.T, l *audit.Log) audit.Result {
	t.Helper()
	res, err := l.Verify(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestVerifyWholeLog(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			l := newLog(t, b.store)
			if res := verify(t, l); !res.OK || res.Records != 0 {
				t.Fatalf("empty log: %+v", res)
			}
			record(t, l, 1200) // more than one verification batch
			if res := verify(t, l); !res.OK || res.Records != 1200 {
				t.Fatalf("verify = %+v, want ok with 1200 records", res)
			}
			// Another key does not verify the chain: the seal is keyed.
			other := audit.New(b.store.Audit(), auth.Derive([]byte("another secret of at least thirty-two chars"), auth.PurposeAuditChain), audit.Options{})
			defer other.Close()
			if res := verify(t, other); res.OK || res.BrokenAt != 1 {
				t.Fatalf("verify under another key = %+v, want broken at 1", res)
			}
		})
	}
}

// Editing a row in the database directly is found, whatever is edited.
func TestVerifyFindsEditedRow(t *testing.T) {
	edits := []struct {
		name, set string
		value     any
		wantAt    int64
		reason    string
	}{
		{"after", "after", `{"name":"k2-forged"}`, 3, "changed"},
		{"actor", "actor", "key:someone-else", 3, "changed"},
		{"time", "at", nil, 3, "changed"},
		{"count", "count", int64(7), 3, "changed"},
	}
	for _, b := range backends(t) {
		for _, e := range edits {
			t.Run(b.name+"/"+e.name, func(t *testing.T) {
				// A fresh log per edit: the schema is the backend's, so the
				// log is emptied first.
				b.exec(t, `DELETE FROM audit`)
				b.exec(t, `UPDATE audit_head SET seq = 0, hash = NULL`)
				l := newLog(t, b.store)
				record(t, l, 5)
				if res := verify(t, l); !res.OK {
					t.Fatalf("before the edit: %+v", res)
				}
				v := e.value
				if e.set == "at" {
					if b.name == "sqlite" {
						v = time.Now().Add(-time.Hour).UnixMicro()
					} else {
						v = time.Now().Add(-time.Hour)
					}
				}
				b.exec(t, `UPDATE audit SET `+e.set+` = `+b.ph(1)+` WHERE seq = 3`, v)
				res := verify(t, l)
				if res.OK || res.BrokenAt != e.wantAt || res.Records != e.wantAt-1 || !strings.Contains(res.Reason, e.reason) {
					t.Fatalf("verify after editing %s = %+v, want broken at %d (%s)", e.set, res, e.wantAt, e.reason)
				}
			})
		}
		t.Run(b.name+"/removed", func(t *testing.T) {
			b.exec(t, `DELETE FROM audit`)
			b.exec(t, `UPDATE audit_head SET seq = 0, hash = NULL`)
			l := newLog(t, b.store)
			record(t, l, 5)
			b.exec(t, `DELETE FROM audit WHERE seq = 2`)
			if res := verify(t, l); res.OK || res.BrokenAt != 2 || !strings.Contains(res.Reason, "missing") {
				t.Fatalf("verify after removing record 2 = %+v", res)
			}
			// Renumbering to hide the gap breaks the link instead.
			b.exec(t, `UPDATE audit SET seq = seq - 1 WHERE seq > 2`)
			if res := verify(t, l); res.OK || res.BrokenAt != 2 || !strings.Contains(res.Reason, "does not follow") {
				t.Fatalf("verify after renumbering = %+v", res)
			}
		})
		t.Run(b.name+"/cut", func(t *testing.T) {
			b.exec(t, `DELETE FROM audit`)
			b.exec(t, `UPDATE audit_head SET seq = 0, hash = NULL`)
			l := newLog(t, b.store)
			record(t, l, 5)
			b.exec(t, `DELETE FROM audit WHERE seq >= 4`)
			if res := verify(t, l); res.OK || res.BrokenAt != 4 || !strings.Contains(res.Reason, "removed from its end") {
				t.Fatalf("verify after cutting the end = %+v", res)
			}
		})
	}
}

func TestRecordRedactsKeys(t *testing.T) {
	s := backends(t)[0].store
	l := newLog(t, s)
	key, _ := auth.NewKeySecret()
	if err := l.Record(t.Context(), audit.Event{Actor: "cli", Action: "key.create", Target: "k",
		After: map[string]any{"key": key, "prefix": key[:auth.DisplayPrefixLen]}}); err != nil {
		t.Fatal(err)
	}
	page, err := l.List(t.Context(), store.AuditFilter{}, store.ListOptions{})
	if err != nil || len(page.Items) != 1 {
		t.Fatal(page, err)
	}
	after := string(page.Items[0].After)
	if strings.Contains(after, key[auth.DisplayPrefixLen:]) || !strings.Contains(after, "sk-llmgw-[redacted]") ||
		!strings.Contains(after, `"prefix":"`+key[:auth.DisplayPrefixLen]+`"`) {
		t.Fatalf("stored after = %s", after)
	}
	if res := verify(t, l); !res.OK {
		t.Fatalf("verify = %+v", res)
	}
}

// A flood of failures is a record per source and prefix per window, and
// the pairs counted are bounded.
func TestAuthFailuresAggregated(t *testing.T) {
	s := backends(t)[0].store
	l := audit.New(s.Audit(), chainKey, audit.Options{FailureWindow: time.Hour, MaxFailurePairs: 3})
	defer l.Close()
	for range 1000 {
		l.AuthFailure("10.0.0.1", "sk-llmgw-abcd")
	}
	for range 10 {
		l.AuthFailure("10.0.0.2", "other")
	}
	l.AuthFailure("10.0.0.2", "sk-llmgw-abcd")
	for i := range 50 { // beyond the bound: counted together
		l.AuthFailure(fmt.Sprintf("10.9.0.%d", i), "")
	}
	if err := l.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	page, err := l.List(t.Context(), store.AuditFilter{Action: "auth.failure"}, store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, r := range page.Items {
		got[r.Source+" "+r.Target] = r.Count
	}
	want := map[string]int64{"10.0.0.1 sk-llmgw-abcd": 1000, "10.0.0.2 other": 10, "10.0.0.2 sk-llmgw-abcd": 1, "other ": 50}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("failure records = %v, want %v", got, want)
	}
	// The next window starts empty: nothing more is written.
	if err := l.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if res := verify(t, l); !res.OK || res.Records != 4 {
		t.Fatalf("verify = %+v, want 4 records", res)
	}
}

// Close writes what was counted.
func TestCloseFlushes(t *testing.T) {
	s := backends(t)[0].store
	l := audit.New(s.Audit(), chainKey, audit.Options{FailureWindow: time.Hour})
	l.AuthFailure("10.0.0.1", "")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if seq, _, err := s.Audit().Head(t.Context()); err != nil || seq != 1 {
		t.Fatalf("head after close = %d, %v", seq, err)
	}
}
