package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/llmgw/llmgw/internal/store"
)

type budgets struct{ s *Store }

// Budgets returns the budgets' counts.
func (s *Store) Budgets() store.Budgets { return budgets{s} }

// counts is a set of counts as the three arrays that unnest into rows k
// (subject, period, win); every statement below takes them as $1 to $3.
type counts struct{ subjects, periods, wins []string }

func countsOf(rows []store.BudgetItem) counts {
	var c counts
	for _, r := range rows {
		c.subjects = append(c.subjects, r.Subject)
		c.periods = append(c.periods, r.Period)
		c.wins = append(c.wins, r.Window)
	}
	return c
}

const (
	unnestCounts = `unnest($1::text[], $2::text[], $3::text[]) AS k (subject, period, win)`
	matchCounts  = `c.subject = k.subject AND c.period = k.period AND c.win = k.win`
	// lockCounts locks the counts in one order for every transaction, so
	// that two on overlapping counts never wait on each other in a cycle.
	lockCounts = `SELECT c.subject, c.period, c.win, c.spent, c.reserved FROM budget_counts c, ` + unnestCounts + `
		WHERE ` + matchCounts + ` ORDER BY c.subject COLLATE "C", c.period COLLATE "C", c.win COLLATE "C" FOR UPDATE OF c`
	// releaseExpired ($4 now) releases the counts' expired reservations
	// and answers the counts it changed.
	releaseExpired = `WITH gone AS (
			DELETE FROM budget_reservations r USING ` + unnestCounts + `
			WHERE r.subject = k.subject AND r.period = k.period AND r.win = k.win AND r.expires_at <= $4
			RETURNING r.subject, r.period, r.win, r.amount),
		sums AS (SELECT subject, period, win, sum(amount) AS amount FROM gone GROUP BY subject, period, win)
		UPDATE budget_counts c SET reserved = c.reserved - s.amount, updated_at = $4 FROM sums s
		WHERE c.subject = s.subject AND c.period = s.period AND c.win = s.win
		RETURNING c.subject, c.period, c.win, c.reserved`
	// hold ($4 id, $5 amount, $6 expiry, $7 now) reserves on every count.
	hold = `WITH held AS (
			INSERT INTO budget_reservations (subject, period, win, id, amount, expires_at)
			SELECT k.subject, k.period, k.win, $4, $5, $6 FROM ` + unnestCounts + `)
		UPDATE budget_counts c SET reserved = c.reserved + $5, updated_at = $7 FROM ` + unnestCounts + `
		WHERE ` + matchCounts
	// settle ($4 id, $5 actual, $6 now) releases the reservation and adds
	// the actual cost, answering the counts' spending after.
	settle = `WITH gone AS (
			DELETE FROM budget_reservations r USING ` + unnestCounts + `
			WHERE r.subject = k.subject AND r.period = k.period AND r.win = k.win AND r.id = $4
			RETURNING r.subject, r.period, r.win, r.amount)
		UPDATE budget_counts c SET spent = c.spent + $5, updated_at = $6,
			reserved = c.reserved - coalesce((SELECT g.amount FROM gone g
				WHERE g.subject = c.subject AND g.period = c.period AND g.win = c.win), 0)
		FROM ` + unnestCounts + ` WHERE ` + matchCounts + `
		RETURNING c.subject, c.period, c.win, c.spent`
)

type state struct{ spent, reserved int64 }

// Reserve locks the counts, releases their expired reservations, decides
// and holds, in one transaction of four round trips. Counts not yet
// stored are first created, seeded from the ledger, each on its own: a
// count created twice at once is created once, and neither creator holds
// a lock while it waits for the other.
func (b budgets) Reserve(ctx context.Context, id string, est int64, items []store.BudgetItem, expiresAt, now time.Time) (store.BudgetDecision, error) {
	if err := store.CheckBudgetItems(id, est, items); err != nil {
		return store.BudgetDecision{}, err
	}
	rows, index := store.Rows(items)
	c := countsOf(rows)
	now, expiresAt = now.UTC(), expiresAt.UTC()
	for range 2 {
		var d store.BudgetDecision
		var missing []store.BudgetItem
		err := b.s.inTx(ctx, func(tx pgx.Tx) error {
			got := map[store.BudgetCount]state{}
			batch := &pgx.Batch{}
			batch.Queue(lockCounts, c.subjects, c.periods, c.wins).Query(func(r pgx.Rows) error {
				_, err := collect(r, func(r pgx.Row) (struct{}, error) {
					var k store.BudgetCount
					var st state
					err := r.Scan(&k.Subject, &k.Period, &k.Window, &st.spent, &st.reserved)
					got[k] = st
					return struct{}{}, err
				})
				return err
			})
			batch.Queue(releaseExpired, c.subjects, c.periods, c.wins, now).Query(func(r pgx.Rows) error {
				_, err := collect(r, func(r pgx.Row) (struct{}, error) {
					var k store.BudgetCount
					var reserved int64
					err := r.Scan(&k.Subject, &k.Period, &k.Window, &reserved)
					st := got[k]
					st.reserved = reserved
					got[k] = st
					return struct{}{}, err
				})
				return err
			})
			if err := tx.SendBatch(ctx, batch).Close(); err != nil {
				return fmt.Errorf("postgres: reserve budget: %w", err)
			}
			for _, r := range rows {
				if _, ok := got[r.BudgetCount]; !ok {
					missing = append(missing, r)
				}
			}
			if len(missing) > 0 {
				return nil
			}
			for i, it := range items {
				st := got[rows[index[i]].BudgetCount]
				if st.spent > it.Limit || st.reserved > it.Limit-st.spent || est > it.Limit-st.spent-st.reserved {
					d = store.BudgetDecision{Refused: i, Spent: st.spent, Reserved: st.reserved}
					return nil // commits the released reservations
				}
			}
			if _, err := tx.Exec(ctx, hold, c.subjects, c.periods, c.wins, id, est, expiresAt, now); err != nil {
				return classify(err, "reserve budget", store.ErrNotFound)
			}
			d = store.BudgetDecision{OK: true}
			return nil
		})
		if err != nil {
			return store.BudgetDecision{}, err
		}
		if len(missing) == 0 {
			return d, nil
		}
		if err := b.create(ctx, missing, now); err != nil {
			return store.BudgetDecision{}, err
		}
	}
	return store.BudgetDecision{}, fmt.Errorf("postgres: reserve budget: counts created are missing")
}

// create stores the counts missing, seeded from the ledger; a count
// another transaction created first is kept as it is.
func (b budgets) create(ctx context.Context, missing []store.BudgetItem, now time.Time) error {
	for _, r := range missing {
		var seed int64
		if r.Seed != (store.SpendFilter{}) {
			var err error
			if seed, err = spend(ctx, b.s.pool, r.Seed); err != nil {
				return err
			}
		}
		if _, err := b.s.pool.Exec(ctx, `INSERT INTO budget_counts (subject, period, win, spent, reserved, updated_at)
			VALUES ($1, $2, $3, $4, 0, $5) ON CONFLICT DO NOTHING`, r.Subject, r.Period, r.Window, seed, now); err != nil {
			return fmt.Errorf("postgres: create budget count: %w", err)
		}
	}
	return nil
}

// Settle locks the counts in order, then releases and adds in one
// statement.
func (b budgets) Settle(ctx context.Context, id string, actual int64, items []store.BudgetItem) ([]int64, error) {
	if err := store.CheckBudgetItems(id, actual, items); err != nil {
		return nil, err
	}
	rows, index := store.Rows(items)
	c := countsOf(rows)
	after := map[store.BudgetCount]int64{}
	err := b.s.inTx(ctx, func(tx pgx.Tx) error {
		batch := &pgx.Batch{}
		batch.Queue(lockCounts, c.subjects, c.periods, c.wins)
		batch.Queue(settle, c.subjects, c.periods, c.wins, id, actual, b.s.now().UTC()).Query(func(r pgx.Rows) error {
			_, err := collect(r, func(r pgx.Row) (struct{}, error) {
				var k store.BudgetCount
				var spent int64
				err := r.Scan(&k.Subject, &k.Period, &k.Window, &spent)
				after[k] = spent
				return struct{}{}, err
			})
			return err
		})
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			return fmt.Errorf("postgres: settle budget: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]int64, len(items))
	for i := range items {
		out[i] = after[rows[index[i]].BudgetCount]
	}
	return out, nil
}

func (b budgets) Spent(ctx context.Context, c store.BudgetCount, now time.Time) (int64, int64, error) {
	if err := store.CheckBudgetCount(c); err != nil {
		return 0, 0, err
	}
	var spent, reserved int64
	err := b.s.pool.QueryRow(ctx, `SELECT coalesce(max(c.spent), 0), coalesce((SELECT sum(r.amount) FROM budget_reservations r
			WHERE r.subject = $1 AND r.period = $2 AND r.win = $3 AND r.expires_at > $4), 0)::bigint
		FROM budget_counts c WHERE c.subject = $1 AND c.period = $2 AND c.win = $3`,
		c.Subject, c.Period, c.Window, now.UTC()).Scan(&spent, &reserved)
	if err != nil {
		return 0, 0, fmt.Errorf("postgres: budget spent: %w", err)
	}
	return spent, reserved, nil
}
