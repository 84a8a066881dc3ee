package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/llmgw/llmgw/internal/store"
)

type budgets struct{ s *Store }

// Budgets returns the budgets' counts.
func (s *Store) Budgets() store.Budgets { return budgets{s} }

const countKey = `subject = ? AND period = ? AND win = ?`

func countArgs(c store.BudgetCount, more ...any) []any {
	return append([]any{c.Subject, c.Period, c.Window}, more...)
}

// Reserve runs in one immediate transaction: the write lock, taken at
// BEGIN, serializes it with every other writer of the file.
func (b budgets) Reserve(ctx context.Context, id string, est int64, items []store.BudgetItem, expiresAt, now time.Time) (store.BudgetDecision, error) {
	if err := store.CheckBudgetItems(id, est, items); err != nil {
		return store.BudgetDecision{}, err
	}
	rows, index := store.Rows(items)
	var d store.BudgetDecision
	err := b.s.inTx(ctx, func(tx *sql.Tx) error {
		spent := make([]int64, len(rows))
		reserved := make([]int64, len(rows))
		for j, r := range rows {
			var err error
			if spent[j], reserved[j], err = load(ctx, tx, r, now); err != nil {
				return err
			}
		}
		for i, it := range items {
			j := index[i]
			if spent[j] > it.Limit || reserved[j] > it.Limit-spent[j] || est > it.Limit-spent[j]-reserved[j] {
				d = store.BudgetDecision{Refused: i, Spent: spent[j], Reserved: reserved[j]}
				return nil // commits the released reservations
			}
		}
		for _, r := range rows {
			if _, err := tx.ExecContext(ctx, `INSERT INTO budget_reservations (subject, period, win, id, amount, expires_at)
				VALUES (?, ?, ?, ?, ?, ?)`, countArgs(r.BudgetCount, id, est, expiresAt.UnixMicro())...); err != nil {
				return classify(err, "reserve budget", store.ErrNotFound)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE budget_counts SET reserved = reserved + ?, updated_at = ? WHERE `+countKey,
				append([]any{est, now.UnixMicro()}, countArgs(r.BudgetCount)...)...); err != nil {
				return fmt.Errorf("sqlite: reserve budget: %w", err)
			}
		}
		d = store.BudgetDecision{OK: true}
		return nil
	})
	if err != nil {
		return store.BudgetDecision{}, err
	}
	return d, nil
}

// load reads r's count in tx, creating it seeded from the ledger when
// missing, after releasing its reservations expired at now.
func load(ctx context.Context, tx *sql.Tx, r store.BudgetItem, now time.Time) (spent, reserved int64, err error) {
	err = tx.QueryRowContext(ctx, `SELECT spent, reserved FROM budget_counts WHERE `+countKey, countArgs(r.BudgetCount)...).Scan(&spent, &reserved)
	if errors.Is(err, sql.ErrNoRows) {
		if r.Seed != (store.SpendFilter{}) {
			if spent, err = spend(ctx, tx, r.Seed); err != nil {
				return 0, 0, err
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO budget_counts (subject, period, win, spent, reserved, updated_at)
			VALUES (?, ?, ?, ?, 0, ?)`, countArgs(r.BudgetCount, spent, now.UnixMicro())...)
		if err != nil {
			return 0, 0, fmt.Errorf("sqlite: create budget count: %w", err)
		}
		return spent, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("sqlite: read budget count: %w", err)
	}
	var gone int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(sum(amount), 0) FROM budget_reservations WHERE `+countKey+` AND expires_at <= ?`,
		countArgs(r.BudgetCount, now.UnixMicro())...).Scan(&gone); err != nil {
		return 0, 0, fmt.Errorf("sqlite: release budget reservations: %w", err)
	}
	if gone == 0 {
		return spent, reserved, nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM budget_reservations WHERE `+countKey+` AND expires_at <= ?`,
		countArgs(r.BudgetCount, now.UnixMicro())...); err != nil {
		return 0, 0, fmt.Errorf("sqlite: release budget reservations: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE budget_counts SET reserved = reserved - ?, updated_at = ? WHERE `+countKey,
		append([]any{gone, now.UnixMicro()}, countArgs(r.BudgetCount)...)...); err != nil {
		return 0, 0, fmt.Errorf("sqlite: release budget reservations: %w", err)
	}
	return spent, reserved - gone, nil
}

func (b budgets) Settle(ctx context.Context, id string, actual int64, items []store.BudgetItem) ([]int64, error) {
	if err := store.CheckBudgetItems(id, actual, items); err != nil {
		return nil, err
	}
	rows, index := store.Rows(items)
	after := make([]int64, len(rows))
	now := b.s.now().UnixMicro()
	err := b.s.inTx(ctx, func(tx *sql.Tx) error {
		for j, r := range rows {
			var held int64
			err := tx.QueryRowContext(ctx, `DELETE FROM budget_reservations WHERE `+countKey+` AND id = ? RETURNING amount`,
				countArgs(r.BudgetCount, id)...).Scan(&held)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("sqlite: settle budget: %w", err)
			}
			err = tx.QueryRowContext(ctx, `UPDATE budget_counts SET spent = spent + ?, reserved = reserved - ?, updated_at = ?
				WHERE `+countKey+` RETURNING spent`, append([]any{actual, held, now}, countArgs(r.BudgetCount)...)...).Scan(&after[j])
			if err != nil && !errors.Is(err, sql.ErrNoRows) { // no count: nothing was reserved on it
				return fmt.Errorf("sqlite: settle budget: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]int64, len(items))
	for i := range items {
		out[i] = after[index[i]]
	}
	return out, nil
}

func (b budgets) Spent(ctx context.Context, c store.BudgetCount, now time.Time) (int64, int64, error) {
	if err := store.CheckBudgetCount(c); err != nil {
		return 0, 0, err
	}
	var spent, reserved int64
	err := b.s.db.QueryRowContext(ctx, `SELECT c.spent, coalesce((SELECT sum(r.amount) FROM budget_reservations r
			WHERE r.subject = c.subject AND r.period = c.period AND r.win = c.win AND r.expires_at > ?), 0)
		FROM budget_counts c WHERE c.subject = ? AND c.period = ? AND c.win = ?`,
		now.UnixMicro(), c.Subject, c.Period, c.Window).Scan(&spent, &reserved)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("sqlite: budget spent: %w", err)
	}
	return spent, reserved, nil
}
