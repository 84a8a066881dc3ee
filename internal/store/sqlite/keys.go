package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/llmgw/llmgw/internal/store"
)

type keys struct{ s *Store }

const keyCols = `id, tenant_id, team_id, name, hash, prefix, models, expires_at, labels, role,
	created_at, last_used_at, revoked_at, prev_hash, prev_valid_until, limit_rpm, limit_tpm, limit_concurrent,
	budget_pico, budget_period, max_cost_pico`

func scanKey(r interface{ Scan(...any) error }) (store.Key, error) {
	var k store.Key
	var team, models sql.NullString
	var labels, role string
	var expires, created, used, revoked, prevUntil sql.NullInt64
	var lim limitCols
	var bud budgetCols
	var maxCost sql.NullInt64
	if err := r.Scan(append([]any{&k.ID, &k.TenantID, &team, &k.Name, &k.Hash, &k.Prefix, &models, &expires, &labels, &role,
		&created, &used, &revoked, &k.PrevHash, &prevUntil}, append(lim.dests(), append(bud.dests(), &maxCost)...)...)...); err != nil {
		return k, err
	}
	k.MaxCostPico = maxCost.Int64
	k.TeamID, k.Role, k.Limits = team.String, store.Role(role), lim.limits()
	k.Budget = bud.budget()
	k.ExpiresAt, k.CreatedAt, k.LastUsedAt = timeOf(expires), timeOf(created), timeOf(used)
	k.RevokedAt, k.PrevValidUntil = timeOf(revoked), timeOf(prevUntil)
	var err error
	if k.Models, err = modelsOf(models); err != nil {
		return k, err
	}
	k.Labels, err = labelsOf(labels)
	return k, err
}

// keyArgs are the values of keyCols for k, in order.
func keyArgs(k *store.Key) ([]any, error) {
	models, err := modelsArg(k.Models)
	if err != nil {
		return nil, err
	}
	labels, err := labelsArg(k.Labels)
	if err != nil {
		return nil, err
	}
	team := sql.NullString{String: k.TeamID, Valid: k.TeamID != ""}
	return append([]any{k.ID, k.TenantID, team, k.Name, k.Hash, k.Prefix, models, timeArg(k.ExpiresAt), labels, string(k.Role),
		timeArg(k.CreatedAt), timeArg(k.LastUsedAt), timeArg(k.RevokedAt), k.PrevHash, timeArg(k.PrevValidUntil)}, append(limitArgs(k.Limits), append(budgetArgs(k.Budget), maxCostArg(k.MaxCostPico))...)...), nil
}

// normalize makes k what reading it back would give.
func normalize(k *store.Key) {
	if len(k.Labels) == 0 {
		k.Labels = nil
	}
	if len(k.PrevHash) == 0 {
		k.PrevHash = nil
	}
	k.ExpiresAt, k.LastUsedAt = store.Micro(k.ExpiresAt), store.Micro(k.LastUsedAt)
	k.RevokedAt, k.PrevValidUntil = store.Micro(k.RevokedAt), store.Micro(k.PrevValidUntil)
}

func (ks keys) Create(ctx context.Context, k store.Key) (store.Key, error) {
	if err := store.CheckKey(&k); err != nil {
		return k, err
	}
	now := store.Micro(ks.s.now())
	k.ID, k.CreatedAt = store.NewID(store.KeyPrefix, now), now
	normalize(&k)
	args, err := keyArgs(&k)
	if err != nil {
		return k, fmt.Errorf("sqlite: create key: %w", err)
	}
	err = ks.s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO keys (`+keyCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			args...); err != nil {
			return classify(err, "create key", fmt.Errorf("tenant or team %w", store.ErrNotFound))
		}
		return ks.s.record(ctx, tx, store.KindKey, k.ID, store.Hashes(&k))
	})
	return k, err
}

func (ks keys) Get(ctx context.Context, id string) (store.Key, error) {
	if err := store.CheckLookup("get key", id); err != nil {
		return store.Key{}, err
	}
	return ks.get(ctx, ks.s.db, id)
}

func (ks keys) get(ctx context.Context, q querier, id string) (store.Key, error) {
	k, err := scanKey(q.QueryRowContext(ctx, `SELECT `+keyCols+` FROM keys WHERE id = ?`, id))
	if err != nil {
		return k, classify(err, "get key", err)
	}
	return k, nil
}

// GetByHash is one query on the two hash indexes (SQLite's OR
// optimization uses both); a current hash wins over a previous one.
func (ks keys) GetByHash(ctx context.Context, h []byte) (store.Key, error) {
	k, err := scanKey(ks.s.db.QueryRowContext(ctx, getByHash, h, ks.s.now().UnixMicro()))
	if err != nil {
		return k, classify(err, "get key by hash", err)
	}
	return k, nil
}

const getByHash = `SELECT ` + keyCols + ` FROM keys
	WHERE hash = ?1 OR (prev_hash = ?1 AND prev_valid_until > ?2)
	ORDER BY hash = ?1 DESC LIMIT 1`

func (ks keys) List(ctx context.Context, f store.KeyFilter, opts store.ListOptions) (store.Page[store.Key], error) {
	after, err := store.After(opts.Cursor)
	if err != nil {
		return store.Page[store.Key]{}, err
	}
	if f.TenantID != "" && !store.Lookup(f.TenantID) || f.TeamID != "" && !store.Lookup(f.TeamID) {
		return store.Page[store.Key]{}, nil // no such tenant or team, so no keys
	}
	n := store.Limit(opts.Limit)
	rows, err := ks.s.db.QueryContext(ctx, `SELECT `+keyCols+` FROM keys
		WHERE (?1 = '' OR tenant_id = ?1) AND (?2 = '' OR team_id = ?2) AND id > ?3
		ORDER BY id LIMIT ?4`, f.TenantID, f.TeamID, after, n+1)
	if err != nil {
		return store.Page[store.Key]{}, fmt.Errorf("sqlite: list keys: %w", err)
	}
	items, err := collect(rows, scanKey)
	if err != nil {
		return store.Page[store.Key]{}, fmt.Errorf("sqlite: list keys: %w", err)
	}
	return store.Paginate(items, n, func(k store.Key) string { return k.ID }), nil
}

// write reads the key in a write transaction, lets change modify it and
// stores every column back, recording a change with the hashes before and
// after.
func (ks keys) write(ctx context.Context, what, id string, change func(k *store.Key) error) (store.Key, error) {
	if err := store.CheckLookup(what, id); err != nil {
		return store.Key{}, err
	}
	var k store.Key
	err := ks.s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if k, err = ks.get(ctx, tx, id); err != nil {
			return err
		}
		before := k
		if err := change(&k); err != nil {
			return err
		}
		normalize(&k)
		args, err := keyArgs(&k)
		if err != nil {
			return fmt.Errorf("sqlite: %s: %w", what, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE keys SET (`+keyCols+`) = (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			WHERE id = ?`, append(args, id)...); err != nil {
			return classify(err, what, fmt.Errorf("team %w", store.ErrNotFound))
		}
		return ks.s.record(ctx, tx, store.KindKey, id, store.Hashes(&before, &k))
	})
	return k, err
}

func (ks keys) Update(ctx context.Context, id string, p store.KeyPatch) (store.Key, error) {
	return ks.write(ctx, "update key", id, p.Apply)
}

func (ks keys) Rotate(ctx context.Context, id string, r store.Rotation) (store.Key, error) {
	if len(r.Hash) == 0 {
		return store.Key{}, fmt.Errorf("%w: rotation without a hash", store.ErrInvalid)
	}
	return ks.write(ctx, "rotate key", id, func(k *store.Key) error { return store.Rotate(k, r) })
}

func (ks keys) Revoke(ctx context.Context, id string) (store.Key, error) {
	now := ks.s.now()
	return ks.write(ctx, "revoke key", id, func(k *store.Key) error { store.Revoke(k, now); return nil })
}

func (ks keys) Delete(ctx context.Context, id string) error {
	if err := store.CheckLookup("delete key", id); err != nil {
		return err
	}
	return ks.s.inTx(ctx, func(tx *sql.Tx) error {
		k, err := ks.get(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM keys WHERE id = ?`, id); err != nil {
			return fmt.Errorf("sqlite: delete key: %w", err)
		}
		return ks.s.record(ctx, tx, store.KindKey, id, store.Hashes(&k))
	})
}

func (ks keys) Touch(ctx context.Context, used []store.Use) error {
	if len(used) == 0 {
		return nil
	}
	return ks.s.inTx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `UPDATE keys SET last_used_at = ?1
			WHERE id = ?2 AND (last_used_at IS NULL OR last_used_at < ?1)`)
		if err != nil {
			return fmt.Errorf("sqlite: touch keys: %w", err)
		}
		defer st.Close()
		for _, u := range used {
			if !store.Lookup(u.KeyID) || u.At.IsZero() {
				continue // no such key; no time
			}
			if _, err := st.ExecContext(ctx, u.At.UnixMicro(), u.KeyID); err != nil {
				return fmt.Errorf("sqlite: touch keys: %w", err)
			}
		}
		return nil
	})
}
