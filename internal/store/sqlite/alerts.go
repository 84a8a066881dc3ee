package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/llmgw/llmgw/internal/store"
)

type alerts struct{ s *Store }

// Alerts returns the alerts fired and their deliveries.
func (s *Store) Alerts() store.Alerts { return alerts{s} }

const deliveryCols = `seq, id, tenant_id, type, payload, state, attempts, status, error, created_at, last_at, next_at`

type deliveryRow struct {
	d   store.Delivery
	seq int64
}

func scanDelivery(r interface{ Scan(...any) error }) (deliveryRow, error) {
	var dr deliveryRow
	d := &dr.d
	var payload string
	var created int64
	var last, next sql.NullInt64
	if err := r.Scan(&dr.seq, &d.ID, &d.TenantID, &d.Type, &payload, &d.State, &d.Attempts, &d.Status, &d.Error,
		&created, &last, &next); err != nil {
		return dr, err
	}
	d.Payload = []byte(payload)
	d.CreatedAt, d.LastAt, d.NextAt = time.UnixMicro(created).UTC(), timeOf(last), timeOf(next)
	return dr, nil
}

func (a alerts) Claim(ctx context.Context, ev store.AlertEvent) (bool, error) {
	if err := store.CheckAlert(&ev); err != nil {
		return false, err
	}
	at := ev.At.UnixMicro()
	claimed := false
	err := a.s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO alerts (subject, period, win, threshold, tenant_id, at, delivery_id)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			ev.Subject, ev.Period, ev.Window, ev.Threshold, ev.TenantID, at, ev.Delivery.ID)
		if err != nil {
			return fmt.Errorf("sqlite: claim alert: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		d := ev.Delivery
		if _, err := tx.ExecContext(ctx, `INSERT INTO alert_deliveries (id, tenant_id, type, payload, state, created_at, next_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, d.ID, d.TenantID, d.Type, string(d.Payload), store.DeliveryPending, at, at); err != nil {
			return classify(err, "queue delivery", store.ErrConflict)
		}
		claimed = true
		return nil
	})
	return claimed, err
}

// Due selects and leases in one write transaction, which SQLite runs one
// at a time.
func (a alerts) Due(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.Delivery, error) {
	var out []store.Delivery
	err := a.s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+deliveryCols+` FROM alert_deliveries
			WHERE state = 'pending' AND next_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
			ORDER BY next_at, id LIMIT ?`, now.UnixMicro(), now.UnixMicro(), store.Limit(limit))
		if err != nil {
			return fmt.Errorf("sqlite: due deliveries: %w", err)
		}
		rs, err := collect(rows, scanDelivery)
		if err != nil {
			return fmt.Errorf("sqlite: due deliveries: %w", err)
		}
		for _, r := range rs {
			if _, err := tx.ExecContext(ctx, `UPDATE alert_deliveries SET lease_until = ? WHERE seq = ?`,
				now.Add(lease).UnixMicro(), r.seq); err != nil {
				return fmt.Errorf("sqlite: due deliveries: %w", err)
			}
			out = append(out, r.d)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (a alerts) Record(ctx context.Context, at store.Attempt) error {
	if err := store.CheckAttempt(&at); err != nil {
		return err
	}
	return a.s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE alert_deliveries
			SET attempts = ?, state = ?, status = ?, error = ?, last_at = ?, next_at = ?, lease_until = NULL
			WHERE id = ? AND attempts = ? AND state = 'pending'`,
			at.N, at.State, at.Status, at.Error, at.At.UnixMicro(), timeArg(at.NextAt), at.DeliveryID, at.N-1)
		if err != nil {
			return fmt.Errorf("sqlite: record attempt: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var k int
			if err := tx.QueryRowContext(ctx, `SELECT attempts FROM alert_deliveries WHERE id = ?`, at.DeliveryID).Scan(&k); err != nil {
				return classify(err, "record attempt", store.ErrNotFound)
			}
			return fmt.Errorf("sqlite: record attempt %d: %w: the delivery has %d attempts or is not pending", at.N, store.ErrConflict, k)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO alert_attempts (delivery_id, n, at, status, error) VALUES (?, ?, ?, ?, ?)`,
			at.DeliveryID, at.N, at.At.UnixMicro(), at.Status, at.Error); err != nil {
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
	q := `SELECT ` + deliveryCols + ` FROM alert_deliveries WHERE seq < ?`
	args := []any{before}
	if f.TenantID != "" {
		q += ` AND tenant_id = ?`
		args = append(args, f.TenantID)
	}
	rows, err := a.s.db.QueryContext(ctx, q+` ORDER BY seq DESC LIMIT ?`, append(args, n+1)...)
	if err != nil {
		return store.Page[store.Delivery]{}, fmt.Errorf("sqlite: list deliveries: %w", err)
	}
	rs, err := collect(rows, scanDelivery)
	if err != nil {
		return store.Page[store.Delivery]{}, fmt.Errorf("sqlite: list deliveries: %w", err)
	}
	page := store.Paginate(rs, n, func(r deliveryRow) string { return strconv.FormatInt(r.seq, 10) })
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
	rows, err := a.s.db.QueryContext(ctx, `SELECT delivery_id, n, at, status, error FROM alert_attempts
		WHERE delivery_id = ? ORDER BY n`, id)
	if err != nil {
		return nil, fmt.Errorf("sqlite: attempts: %w", err)
	}
	out, err := collect(rows, func(r interface{ Scan(...any) error }) (store.Attempt, error) {
		var at store.Attempt
		var when int64
		err := r.Scan(&at.DeliveryID, &at.N, &when, &at.Status, &at.Error)
		at.At = time.UnixMicro(when).UTC()
		return at, err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: attempts: %w", err)
	}
	return out, nil
}
