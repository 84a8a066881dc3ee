package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/llmgw/llmgw/internal/store"
)

type audit struct{ s *Store }

// Audit returns the audit log.
func (s *Store) Audit() store.Audit { return audit{s} }

const auditCols = `seq, at, actor, action, tenant_id, target, source, request_id, before, after, count, prev, hash`

func scanAudit(r interface{ Scan(...any) error }) (store.AuditRecord, error) {
	var rec store.AuditRecord
	var at int64
	var before, after sql.NullString
	if err := r.Scan(&rec.Seq, &at, &rec.Actor, &rec.Action, &rec.TenantID, &rec.Target, &rec.Source, &rec.RequestID,
		&before, &after, &rec.Count, &rec.Prev, &rec.Hash); err != nil {
		return rec, err
	}
	rec.At = timeOf(sql.NullInt64{Int64: at, Valid: true})
	if before.Valid {
		rec.Before = []byte(before.String)
	}
	if after.Valid {
		rec.After = []byte(after.String)
	}
	if len(rec.Prev) == 0 {
		rec.Prev = nil
	}
	return rec, nil
}

func jsonArg(b []byte) sql.NullString {
	return sql.NullString{String: string(b), Valid: b != nil}
}

// Append runs in an immediate transaction: SQLite has one writer at a
// time, so reading the head and appending after it cannot interleave with
// another append, in this process or another.
func (a audit) Append(ctx context.Context, rec store.AuditRecord, seal func(*store.AuditRecord) []byte) (store.AuditRecord, error) {
	if err := store.CheckAudit(&rec); err != nil {
		return rec, err
	}
	err := a.s.inTx(ctx, func(tx *sql.Tx) error {
		var head int64
		var prev []byte
		if err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE single = 1`).Scan(&head, &prev); err != nil {
			return fmt.Errorf("sqlite: audit head: %w", err)
		}
		rec.Seq, rec.Prev = head+1, nil
		if len(prev) > 0 {
			rec.Prev = prev
		}
		rec.At = store.Micro(rec.At)
		rec.Hash = seal(&rec)
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit (`+auditCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			rec.Seq, rec.At.UnixMicro(), rec.Actor, rec.Action, rec.TenantID, rec.Target, rec.Source, rec.RequestID,
			jsonArg(rec.Before), jsonArg(rec.After), rec.Count, rec.Prev, rec.Hash); err != nil {
			return classify(err, "append audit record", store.ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE audit_head SET seq = ?, hash = ? WHERE single = 1`, rec.Seq, rec.Hash); err != nil {
			return fmt.Errorf("sqlite: audit head: %w", err)
		}
		return nil
	})
	return rec, err
}

func (a audit) List(ctx context.Context, f store.AuditFilter, opts store.ListOptions) (store.Page[store.AuditRecord], error) {
	after, err := store.After(opts.Cursor)
	if err != nil {
		return store.Page[store.AuditRecord]{}, err
	}
	var afterSeq int64
	if after != "" {
		if afterSeq, err = strconv.ParseInt(after, 10, 64); err != nil || afterSeq < 0 {
			return store.Page[store.AuditRecord]{}, fmt.Errorf("%w: malformed cursor", store.ErrInvalid)
		}
	}
	where := []string{"seq > ?"}
	args := []any{afterSeq}
	if f.TenantID != "" {
		where, args = append(where, "tenant_id = ?"), append(args, f.TenantID)
	}
	if f.Actor != "" {
		where, args = append(where, "actor = ?"), append(args, f.Actor)
	}
	if f.Action != "" {
		where, args = append(where, "action = ?"), append(args, f.Action)
	}
	if !f.From.IsZero() {
		where, args = append(where, "at >= ?"), append(args, f.From.UnixMicro())
	}
	if !f.To.IsZero() {
		where, args = append(where, "at < ?"), append(args, f.To.UnixMicro())
	}
	n := store.Limit(opts.Limit)
	args = append(args, n+1)
	rows, err := a.s.db.QueryContext(ctx, `SELECT `+auditCols+` FROM audit WHERE `+strings.Join(where, " AND ")+
		` ORDER BY seq LIMIT ?`, args...)
	if err != nil {
		return store.Page[store.AuditRecord]{}, fmt.Errorf("sqlite: list audit: %w", err)
	}
	recs, err := collect(rows, scanAudit)
	if err != nil {
		return store.Page[store.AuditRecord]{}, fmt.Errorf("sqlite: list audit: %w", err)
	}
	return store.Paginate(recs, n, func(r store.AuditRecord) string { return strconv.FormatInt(r.Seq, 10) }), nil
}

func (a audit) Head(ctx context.Context) (int64, []byte, error) {
	var seq int64
	var hash []byte
	if err := a.s.db.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE single = 1`).Scan(&seq, &hash); err != nil {
		return 0, nil, fmt.Errorf("sqlite: audit head: %w", err)
	}
	if len(hash) == 0 {
		hash = nil
	}
	return seq, hash, nil
}

func (a audit) Scan(ctx context.Context, after int64, limit int) ([]store.AuditRecord, error) {
	rows, err := a.s.db.QueryContext(ctx, `SELECT `+auditCols+` FROM audit WHERE seq > ? ORDER BY seq LIMIT ?`,
		after, store.Limit(limit))
	if err != nil {
		return nil, fmt.Errorf("sqlite: scan audit: %w", err)
	}
	recs, err := collect(rows, scanAudit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: scan audit: %w", err)
	}
	return recs, nil
}
