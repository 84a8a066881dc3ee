package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/llmgw/llmgw/internal/store"
)

type teams struct{ s *Store }

const teamCols = `id, tenant_id, name, created_at, budget_pico, budget_period`

func scanTeam(r interface{ Scan(...any) error }) (store.Team, error) {
	var t store.Team
	var created sql.NullInt64
	var bud budgetCols
	err := r.Scan(append([]any{&t.ID, &t.TenantID, &t.Name, &created}, bud.dests()...)...)
	t.CreatedAt, t.Budget = timeOf(created), bud.budget()
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
	err := ts.s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO teams (`+teamCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
			append([]any{t.ID, t.TenantID, t.Name, now.UnixMicro()}, budgetArgs(t.Budget)...)...); err != nil {
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
	t, err := scanTeam(ts.s.db.QueryRowContext(ctx, `SELECT `+teamCols+` FROM teams WHERE tenant_id = ? AND id = ?`, tenantID, id))
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
	rows, err := ts.s.db.QueryContext(ctx, `SELECT `+teamCols+` FROM teams WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?`,
		tenantID, after, n+1)
	if err != nil {
		return store.Page[store.Team]{}, fmt.Errorf("sqlite: list teams: %w", err)
	}
	items, err := collect(rows, scanTeam)
	if err != nil {
		return store.Page[store.Team]{}, fmt.Errorf("sqlite: list teams: %w", err)
	}
	return store.Paginate(items, n, func(t store.Team) string { return t.ID }), nil
}

func (ts teams) Update(ctx context.Context, tenantID, id string, p store.TeamPatch) (store.Team, error) {
	if err := store.CheckLookup("update team", tenantID, id); err != nil {
		return store.Team{}, err
	}
	var t store.Team
	err := ts.s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		t, err = scanTeam(tx.QueryRowContext(ctx, `SELECT `+teamCols+` FROM teams WHERE tenant_id = ? AND id = ?`, tenantID, id))
		if err != nil {
			return classify(err, "update team", err)
		}
		if err := p.Apply(&t); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE teams SET (name, budget_pico, budget_period) = (?, ?, ?) WHERE id = ?`,
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
	return ts.s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM teams WHERE tenant_id = ? AND id = ?`, tenantID, id)
		if err != nil {
			return classify(err, "delete team", fmt.Errorf("%w: the team still has keys", store.ErrConflict))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("sqlite: delete team: %w", store.ErrNotFound)
		}
		return ts.s.record(ctx, tx, store.KindTeam, id, nil)
	})
}
