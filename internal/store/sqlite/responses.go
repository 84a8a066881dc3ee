package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/llmgw/llmgw/internal/store"
)

type responses struct{ s *Store }

// Responses returns the stored responses of the Responses API.
func (s *Store) Responses() store.Responses { return responses{s} }

const responseCols = `r.tenant_id, r.id, r.key_id, r.model, r.previous_id, r.created_at, r.expires_at, r.input, r.response`

func scanResponse(row interface{ Scan(...any) error }) (store.StoredResponse, error) {
	var r store.StoredResponse
	var created, expires int64
	var input, resp string
	if err := row.Scan(&r.TenantID, &r.ID, &r.KeyID, &r.Model, &r.PreviousID, &created, &expires, &input, &resp); err != nil {
		return r, err
	}
	r.CreatedAt, r.ExpiresAt = time.UnixMicro(created).UTC(), time.UnixMicro(expires).UTC()
	r.Input, r.Response = []byte(input), []byte(resp)
	return r, nil
}

func (x responses) Put(ctx context.Context, r store.StoredResponse) error {
	if err := store.CheckResponse(&r); err != nil {
		return err
	}
	_, err := x.s.db.ExecContext(ctx, `INSERT INTO responses (tenant_id, id, key_id, model, previous_id, created_at, expires_at, input, response)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.TenantID, r.ID, r.KeyID, r.Model, r.PreviousID,
		r.CreatedAt.UnixMicro(), r.ExpiresAt.UnixMicro(), string(r.Input), string(r.Response))
	if err != nil {
		return classify(err, "store response", store.ErrNotFound)
	}
	return nil
}

func (x responses) Get(ctx context.Context, tenantID, id string, now time.Time) (store.StoredResponse, error) {
	row := x.s.db.QueryRowContext(ctx, `SELECT `+responseCols+` FROM responses r
		WHERE r.tenant_id = ? AND r.id = ? AND r.expires_at > ?`, tenantID, id, now.UnixMicro())
	r, err := scanResponse(row)
	if err != nil {
		return r, classify(err, "get response", store.ErrNotFound)
	}
	return r, nil
}

func (x responses) Chain(ctx context.Context, tenantID, id string, now time.Time, max int) ([]store.StoredResponse, error) {
	rows, err := x.s.db.QueryContext(ctx, `WITH RECURSIVE chain(id, previous_id, depth) AS (
			SELECT id, previous_id, 0 FROM responses WHERE tenant_id = ?1 AND id = ?2 AND expires_at > ?3
			UNION ALL
			SELECT p.id, p.previous_id, c.depth + 1 FROM chain c JOIN responses p ON p.tenant_id = ?1 AND p.id = c.previous_id
			WHERE c.previous_id <> '' AND c.depth + 1 < ?4 AND p.expires_at > ?3
		)
		SELECT `+responseCols+` FROM chain c JOIN responses r ON r.tenant_id = ?1 AND r.id = c.id ORDER BY c.depth DESC`,
		tenantID, id, now.UnixMicro(), store.ChainLimit(max))
	if err != nil {
		return nil, fmt.Errorf("sqlite: response chain: %w", err)
	}
	out, err := collect(rows, scanResponse)
	if err != nil {
		return nil, fmt.Errorf("sqlite: response chain: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("sqlite: response chain: %w", store.ErrNotFound)
	}
	return out, nil
}

func (x responses) Delete(ctx context.Context, tenantID, id string) error {
	res, err := x.s.db.ExecContext(ctx, `DELETE FROM responses WHERE tenant_id = ? AND id = ?`, tenantID, id)
	if err != nil {
		return fmt.Errorf("sqlite: delete response: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("sqlite: delete response: %w", store.ErrNotFound)
	}
	return nil
}

func (x responses) Purge(ctx context.Context, now time.Time, limit int) (int, error) {
	res, err := x.s.db.ExecContext(ctx, `DELETE FROM responses WHERE rowid IN
		(SELECT rowid FROM responses WHERE expires_at <= ? LIMIT ?)`, now.UnixMicro(), store.Limit(limit))
	if err != nil {
		return 0, fmt.Errorf("sqlite: purge responses: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
