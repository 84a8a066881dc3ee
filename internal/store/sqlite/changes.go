package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/llmgw/llmgw/internal/store"
)

type changes struct{ s *Store }

// record appends a change in the writing transaction, so that the change
// is visible exactly when the write is. SQLite has one writer at a time:
// sequence numbers become visible in order.
func (s *Store) record(ctx context.Context, tx *sql.Tx, kind store.Kind, id string, hashes [][]byte) error {
	var enc sql.NullString
	if len(hashes) > 0 {
		b, err := json.Marshal(hashes)
		if err != nil {
			return fmt.Errorf("sqlite: record change: %w", err)
		}
		enc = sql.NullString{String: string(b), Valid: true}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO changes (kind, entity_id, hashes, at) VALUES (?, ?, ?, ?)`,
		string(kind), id, enc, s.now().UnixMicro())
	if err != nil {
		return fmt.Errorf("sqlite: record change: %w", err)
	}
	return nil
}

func (c changes) Since(ctx context.Context, after int64, limit int) ([]store.Change, int64, error) {
	rows, err := c.s.db.QueryContext(ctx, `SELECT seq, kind, entity_id, hashes FROM changes
		WHERE seq > ? ORDER BY seq LIMIT ?`, after, store.Limit(limit))
	if err != nil {
		return nil, after, fmt.Errorf("sqlite: changes: %w", err)
	}
	defer rows.Close()
	var out []store.Change
	next := after
	for rows.Next() {
		var ch store.Change
		var kind string
		var hashes sql.NullString
		if err := rows.Scan(&ch.Seq, &kind, &ch.ID, &hashes); err != nil {
			return nil, after, fmt.Errorf("sqlite: changes: %w", err)
		}
		if hashes.Valid {
			if err := json.Unmarshal([]byte(hashes.String), &ch.Hashes); err != nil {
				return nil, after, fmt.Errorf("sqlite: changes: %w", err)
			}
		}
		ch.Kind = store.Kind(kind)
		out = append(out, ch)
		next = ch.Seq
	}
	if err := rows.Err(); err != nil {
		return nil, after, fmt.Errorf("sqlite: changes: %w", err)
	}
	return out, next, nil
}

func (c changes) Head(ctx context.Context) (int64, error) {
	var n int64
	if err := c.s.db.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM changes`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: changes head: %w", err)
	}
	return n, nil
}
