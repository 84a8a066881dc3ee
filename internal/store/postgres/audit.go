package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/llmgw/llmgw/internal/store"
)

type audit struct{ s *Store }

// Audit returns the audit log.
func (s *Store) Audit() store.Audit { return audit{s} }

const auditCols = `seq, at, actor, action, tenant_id, target, source, request_id, before, after, count, prev, hash`

func scanAudit(r pgx.Row) (store.AuditRecord, error) {
	var rec store.AuditRecord
	var before, after *string
	if err := r.Scan(&rec.Seq, &rec.At, &rec.Actor, &rec.Action, &rec.TenantID, &rec.Target, &rec.Source, &rec.RequestID,
		&before, &after, &rec.Count, &rec.Prev, &rec.Hash); err != nil {
		return rec, err
	}
	rec.At = rec.At.UTC()
	if before != nil {
		rec.Before = []byte(*before)
	}
	if after != nil {
		rec.After = []byte(*after)
	}
	if len(rec.Prev) == 0 {
		rec.Prev = nil
	}
	return rec, nil
}

func textArg(b []byte) *string {
	if b == nil {
		return nil
	}
	s := string(b)
	return &s
}

// Append locks the audit_head row for the transaction: appends from every
// replica serialise there, so the chain never forks.
func (a audit) Append(ctx context.Context, rec store.AuditRecord, seal func(*store.AuditRecord) []byte) (store.AuditRecord, error) {
	if err := store.CheckAudit(&rec); err != nil {
		return rec, err
	}
	err := a.s.inTx(ctx, func(tx pgx.Tx) error {
		var head int64
		var prev []byte
		if err := tx.QueryRow(ctx, `SELECT seq, hash FROM audit_head WHERE single FOR UPDATE`).Scan(&head, &prev); err != nil {
			return fmt.Errorf("postgres: audit head: %w", err)
		}
		rec.Seq, rec.Prev = head+1, nil
		if len(prev) > 0 {
			rec.Prev = prev
		}
		rec.At = store.Micro(rec.At)
		rec.Hash = seal(&rec)
		if _, err := tx.Exec(ctx, `INSERT INTO audit (`+auditCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			rec.Seq, rec.At, rec.Actor, rec.Action, rec.TenantID, rec.Target, rec.Source, rec.RequestID,
			textArg(rec.Before), textArg(rec.After), rec.Count, rec.Prev, rec.Hash); err != nil {
			return classify(err, "append audit record", store.ErrConflict)
		}
		if _, err := tx.Exec(ctx, `UPDATE audit_head SET seq = $1, hash = $2 WHERE single`, rec.Seq, rec.Hash); err != nil {
			return fmt.Errorf("postgres: audit head: %w", err)
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
	args := []any{afterSeq}
	where := []string{"seq > $1"}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.Replace(cond, "?", "$"+strconv.Itoa(len(args)), 1))
	}
	if f.TenantID != "" {
		add("tenant_id = ?", f.TenantID)
	}
	if f.Actor != "" {
		add("actor = ?", f.Actor)
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if !f.From.IsZero() {
		add("at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		add("at < ?", f.To.UTC())
	}
	n := store.Limit(opts.Limit)
	args = append(args, n+1)
	rows, err := a.s.pool.Query(ctx, `SELECT `+auditCols+` FROM audit WHERE `+strings.Join(where, " AND ")+
		` ORDER BY seq LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return store.Page[store.AuditRecord]{}, fmt.Errorf("postgres: list audit: %w", err)
	}
	recs, err := collect(rows, scanAudit)
	if err != nil {
		return store.Page[store.AuditRecord]{}, fmt.Errorf("postgres: list audit: %w", err)
	}
	return store.Paginate(recs, n, func(r store.AuditRecord) string { return strconv.FormatInt(r.Seq, 10) }), nil
}

func (a audit) Head(ctx context.Context) (int64, []byte, error) {
	var seq int64
	var hash []byte
	if err := a.s.pool.QueryRow(ctx, `SELECT seq, hash FROM audit_head WHERE single`).Scan(&seq, &hash); err != nil {
		return 0, nil, fmt.Errorf("postgres: audit head: %w", err)
	}
	if len(hash) == 0 {
		hash = nil
	}
	return seq, hash, nil
}

func (a audit) Scan(ctx context.Context, after int64, limit int) ([]store.AuditRecord, error) {
	rows, err := a.s.pool.Query(ctx, `SELECT `+auditCols+` FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2`,
		after, store.Limit(limit))
	if err != nil {
		return nil, fmt.Errorf("postgres: scan audit: %w", err)
	}
	recs, err := collect(rows, scanAudit)
	if err != nil {
		return nil, fmt.Errorf("postgres: scan audit: %w", err)
	}
	return recs, nil
}
