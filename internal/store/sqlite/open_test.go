package sqlite

import (
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func openT(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Every connection of the pool has the settings, not only the first.
func TestConnectionSettings(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "db"))
	s.db.SetMaxIdleConns(4)
	conns := make([]interface{ Close() error }, 0, 3)
	for range 3 {
		c, err := s.db.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		var mode string
		var fk, busy int
		if err := c.QueryRowContext(t.Context(), `PRAGMA journal_mode`).Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(t.Context(), `PRAGMA foreign_keys`).Scan(&fk); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(t.Context(), `PRAGMA busy_timeout`).Scan(&busy); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" || fk != 1 || busy != int(BusyTimeout.Milliseconds()) {
			t.Fatalf("journal_mode %q, foreign_keys %d, busy_timeout %d", mode, fk, busy)
		}
	}
	for _, c := range conns {
		c.Close()
	}
}

// Processes opening one file at once all succeed and migrate it once.
func TestMigrateConcurrently(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	const n = 6
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			s, err := Open(t.Context(), path)
			if err == nil {
				s.Close()
			}
			errs[i] = err
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("open %d: %v", i, err)
		}
	}
	s := openT(t, path)
	var rows int
	if err := s.db.QueryRowContext(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	files, _ := migrations.ReadDir("migrations")
	if rows != len(files) {
		t.Fatalf("schema_migrations has %d rows, want %d", rows, len(files))
	}
}

// The per-request lookup reads indexes only, never the whole table.
func TestGetByHashUsesIndexes(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "db"))
	rows, err := s.db.QueryContext(t.Context(), `EXPLAIN QUERY PLAN `+getByHash, []byte("h"), int64(0))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	all := strings.Join(plan, "\n")
	if strings.Contains(all, "SCAN keys") || !strings.Contains(all, "keys_prev_hash") {
		t.Fatalf("lookup by hash is not served by the two indexes:\n%s", all)
	}
}

func TestOpenRefusesAmbiguousPath(t *testing.T) {
	for _, p := range []string{"", ":memory:", "x.db?_pragma=foreign_keys(0)", "a#b"} {
		if _, err := Open(t.Context(), p); err == nil {
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}
