package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/llmgw/llmgw/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock is the pg_advisory_lock key held while migrating, so that
// replicas starting together apply each migration once.
const migrationLock int64 = 0x6c6c6d67770001 // "llmgw" and 1

// Channel is the NOTIFY channel a write announces its change number on.
const Channel = "llmgw_store_changes"

// Store is the PostgreSQL store. It is safe for concurrent use.
type Store struct {
	pool   *pgxpool.Pool
	schema string // current_schema(), which notifications are tagged with
	now    func() time.Time
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at dsn (a postgres:// URL or key=value
// string; search_path and pool_max_conns are taken from it) and brings
// its schema up to date.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// The error may quote the DSN, password included: say only that
		// it did not parse.
		return nil, fmt.Errorf("postgres: %w: the DSN does not parse", store.ErrInvalid)
	}
	return open(ctx, cfg)
}

// open connects with cfg and brings the schema up to date.
func open(ctx context.Context, cfg *pgxpool.Config) (*Store, error) {
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	s := &Store{pool: pool, now: time.Now}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if err := pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&s.schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: current schema: %w", err)
	}
	return s, nil
}

// Ping checks that the server answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// Close closes every connection of the pool.
func (s *Store) Close() error { s.pool.Close(); return nil }

func (s *Store) Tenants() store.Tenants { return tenants{s} }
func (s *Store) Teams() store.Teams     { return teams{s} }
func (s *Store) Keys() store.Keys       { return keys{s} }
func (s *Store) Changes() store.Changes { return changes{s} }

// migrate applies the migrations not yet recorded in schema_migrations,
// each in its own transaction, holding an advisory lock on the connection throughout
// so that two processes starting at once do not both apply one.
func (s *Store) migrate(ctx context.Context) (err error) {
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(files)
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return fmt.Errorf("postgres: migrate: lock: %w", err)
	}
	defer func() {
		// A context already cancelled must not leave the lock held by a
		// connection that goes back to the pool.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, uerr := conn.Exec(uctx, `SELECT pg_advisory_unlock($1)`, migrationLock); uerr != nil {
			conn.Hijack().Close(uctx)
			if err == nil {
				err = fmt.Errorf("postgres: migrate: unlock: %w", uerr)
			}
		}
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, applied_at timestamptz NOT NULL)`); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	for _, f := range files {
		v, err := version(f)
		if err != nil {
			return err
		}
		var done bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, v).Scan(&done); err != nil {
			return fmt.Errorf("postgres: migrate: %w", err)
		}
		if done {
			continue
		}
		body, err := migrations.ReadFile(f)
		if err != nil {
			return err
		}
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, v, s.now())
			return err
		})
		if err != nil {
			return fmt.Errorf("postgres: migration %s: %w", f, err)
		}
	}
	return nil
}

// version reads the number a migration's file name starts with.
func version(name string) (int, error) {
	base := name[strings.LastIndexByte(name, '/')+1:]
	num, _, _ := strings.Cut(base, "_")
	v, err := strconv.Atoi(num)
	if err != nil {
		return 0, fmt.Errorf("postgres: migration %s: name must start with its number", name)
	}
	return v, nil
}

// classify maps a constraint failure to a store error: onFK says what a
// foreign key failure means for the statement (a missing parent on an
// insert, a child still present on a delete).
func classify(err error, what string, onFK error) error {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		switch e.Code {
		case "23505": // unique_violation
			return fmt.Errorf("postgres: %s: %w: %s", what, store.ErrConflict, e.ConstraintName)
		case "23503": // foreign_key_violation
			return fmt.Errorf("postgres: %s: %w", what, onFK)
		}
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("postgres: %s: %w", what, store.ErrNotFound)
	}
	return fmt.Errorf("postgres: %s: %w", what, err)
}
