package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/llmgw/llmgw/internal/store"
)

type ledger struct{ s *Store }

// Ledger returns the usage ledger.
func (s *Store) Ledger() store.Ledger { return ledger{s} }

const usageCols = `request_id, at, tenant_id, tenant, team_id, key_id, key_name, model, provider, upstream_model,
	input_tokens, output_tokens, cached_tokens, cache_write_tokens, reasoning_tokens, cost_pico, cost_known,
	latency_us, ttft_us, status, stream, cache, usage_estimated`

// Insert sends the batch in one round trip and one transaction.
func (l ledger) Insert(ctx context.Context, recs []store.UsageRecord) (int, error) {
	for i := range recs {
		if err := store.CheckUsage(&recs[i]); err != nil {
			return 0, err
		}
	}
	n := 0
	err := l.s.inTx(ctx, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for i := range recs {
			r := &recs[i]
			b.Queue(`INSERT INTO usage (`+usageCols+`)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)
				ON CONFLICT (request_id) DO NOTHING`,
				r.RequestID, store.Micro(r.At), r.TenantID, r.Tenant, r.TeamID, r.KeyID, r.KeyName, r.Model, r.Provider,
				r.UpstreamModel, r.InputTokens, r.OutputTokens, r.CachedTokens, r.CacheWriteTokens, r.ReasoningTokens,
				r.CostPico, r.CostKnown, r.LatencyMicros, r.TTFTMicros, r.Status, r.Stream, r.Cache, r.UsageEstimated)
		}
		res := tx.SendBatch(ctx, b)
		for range recs {
			tag, err := res.Exec()
			if err != nil {
				res.Close()
				return fmt.Errorf("postgres: insert usage: %w", err)
			}
			n += int(tag.RowsAffected())
		}
		return res.Close()
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

func scanUsage(r pgx.Row) (store.UsageRecord, error) {
	var u store.UsageRecord
	err := r.Scan(&u.RequestID, &u.At, &u.TenantID, &u.Tenant, &u.TeamID, &u.KeyID, &u.KeyName, &u.Model, &u.Provider,
		&u.UpstreamModel, &u.InputTokens, &u.OutputTokens, &u.CachedTokens, &u.CacheWriteTokens, &u.ReasoningTokens,
		&u.CostPico, &u.CostKnown, &u.LatencyMicros, &u.TTFTMicros, &u.Status, &u.Stream, &u.Cache, &u.UsageEstimated)
	u.At = u.At.UTC()
	return u, err
}

func (l ledger) Scan(ctx context.Context, from, to time.Time, opts store.ListOptions) (store.Page[store.UsageRecord], error) {
	after, err := store.After(opts.Cursor)
	if err != nil {
		return store.Page[store.UsageRecord]{}, err
	}
	n := store.Limit(opts.Limit)
	q := `SELECT ` + usageCols + ` FROM usage WHERE at >= $1 AND at < $2`
	args := []any{from.UTC(), to.UTC()}
	if after != "" {
		var at time.Time
		if err := l.s.pool.QueryRow(ctx, `SELECT at FROM usage WHERE request_id = $1`, after).Scan(&at); err != nil {
			return store.Page[store.UsageRecord]{}, fmt.Errorf("%w: malformed cursor", store.ErrInvalid)
		}
		q += ` AND (at, request_id) > ($3, $4)`
		args = append(args, at, after)
	}
	args = append(args, n+1)
	q += fmt.Sprintf(` ORDER BY at, request_id LIMIT $%d`, len(args))
	rows, err := l.s.pool.Query(ctx, q, args...)
	if err != nil {
		return store.Page[store.UsageRecord]{}, fmt.Errorf("postgres: scan usage: %w", err)
	}
	recs, err := collect(rows, scanUsage)
	if err != nil {
		return store.Page[store.UsageRecord]{}, fmt.Errorf("postgres: scan usage: %w", err)
	}
	return store.Paginate(recs, n, func(u store.UsageRecord) string { return u.RequestID }), nil
}

var usageDialect = store.Dialect{
	Placeholder: store.PlaceholderDollar,
	Bucket: func(seconds int) string {
		return fmt.Sprintf("(floor(extract(epoch FROM at) / %d)::bigint * %d)", seconds, seconds)
	},
	Time: func(t time.Time) any { return t.UTC() },
}

func (l ledger) Aggregate(ctx context.Context, q store.UsageQuery) ([]store.UsageGroup, bool, error) {
	if err := store.CheckUsageQuery(&q); err != nil {
		return nil, false, err
	}
	s := store.BuildUsageSQL(q, usageDialect)
	rows, err := l.s.pool.Query(ctx, s.Query, s.Args...)
	if err != nil {
		return nil, false, fmt.Errorf("postgres: aggregate usage: %w", err)
	}
	groups, err := collect(rows, func(r pgx.Row) (store.UsageGroup, error) {
		var g store.UsageGroup
		var bucket int64
		err := r.Scan(s.ScanTargets(&g, &bucket)...)
		s.SetBucket(&g, bucket)
		return g, err
	})
	if err != nil {
		return nil, false, fmt.Errorf("postgres: aggregate usage: %w", err)
	}
	if len(groups) > s.Limit {
		return groups[:s.Limit], true, nil
	}
	return groups, false, nil
}

func (l ledger) Spend(ctx context.Context, f store.SpendFilter) (int64, error) {
	return spend(ctx, l.s.pool, f)
}

// spend sums f's costs through q, the pool or a transaction.
func spend(ctx context.Context, q querier, f store.SpendFilter) (int64, error) {
	if err := store.CheckSpendFilter(&f); err != nil {
		return 0, err
	}
	query, args := spendQuery(f)
	var n int64
	if err := q.QueryRow(ctx, query, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: spend: %w", err)
	}
	return n, nil
}

// spendQuery is the query of f, one range scan of the index on its ID
// and time.
func spendQuery(f store.SpendFilter) (string, []any) {
	where, args := store.SpendSQL(f, usageDialect)
	return `SELECT coalesce(sum(cost_pico), 0)::bigint FROM usage WHERE ` + where, args
}
