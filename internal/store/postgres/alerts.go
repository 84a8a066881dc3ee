package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/llmgw/llmgw/internal/store"
)

type alerts struct{ s *Store }

// Alerts returns the alerts fired and their deliveries.
func (s *Store) Alerts() store.Alerts { return alerts{s} }

const deliveryCols = `seq, id, tenant_id, type, payload, state, attempts, status, error, created_at, last_at, next_at`

func scanDelivery(r pgx.Row) (store.Delivery, int64, error) {
	var d store.Delivery
	var seq int64
	var payload string
	var last, next *time.Time
	if err := r.Scan(&seq, &d.ID, &d.TenantID, &d.Type, &payload, &d.State, &d.Attempts, &d.Status, &d.Error,
		&d.CreatedAt, &last, &next); err != nil {
		return d, 0, err
	}
	d.Payload = []byte(payload)
	d.CreatedAt, d.LastAt, d.NextAt = d.CreatedAt.UTC(), timeOf(last), timeOf(next)
	return d, seq, nil
}

func (a alerts) Claim(ctx context.Context, ev store.AlertEvent) (bool, error) {
	if err := store.CheckAlert(&ev); err != nil {
		return false, err
	}
	at := store.Micro(ev.At)
	claimed := false
	err := a.s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO alerts (subject, period, win, threshold, tenant_id, at, delivery_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
			ev.Subject, ev.Period, ev.Window, ev.Threshold, ev.TenantID, at, ev.Delivery.ID)
		if err != nil {
			return fmt.Errorf("postgres: claim alert: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		d := ev.Delivery
		if _, err := tx.Exec(ctx, `INSERT INTO alert_deliveries (id, tenant_id, type, payload, state, created_at, next_at)
			VALUES ($1, $2, $3, $4, $5, $6, $6)`, d.ID, d.TenantID, d.Type, string(d.Payload), store.DeliveryPending, at); err != nil {
			return classify(err, "queue delivery", store.ErrConflict)
		}
		claimed = true
		return nil
	})
	return claimed, err
}

// Due takes its rows with FOR UPDATE SKIP LOCKED: a replica choosing at
// the same moment skips them, and once this transaction commits their
// lease keeps them out of its choice.
func (a alerts) Due(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.Delivery, error) {
	now = store.Micro(now)
	rows, err := a.s.pool.Query(ctx, `UPDATE alert_deliveries SET lease_until = $2 WHERE id IN (
			SELECT id FROM alert_deliveries
			WHERE state = 'pending' AND next_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)
			ORDER BY next_at LIMIT $3 FOR UPDATE SKIP LOCKED)
		RETURNING `+deliveryCols, now, store.Micro(now.Add(lease)), store.Limit(limit))
	if err != nil {
		return nil, fmt.Errorf("postgres: due deliveries: %w", err)
	}
	ds, err := collect(rows, func(r pgx.Row) (store.Delivery, error) {
		d, _, err := scanDelivery(r)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: due deliveries: %w", err)
	}
	store.SortDue(ds)
	return ds, nil
}

func (a alerts) Record(ctx context.Context, at store.Attempt) error {
	if err := store.CheckAttempt(&at); err != nil {
		return err
	}
	when := store.Micro(at.At)
	return a.s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE alert_deliveries
			SET attempts = $2, state = $3, status = $4, error = $5, last_at = $6, next_at = $7, lease_until = NULL
			WHERE id = $1 AND attempts = $2 - 1 AND state = 'pending'`,
			at.DeliveryID, at.N, at.State, at.Status, at.Error, when, timeArg(store.Micro(at.NextAt)))
		if err != nil {
			return fmt.Errorf("postgres: record attempt: %w", err)
		}
		if tag.RowsAffected() == 0 {
			var n int
			if err := tx.QueryRow(ctx, `SELECT attempts FROM alert_deliveries WHERE id = $1`, at.DeliveryID).Scan(&n); err != nil {
				return classify(err, "record attempt", store.ErrNotFound)
			}
			return fmt.Errorf("postgres: record attempt %d: %w: the delivery has %d attempts or is not pending", at.N, store.ErrConflict, n)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO alert_attempts (delivery_id, n, at, status, error) VALUES ($1, $2, $3, $4, $5)`,
			at.DeliveryID, at.N, when, at.Status, at.Error); err != nil {
			return classify(err, "record attempt", store.ErrNotFound)
		}
		return nil
	})
}

func (a alerts) List(ctx context.Context, f store.DeliveryFilter, opts store.ListOptions) (store.Page[store.Delivery], error) {
	before, err := store.SeqBefore(opts.Cursor)
	if err != nil {
		return store.Page[store.Delivery]{}, err
	}
	n := store.Limit(opts.Limit)
	q := `SELECT ` + deliveryCols + ` FROM alert_deliveries WHERE seq < $1`
	args := []any{before}
	if f.TenantID != "" {
		q += ` AND tenant_id = $3`
		args = append(args, n+1, f.TenantID)
	} else {
		args = append(args, n+1)
	}
	rows, err := a.s.pool.Query(ctx, q+` ORDER BY seq DESC LIMIT $2`, args...)
	if err != nil {
		return store.Page[store.Delivery]{}, fmt.Errorf("postgres: list deliveries: %w", err)
	}
	type row struct {
		d   store.Delivery
		seq int64
	}
	rs, err := collect(rows, func(r pgx.Row) (row, error) {
		d, seq, err := scanDelivery(r)
		return row{d, seq}, err
	})
	if err != nil {
		return store.Page[store.Delivery]{}, fmt.Errorf("postgres: list deliveries: %w", err)
	}
	page := store.Paginate(rs, n, func(r row) string { return strconv.FormatInt(r.seq, 10) })
	out := store.Page[store.Delivery]{Next: page.Next}
	for _, r := range page.Items {
		out.Items = append(out.Items, r.d)
	}
	return out, nil
}

func (a alerts) Attempts(ctx context.Context, id string) ([]store.Attempt, error) {
	if !store.Lookup(id) {
		return nil, nil
	}
	rows, err := a.s.pool.Query(ctx, `SELECT delivery_id, n, at, status, error FROM alert_attempts
		WHERE delivery_id = $1 ORDER BY n`, id)
	if err != nil {
		return nil, fmt.Errorf("postgres: attempts: %w", err)
	}
	out, err := collect(rows, func(r pgx.Row) (store.Attempt, error) {
		var at store.Attempt
		err := r.Scan(&at.DeliveryID, &at.N, &at.At, &at.Status, &at.Error)
		at.At = at.At.UTC()
		return at, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: attempts: %w", err)
	}
	return out, nil
}
