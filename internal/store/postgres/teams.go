package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/llmgw/llmgw/internal/store"
)

type teams struct{ s *Store }

const teamCols = `id, tenant_id, name, created_at, budget_pico, budget_period`

func scanTeam(r pgx.Row) (store.Team, error) {
	var t store.Team
	var bud budgetCols
	err := r.Scan(append([]any{&t.ID, &t.TenantID, &t.Name, &t.CreatedAt}, bud.dests()...)...)
	t.CreatedAt, t.Budget = t.CreatedAt.UTC(), bud.budget()
	return t, err
}

func (ts teams) Create(ctx context.Context, t store.Team) (store.Team, error) {
	if err := store.CheckName("team", t.Name); err != nil {
		return t, err
	}
	if err := store.CheckBudget(t.Budget); err != nil {
		return t, err
	}
	if err := store.CheckLookup("create team: tenant", t.TenantID); err != nil {
		return t, err
	}
	now := store.Micro(ts.s.now())
	t.ID, t.CreatedAt = store.NewID(store.TeamPrefix, now), now
	err := ts.s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO teams (`+teamCols+`) VALUES ($1, $2, $3, $4, $5, $6)`,
			append([]any{t.ID, t.TenantID, t.Name, now}, budgetArgs(t.Budget)...)...); err != nil {
			return classify(err, "create team", fmt.Errorf("tenant %w", store.ErrNotFound))
		}
		return ts.s.record(ctx, tx, store.KindTeam, t.ID, nil)
	})
	return t, err
}

func (ts teams) Get(ctx context.Context, tenantID, id string) (store.Team, error) {
	if err := store.CheckLookup("get team", tenantID, id); err != nil {
		return store.Team{}, err
	}
	t, err := scanTeam(ts.s.pool.QueryRow(ctx, `SELECT `+teamCols+` FROM teams WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if err != nil {
		return t, classify(err, "get team", err)
	}
	return t, nil
}

func (ts teams) List(ctx context.Context, tenantID string, opts store.ListOptions) (store.Page[store.Team], error) {
	after, err := store.After(opts.Cursor)
	if err != nil {
		return store.Page[store.Team]{}, err
	}
	if !store.Lookup(tenantID) {
		return store.Page[store.Team]{}, nil // no such tenant, so no teams
	}
	n := store.Limit(opts.Limit)
	rows, err := ts.s.pool.Query(ctx, `SELECT `+teamCols+` FROM teams WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
		tenantID, after, n+1)
	if err != nil {
		return store.Page[store.Team]{}, fmt.Errorf("postgres: list teams: %w", err)
	}
	items, err := collect(rows, scanTeam)
	if err != nil {
		return store.Page[store.Team]{}, fmt.Errorf("postgres: list teams: %w", err)
	}
	return store.Paginate(items, n, func(t store.Team) string { return t.ID }), nil
}

func (ts teams) Update(ctx context.Context, tenantID, id string, p store.TeamPatch) (store.Team, error) {
	if err := store.CheckLookup("update team", tenantID, id); err != nil {
		return store.Team{}, err
	}
	var t store.Team
	err := ts.s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		t, err = scanTeam(tx.QueryRow(ctx, `SELECT `+teamCols+` FROM teams WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, tenantID, id))
		if err != nil {
			return classify(err, "update team", err)
		}
		if err := p.Apply(&t); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE teams SET (name, budget_pico, budget_period) = ($1, $2, $3) WHERE id = $4`,
			append(append([]any{t.Name}, budgetArgs(t.Budget)...), id)...); err != nil {
			return classify(err, "update team", store.ErrNotFound)
		}
		return ts.s.record(ctx, tx, store.KindTeam, id, nil)
	})
	return t, err
}

func (ts teams) Delete(ctx context.Context, tenantID, id string) error {
	if err := store.CheckLookup("delete team", tenantID, id); err != nil {
		return err
	}
	return ts.s.inTx(ctx, func(tx pgx.Tx) error {
		res, err := tx.Exec(ctx, `DELETE FROM teams WHERE tenant_id = $1 AND id = $2`, tenantID, id)
		if err != nil {
			return classify(err, "delete team", fmt.Errorf("%w: the team still has keys", store.ErrConflict))
		}
		if res.RowsAffected() == 0 {
			return fmt.Errorf("postgres: delete team: %w", store.ErrNotFound)
		}
		return ts.s.record(ctx, tx, store.KindTeam, id, nil)
	})
}
