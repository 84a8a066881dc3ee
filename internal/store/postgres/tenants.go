package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/llmgw/llmgw/internal/store"
)

type tenants struct{ s *Store }

const tenantCols = `id, name, labels, created_at, limit_rpm, limit_tpm, limit_concurrent, budget_pico, budget_period`

func scanTenant(r pgx.Row) (store.Tenant, error) {
	var t store.Tenant
	var labels []byte
	var lim limitCols
	var bud budgetCols
	if err := r.Scan(append([]any{&t.ID, &t.Name, &labels, &t.CreatedAt}, append(lim.dests(), bud.dests()...)...)...); err != nil {
		return t, err
	}
	t.CreatedAt, t.Limits = t.CreatedAt.UTC(), lim.limits()
	t.Budget = bud.budget()
	var err error
	t.Labels, err = labelsOf(labels)
	return t, err
}

func (ts tenants) Create(ctx context.Context, t store.Tenant) (store.Tenant, error) {
	if err := store.CheckTenant(&t); err != nil {
		return t, err
	}
	now := store.Micro(ts.s.now())
	t.ID, t.CreatedAt = store.NewID(store.TenantPrefix, now), now
	labels, err := labelsArg(t.Labels)
	if err != nil {
		return t, fmt.Errorf("postgres: create tenant: %w", err)
	}
	t.Labels, _ = labelsOf([]byte(labels))
	err = ts.s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO tenants (`+tenantCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			append(append([]any{t.ID, t.Name, labels, now}, limitArgs(t.Limits)...), budgetArgs(t.Budget)...)...); err != nil {
			return classify(err, "create tenant", store.ErrNotFound)
		}
		return ts.s.record(ctx, tx, store.KindTenant, t.ID, nil)
	})
	return t, err
}

// Get prefers the tenant whose ID is idOrName to one so named.
func (ts tenants) Get(ctx context.Context, idOrName string) (store.Tenant, error) {
	if err := store.CheckLookup("get tenant", idOrName); err != nil {
		return store.Tenant{}, err
	}
	t, err := scanTenant(ts.s.pool.QueryRow(ctx, `SELECT `+tenantCols+` FROM tenants
		WHERE id = $1 OR name = $1 ORDER BY id = $1 DESC LIMIT 1`, idOrName))
	if err != nil {
		return t, classify(err, "get tenant", err)
	}
	return t, nil
}

func (ts tenants) List(ctx context.Context, opts store.ListOptions) (store.Page[store.Tenant], error) {
	after, err := store.After(opts.Cursor)
	if err != nil {
		return store.Page[store.Tenant]{}, err
	}
	n := store.Limit(opts.Limit)
	rows, err := ts.s.pool.Query(ctx, `SELECT `+tenantCols+` FROM tenants WHERE id > $1 ORDER BY id LIMIT $2`, after, n+1)
	if err != nil {
		return store.Page[store.Tenant]{}, fmt.Errorf("postgres: list tenants: %w", err)
	}
	items, err := collect(rows, scanTenant)
	if err != nil {
		return store.Page[store.Tenant]{}, fmt.Errorf("postgres: list tenants: %w", err)
	}
	return store.Paginate(items, n, func(t store.Tenant) string { return t.ID }), nil
}

func (ts tenants) Update(ctx context.Context, id string, p store.TenantPatch) (store.Tenant, error) {
	if err := store.CheckLookup("update tenant", id); err != nil {
		return store.Tenant{}, err
	}
	var t store.Tenant
	err := ts.s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		t, err = scanTenant(tx.QueryRow(ctx, `SELECT `+tenantCols+` FROM tenants WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return classify(err, "update tenant", err)
		}
		if err := p.Apply(&t); err != nil {
			return err
		}
		labels, err := labelsArg(t.Labels)
		if err != nil {
			return fmt.Errorf("postgres: update tenant: %w", err)
		}
		t.Labels, _ = labelsOf([]byte(labels))
		if _, err := tx.Exec(ctx, `UPDATE tenants SET (name, labels, limit_rpm, limit_tpm, limit_concurrent, budget_pico, budget_period) =
			($1, $2, $3, $4, $5, $6, $7) WHERE id = $8`, append(append(append([]any{t.Name, labels}, limitArgs(t.Limits)...), budgetArgs(t.Budget)...), id)...); err != nil {
			return classify(err, "update tenant", store.ErrNotFound)
		}
		return ts.s.record(ctx, tx, store.KindTenant, id, nil)
	})
	return t, err
}

func (ts tenants) Delete(ctx context.Context, id string) error {
	if err := store.CheckLookup("delete tenant", id); err != nil {
		return err
	}
	return ts.s.inTx(ctx, func(tx pgx.Tx) error {
		res, err := tx.Exec(ctx, `DELETE FROM tenants WHERE id = $1`, id)
		if err != nil {
			return classify(err, "delete tenant", fmt.Errorf("%w: the tenant still has teams or keys", store.ErrConflict))
		}
		if res.RowsAffected() == 0 {
			return fmt.Errorf("postgres: delete tenant: %w", store.ErrNotFound)
		}
		return ts.s.record(ctx, tx, store.KindTenant, id, nil)
	})
}
