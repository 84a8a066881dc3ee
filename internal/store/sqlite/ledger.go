package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math/bits"
	"strings"
	"time"

	"github.com/llmgw/llmgw/internal/store"
)

type ledger struct{ s *Store }

// Ledger returns the usage ledger.
func (s *Store) Ledger() store.Ledger { return ledger{s} }

const usageCols = `request_id, at, tenant_id, tenant, team_id, key_id, key_name, model, provider, upstream_model,
	input_tokens, output_tokens, cached_tokens, cache_write_tokens, reasoning_tokens, cost_pico, cost_known,
	latency_us, ttft_us, status, stream, cache, usage_estimated`

func (l ledger) Insert(ctx context.Context, recs []store.UsageRecord) (int, error) {
	for i := range recs {
		if err := store.CheckUsage(&recs[i]); err != nil {
			return 0, err
		}
	}
	n := 0
	err := l.s.inTx(ctx, func(tx *sql.Tx) error {
		args := make([]any, 0, usageColCount*min(len(recs), maxInsertRows))
		for len(recs) > 0 {
			// Rows go many to a statement (64, then the rest by powers of
			// two): one statement's bind, step and reset for many rows,
			// where they were most of a row's cost.
			size := bits.Len(uint(min(len(recs), maxInsertRows))) - 1
			k := 1 << size
			stmt, err := l.s.insertStmt(ctx, size)
			if err != nil {
				return err
			}
			args = args[:0]
			for i := range recs[:k] {
				r := &recs[i]
				args = append(args, r.RequestID, r.At.UnixMicro(), r.TenantID, r.Tenant, r.TeamID, r.KeyID, r.KeyName,
					r.Model, r.Provider, r.UpstreamModel, r.InputTokens, r.OutputTokens, r.CachedTokens, r.CacheWriteTokens,
					r.ReasoningTokens, r.CostPico, r.CostKnown, r.LatencyMicros, r.TTFTMicros, r.Status, r.Stream, r.Cache, r.UsageEstimated)
			}
			ts := tx.StmtContext(ctx, stmt)
			res, err := ts.ExecContext(ctx, args...)
			ts.Close()
			if err != nil {
				return fmt.Errorf("sqlite: insert usage: %w", err)
			}
			m, _ := res.RowsAffected()
			n += int(m)
			recs = recs[k:]
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// usageColCount is the number of usageCols; maxInsertRows the most rows
// one INSERT carries (23 × 64 parameters, well under SQLite's 32,766).
const (
	usageColCount = 23
	maxInsertRows = 1 << insertSizes
	insertSizes   = 6
)

// insertStmt returns the INSERT of 1<<size rows, prepared once. A row
// already in the ledger (same request ID: the primary key) is skipped.
// OR IGNORE rather than ON CONFLICT DO NOTHING: the two skip the same
// rows (the table has no other unique constraint, and its values are never
// NULL), but a statement that cannot abort half-way needs no statement
// journal, which SQLite otherwise writes, page by page, to a temporary
// file for a statement of many rows.
func (s *Store) insertStmt(ctx context.Context, size int) (*sql.Stmt, error) {
	s.insertMu.Lock()
	defer s.insertMu.Unlock()
	if st := s.inserts[size]; st != nil {
		return st, nil
	}
	row := "(?" + strings.Repeat(", ?", usageColCount-1) + ")"
	st, err := s.db.PrepareContext(ctx, `INSERT OR IGNORE INTO usage (`+usageCols+`) VALUES `+
		row+strings.Repeat(", "+row, 1<<size-1))
	if err != nil {
		return nil, fmt.Errorf("sqlite: insert usage: %w", err)
	}
	s.inserts[size] = st
	return st, nil
}

func scanUsage(r interface{ Scan(...any) error }) (store.UsageRecord, error) {
	var u store.UsageRecord
	var at int64
	err := r.Scan(&u.RequestID, &at, &u.TenantID, &u.Tenant, &u.TeamID, &u.KeyID, &u.KeyName, &u.Model, &u.Provider,
		&u.UpstreamModel, &u.InputTokens, &u.OutputTokens, &u.CachedTokens, &u.CacheWriteTokens, &u.ReasoningTokens,
		&u.CostPico, &u.CostKnown, &u.LatencyMicros, &u.TTFTMicros, &u.Status, &u.Stream, &u.Cache, &u.UsageEstimated)
	u.At = time.UnixMicro(at).UTC()
	return u, err
}

// Scan pages by (at, request_id): the cursor is the last record's request
// ID, whose time is read back.
func (l ledger) Scan(ctx context.Context, from, to time.Time, opts store.ListOptions) (store.Page[store.UsageRecord], error) {
	after, err := store.After(opts.Cursor)
	if err != nil {
		return store.Page[store.UsageRecord]{}, err
	}
	n := store.Limit(opts.Limit)
	q := `SELECT ` + usageCols + ` FROM usage WHERE at >= ? AND at < ?`
	args := []any{from.UnixMicro(), to.UnixMicro()}
	if after != "" {
		var at int64
		if err := l.s.db.QueryRowContext(ctx, `SELECT at FROM usage WHERE request_id = ?`, after).Scan(&at); err != nil {
			return store.Page[store.UsageRecord]{}, fmt.Errorf("%w: malformed cursor", store.ErrInvalid)
		}
		q += ` AND (at > ? OR (at = ? AND request_id > ?))`
		args = append(args, at, at, after)
	}
	q += ` ORDER BY at, request_id LIMIT ?`
	args = append(args, n+1)
	rows, err := l.s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return store.Page[store.UsageRecord]{}, fmt.Errorf("sqlite: scan usage: %w", err)
	}
	recs, err := collect(rows, scanUsage)
	if err != nil {
		return store.Page[store.UsageRecord]{}, fmt.Errorf("sqlite: scan usage: %w", err)
	}
	return store.Paginate(recs, n, func(u store.UsageRecord) string { return u.RequestID }), nil
}

var usageDialect = store.Dialect{
	Placeholder: func(int) string { return "?" },
	Bucket: func(seconds int) string {
		return fmt.Sprintf("(at / %d) * %d", int64(seconds)*1_000_000, seconds)
	},
	Time: func(t time.Time) any { return t.UnixMicro() },
}

func (l ledger) Aggregate(ctx context.Context, q store.UsageQuery) ([]store.UsageGroup, bool, error) {
	if err := store.CheckUsageQuery(&q); err != nil {
		return nil, false, err
	}
	s := store.BuildUsageSQL(q, usageDialect)
	rows, err := l.s.db.QueryContext(ctx, s.Query, s.Args...)
	if err != nil {
		return nil, false, fmt.Errorf("sqlite: aggregate usage: %w", err)
	}
	groups, err := collect(rows, func(r interface{ Scan(...any) error }) (store.UsageGroup, error) {
		var g store.UsageGroup
		var bucket int64
		err := r.Scan(s.ScanTargets(&g, &bucket)...)
		s.SetBucket(&g, bucket)
		return g, err
	})
	if err != nil {
		return nil, false, fmt.Errorf("sqlite: aggregate usage: %w", err)
	}
	if len(groups) > s.Limit {
		return groups[:s.Limit], true, nil
	}
	return groups, false, nil
}

func (l ledger) Spend(ctx context.Context, f store.SpendFilter) (int64, error) {
	return spend(ctx, l.s.db, f)
}

// spend sums f's costs through q, the database or a transaction.
func spend(ctx context.Context, q querier, f store.SpendFilter) (int64, error) {
	if err := store.CheckSpendFilter(&f); err != nil {
		return 0, err
	}
	query, args := spendQuery(f)
	var n int64
	if err := q.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: spend: %w", err)
	}
	return n, nil
}

// spendQuery is the query of f, one range scan of the index on its ID
// and time.
func spendQuery(f store.SpendFilter) (string, []any) {
	where, args := store.SpendSQL(f, usageDialect)
	return `SELECT coalesce(sum(cost_pico), 0) FROM usage WHERE ` + where, args
}
