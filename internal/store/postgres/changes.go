package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/llmgw/llmgw/internal/store"
)

type changes struct{ s *Store }

// record appends a change in the writing transaction. Its number comes
// from the change_counter row, locked until the transaction ends, so
// numbers become visible in order (see the migration). The NOTIFY is sent
// by PostgreSQL at commit, and not at all on rollback.
func (s *Store) record(ctx context.Context, tx pgx.Tx, kind store.Kind, id string, hashes [][]byte) error {
	var seq int64
	err := tx.QueryRow(ctx, `WITH c AS (UPDATE change_counter SET n = n + 1 RETURNING n)
		INSERT INTO changes (seq, kind, entity_id, hashes, at)
		SELECT n, $1, $2, $3, $4 FROM c RETURNING seq`,
		string(kind), id, hashes, s.now()).Scan(&seq)
	if err != nil {
		return fmt.Errorf("postgres: record change: %w", err)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, Channel, s.schema+":"+strconv.FormatInt(seq, 10)); err != nil {
		return fmt.Errorf("postgres: notify change: %w", err)
	}
	return nil
}

func (c changes) Since(ctx context.Context, after int64, limit int) ([]store.Change, int64, error) {
	rows, err := c.s.pool.Query(ctx, `SELECT seq, kind, entity_id, hashes FROM changes
		WHERE seq > $1 ORDER BY seq LIMIT $2`, after, store.Limit(limit))
	if err != nil {
		return nil, after, fmt.Errorf("postgres: changes: %w", err)
	}
	out, err := collect(rows, func(r pgx.Row) (store.Change, error) {
		var ch store.Change
		var kind string
		err := r.Scan(&ch.Seq, &kind, &ch.ID, &ch.Hashes)
		ch.Kind = store.Kind(kind)
		return ch, err
	})
	if err != nil {
		return nil, after, fmt.Errorf("postgres: changes: %w", err)
	}
	next := after
	if len(out) > 0 {
		next = out[len(out)-1].Seq
	}
	return out, next, nil
}

func (c changes) Head(ctx context.Context) (int64, error) {
	var n int64
	if err := c.s.pool.QueryRow(ctx, `SELECT n FROM change_counter`).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: changes head: %w", err)
	}
	return n, nil
}

// Listen calls fn with the number of each change committed to this
// store's schema, from any process, as PostgreSQL announces it, until ctx
// ends (it then returns ctx's error) or the connection fails. It holds
// one connection of the pool while it runs and calls fn on its own
// goroutine, so fn should hand the number on rather than block.
// Notifications are a hint: one sent while no listener was connected is
// lost, so a caller still polls Changes().Since, and after fn only needs
// to poll sooner.
func (s *Store) Listen(ctx context.Context, fn func(seq int64)) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: listen: %w", err)
	}
	// The connection is LISTENing: it never goes back to the pool.
	pc := conn.Hijack()
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		pc.Close(cctx)
	}()
	if _, err := pc.Exec(ctx, `LISTEN `+pgx.Identifier{Channel}.Sanitize()); err != nil {
		return fmt.Errorf("postgres: listen: %w", err)
	}
	prefix := s.schema + ":"
	for {
		n, err := pc.WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("postgres: listen: %w", err)
		}
		num, ok := strings.CutPrefix(n.Payload, prefix)
		if !ok {
			continue // another schema's store on the same database
		}
		if seq, err := strconv.ParseInt(num, 10, 64); err == nil {
			fn(seq)
		}
	}
}
