package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/llmgw/llmgw/internal/store"
	"github.com/llmgw/llmgw/internal/store/pgtest"
	"github.com/llmgw/llmgw/internal/store/postgres"
	"github.com/llmgw/llmgw/internal/store/storetest"
)

func openDSN(t *testing.T, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.OpenTraced(t.Context(), dsn, issued)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.RunSuite(t, func(t *testing.T) store.Store {
		return openDSN(t, pgtest.FreshSchema(t))
	})
}

// Two stores on one schema stand for two replicas.
func TestShared(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) (store.Store, store.Store) {
		dsn := pgtest.FreshSchema(t)
		return openDSN(t, dsn), openDSN(t, dsn)
	})
}

// Replicas starting together on a fresh database all open it, and each
// migration is applied once.
func TestMigrateConcurrently(t *testing.T) {
	dsn := pgtest.FreshSchema(t)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	stores := make([]*postgres.Store, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			stores[i], errs[i] = postgres.Open(t.Context(), pgtest.WithParam(dsn, "pool_max_conns", "2"))
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("open %d: %v", i, err)
			continue
		}
		stores[i].Close()
	}
	files, err := fs.Glob(os.DirFS("migrations"), "*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("migration files: %v, %v", files, err)
	}
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	var rows, counters int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != len(files) {
		t.Fatalf("schema_migrations has %d rows, want %d", rows, len(files))
	}
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM change_counter`).Scan(&counters); err != nil {
		t.Fatal(err)
	}
	if counters != 1 {
		t.Fatalf("change_counter has %d rows: the first migration ran %d times", counters, counters)
	}
}

// A write through one pool is announced to a listener on another: two
// processes sharing the database.
func TestListen(t *testing.T) {
	dsn := pgtest.FreshSchema(t)
	writer, listener := openDSN(t, dsn), openDSN(t, dsn)
	// A store on another schema of the same database: its writes must not
	// reach this schema's listener.
	other := openDSN(t, pgtest.FreshSchema(t))

	ctx, cancel := context.WithCancel(t.Context())
	got := make(chan int64, 100)
	done := make(chan error, 1)
	go func() { done <- listener.Listen(ctx, func(seq int64) { got <- seq }) }()

	// LISTEN takes effect at some point after the goroutine starts: write
	// until a notification arrives, each from another schema first.
	deadline := time.After(60 * time.Second)
	var seq int64
	for i := 0; seq == 0; i++ {
		if _, err := other.Tenants().Create(t.Context(), store.Tenant{Name: fmt.Sprintf("o%d", i)}); err != nil {
			t.Fatal(err)
		}
		if _, err := writer.Tenants().Create(t.Context(), store.Tenant{Name: fmt.Sprintf("t%d", i)}); err != nil {
			t.Fatal(err)
		}
		select {
		case seq = <-got:
		case <-time.After(200 * time.Millisecond):
		case err := <-done:
			t.Fatalf("Listen returned early: %v", err)
		case <-deadline:
			t.Fatal("no notification within 60s")
		}
	}
	head, err := writer.Changes().Head(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	changes, _, err := listener.Changes().Since(t.Context(), seq-1, 1)
	if err != nil || len(changes) != 1 || changes[0].Seq != seq || seq > head {
		t.Fatalf("notified of %d (head %d): Since gives %+v, %v", seq, head, changes, err)
	}
	// Every number announced belongs to this schema, and they come in
	// order. The other store numbers its changes from 1 as well: ten more
	// writes there, then twelve here, would show as a number going back.
	for i := range 10 {
		if _, err := other.Tenants().Create(t.Context(), store.Tenant{Name: fmt.Sprintf("more%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 12 {
		if _, err := writer.Tenants().Create(t.Context(), store.Tenant{Name: fmt.Sprintf("last%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	head, _ = writer.Changes().Head(t.Context())
	for last := seq; last != head; {
		select {
		case n := <-got:
			if n <= last || n > head {
				t.Fatalf("notified of %d after %d (head %d): not this schema's next change", n, last, head)
			}
			last = n
		case <-deadline:
			t.Fatalf("no notification of the last write (%d)", head)
		}
	}

	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Listen after cancel: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Listen did not return after its context was cancelled")
	}
}

// A DSN that does not parse is refused without quoting it: it may hold a
// password.
func TestOpenBadDSNHidesIt(t *testing.T) {
	_, err := postgres.Open(t.Context(), "postgres://u:hunter2-secret@host:notaport/db")
	if err == nil || !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("bad DSN: %v", err)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error quotes the password: %v", err)
	}
}

// The per-request lookup is served by the hash indexes, whatever the
// table's size: with sequential scans priced out, the plan must still
// find an index path for both the current and the previous hash.
func TestGetByHashUsesIndexes(t *testing.T) {
	dsn := pgtest.FreshSchema(t)
	openDSN(t, dsn)
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	if _, err := conn.Exec(t.Context(), `SET enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(t.Context(), `EXPLAIN `+postgres.GetByHashSQL, []byte("h"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	all := strings.Join(plan, "\n")
	if strings.Contains(all, "Seq Scan") || !strings.Contains(all, "keys_hash_key") || !strings.Contains(all, "keys_prev_hash") {
		t.Fatalf("lookup by hash is not served by the two indexes:\n%s", all)
	}
}

// A budget's seed sums the ledger by one key, team or tenant over a span:
// each is a range scan of its own index, not of the whole ledger.
func TestSpendUsesIndexes(t *testing.T) {
	dsn := pgtest.FreshSchema(t)
	openDSN(t, dsn)
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	if _, err := conn.Exec(t.Context(), `SET enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	from, to := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	for index, f := range map[string]store.SpendFilter{
		"usage_key_at":    {KeyID: "k", From: from, To: to},
		"usage_team_at":   {TeamID: "t", From: from, To: to},
		"usage_tenant_at": {TenantID: "t", From: from},
	} {
		q, args := postgres.SpendQuery(f)
		rows, err := conn.Query(t.Context(), `EXPLAIN `+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, line)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if all := strings.Join(plan, "\n"); strings.Contains(all, "Seq Scan") || !strings.Contains(all, index) {
			t.Errorf("spend by %+v is not served by %s:\n%s", f, index, all)
		}
	}
}

// Replicas taking due deliveries at once over one database each get
// their own: no delivery is leased twice.
func TestDueAcrossReplicas(t *testing.T) {
	dsn := pgtest.FreshSchema(t)
	a, b := openDSN(t, dsn), openDSN(t, dsn)
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	const n = 60
	for i := range n {
		ev := store.AlertEvent{TenantID: "tnt_1", Subject: fmt.Sprintf("key:k%d", i), Period: "daily", Window: "2026-12-02",
			Threshold: 50, At: at, Delivery: store.Delivery{ID: fmt.Sprintf("msg_%02d", i), Type: "t", Payload: []byte(`{}`)}}
		if ok, err := a.Alerts().Claim(t.Context(), ev); err != nil || !ok {
			t.Fatalf("claim %d: %v, %v", i, ok, err)
		}
	}
	var mu sync.Mutex
	taken := map[string]int{}
	var wg sync.WaitGroup
	for w := range 8 {
		s := a
		if w%2 == 1 {
			s = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n {
				ds, err := s.Alerts().Due(t.Context(), at.Add(time.Second), time.Minute, 3)
				if err != nil {
					t.Error(err)
					return
				}
				if len(ds) == 0 {
					return
				}
				mu.Lock()
				for _, d := range ds {
					taken[d.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(taken) != n {
		t.Errorf("%d deliveries taken, want %d", len(taken), n)
	}
	for id, k := range taken {
		if k != 1 {
			t.Errorf("%s taken %d times", id, k)
		}
	}
}
