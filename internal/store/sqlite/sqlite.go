package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	sqlite3 "modernc.org/sqlite"

	"github.com/llmgw/llmgw/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// BusyTimeout is how long a write waits for another connection's (or
// process's) write to finish before failing.
const BusyTimeout = 5 * time.Second

// Store is the SQLite store. It is safe for concurrent use.
type Store struct {
	db  *sql.DB
	now func() time.Time

	// The ledger's INSERTs, by log2 of their rows, prepared on first use.
	insertMu sync.Mutex
	inserts  [insertSizes + 1]*sql.Stmt
}

var _ store.Store = (*Store)(nil)

// Open opens (creating it when missing) the database at path and brings
// its schema up to date.
func Open(ctx context.Context, path string) (*Store, error) {
	// A query string would override the settings below; ":memory:" would
	// give every pooled connection a database of its own.
	if path == "" || path == ":memory:" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite: %w: path %q (a file path, without '?' or '#')", store.ErrInvalid, path)
	}
	q := url.Values{}
	// busy_timeout first, so that switching to WAL waits for a concurrent
	// opener instead of failing.
	q.Add("_pragma", "busy_timeout("+strconv.Itoa(int(BusyTimeout/time.Millisecond))+")")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	// Write transactions take the write lock at BEGIN: a transaction that
	// read first and upgraded later could fail with SQLITE_BUSY at once.
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	s := &Store{db: db, now: time.Now}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Ping checks that the database file can be read.
func (s *Store) Ping(ctx context.Context) error {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error {
	s.insertMu.Lock()
	for i, st := range s.inserts {
		if st != nil {
			st.Close()
			s.inserts[i] = nil
		}
	}
	s.insertMu.Unlock()
	return s.db.Close()
}

func (s *Store) Tenants() store.Tenants { return tenants{s} }
func (s *Store) Teams() store.Teams     { return teams{s} }
func (s *Store) Keys() store.Keys       { return keys{s} }
func (s *Store) Changes() store.Changes { return changes{s} }

// migrate applies, in one immediate transaction, the migrations not yet
// recorded in schema_migrations: two processes opening one file at once
// serialize on the write lock, and the second finds nothing to do.
func (s *Store) migrate(ctx context.Context) error {
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(files)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	for _, f := range files {
		v, err := version(f)
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, v).Scan(&n); err != nil {
			return fmt.Errorf("sqlite: migrate: %w", err)
		}
		if n > 0 {
			continue
		}
		body, err := migrations.ReadFile(f)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", f, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
			v, s.now().UnixMicro()); err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", f, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return nil
}

// version reads the number a migration's file name starts with.
func version(name string) (int, error) {
	base := name[strings.LastIndexByte(name, '/')+1:]
	num, _, _ := strings.Cut(base, "_")
	v, err := strconv.Atoi(num)
	if err != nil {
		return 0, fmt.Errorf("sqlite: migration %s: name must start with its number", name)
	}
	return v, nil
}

// The extended result codes of the constraint failures mapped to store
// errors.
const (
	constraintForeignKey = 787
	constraintPrimaryKey = 1555
	constraintUnique     = 2067
)

// classify maps a constraint failure to a store error: onFK says what a
// foreign key failure means for the statement (a missing parent on an
// insert, a child still present on a delete).
func classify(err error, what string, onFK error) error {
	var e *sqlite3.Error
	if errors.As(err, &e) {
		switch e.Code() {
		case constraintUnique, constraintPrimaryKey:
			return fmt.Errorf("sqlite: %s: %w: %v", what, store.ErrConflict, err)
		case constraintForeignKey:
			return fmt.Errorf("sqlite: %s: %w", what, onFK)
		}
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: %s: %w", what, store.ErrNotFound)
	}
	return fmt.Errorf("sqlite: %s: %w", what, err)
}
