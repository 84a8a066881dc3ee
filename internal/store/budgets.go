package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"
)

// Budgets keeps the spending counts of budgets in the database, for
// gateways that share no Redis: one count per subject, period and window
// (the period's name for the time, "2026-12" for a month), with the
// reservations of calls in flight. Every operation is one transaction, so
// that replicas sharing the database admit a budget's spending once.
type Budgets interface {
	// Reserve releases the expired reservations of the items' counts,
	// then admits est on every item, or on none: each item needs
	// spent+reserved+est <= its limit. Admitted, it holds est on each
	// count under the reservation id until expiresAt, and answers ok.
	// Refused, it answers the first item that refused (its index in
	// items) with that count's spent and reserved, and changes nothing
	// but the expired reservations. A count not yet stored is created
	// with the spending its item's Seed selects from the ledger. Items
	// naming the same count are held once.
	Reserve(ctx context.Context, id string, est int64, items []BudgetItem, expiresAt, now time.Time) (BudgetDecision, error)
	// Settle releases the reservation id on the items' counts (when it is
	// still held) and adds actual to their spending: a reservation that
	// expired meanwhile is spent all the same. It answers each item's
	// spending after, in the order of items.
	Settle(ctx context.Context, id string, actual int64, items []BudgetItem) ([]int64, error)
	// Spent answers a count's spending and its reservations not expired
	// at now; a count not stored answers zeros.
	Spent(ctx context.Context, c BudgetCount, now time.Time) (spent, reserved int64, err error)
}

// BudgetCount names one count.
type BudgetCount struct {
	Subject string // "key:<id>", "team:<id>", "tenant:<id>"
	Period  string // "daily", "weekly", "monthly", "total"
	Window  string // the period's name for the time, "total" for total
}

// BudgetItem is one budget a reservation applies to.
type BudgetItem struct {
	BudgetCount
	// Limit in picodollars.
	Limit int64
	// Seed selects the ledger's spending a count not yet stored starts
	// from: what was spent in its window before the count existed (the
	// database's counts are new, or were reset). A Seed naming no ID
	// starts at zero.
	Seed SpendFilter
}

// BudgetDecision is the outcome of Budgets.Reserve.
type BudgetDecision struct {
	OK bool
	// Refused is the index in items of the count that refused, with its
	// spent and reserved; meaningless when OK.
	Refused         int
	Spent, Reserved int64
}

// MaxBudgetItems bounds the items of one reservation.
const MaxBudgetItems = 16

// MaxBudgetText bounds a count's names and a reservation's ID in bytes.
const MaxBudgetText = 256

// CheckBudgetItems checks what Reserve and Settle are given.
func CheckBudgetItems(id string, amount int64, items []BudgetItem) error {
	if id == "" || len(id) > MaxBudgetText || !Text(id) {
		return fmt.Errorf("%w: a reservation ID must be 1 to %d bytes of UTF-8 without NUL", ErrInvalid, MaxBudgetText)
	}
	if amount < 0 {
		return fmt.Errorf("%w: a negative amount", ErrInvalid)
	}
	if len(items) == 0 || len(items) > MaxBudgetItems {
		return fmt.Errorf("%w: a reservation holds 1 to %d budgets", ErrInvalid, MaxBudgetItems)
	}
	for _, it := range items {
		if err := CheckBudgetCount(it.BudgetCount); err != nil {
			return err
		}
		if it.Limit <= 0 {
			return fmt.Errorf("%w: a budget's limit must be positive", ErrInvalid)
		}
		if it.Seed != (SpendFilter{}) {
			if err := CheckSpendFilter(&it.Seed); err != nil {
				return err
			}
		}
	}
	return nil
}

// CheckBudgetCount checks a count's names.
func CheckBudgetCount(c BudgetCount) error {
	for _, s := range []string{c.Subject, c.Period, c.Window} {
		if s == "" || len(s) > MaxBudgetText || !Text(s) {
			return fmt.Errorf("%w: a budget's subject, period and window must be 1 to %d bytes of UTF-8 without NUL", ErrInvalid, MaxBudgetText)
		}
	}
	return nil
}

// Rows returns the distinct counts of items in the order every driver
// locks them (by subject, period, window), so that transactions on
// overlapping counts never wait on each other in a cycle; index[i] is
// item i's position in rows.
func Rows(items []BudgetItem) (rows []BudgetItem, index []int) {
	for _, it := range items {
		if !slices.ContainsFunc(rows, func(r BudgetItem) bool { return r.BudgetCount == it.BudgetCount }) {
			rows = append(rows, it)
		}
	}
	slices.SortFunc(rows, func(a, b BudgetItem) int {
		return cmp.Or(cmp.Compare(a.Subject, b.Subject), cmp.Compare(a.Period, b.Period), cmp.Compare(a.Window, b.Window))
	})
	index = make([]int, len(items))
	for i, it := range items {
		index[i] = slices.IndexFunc(rows, func(r BudgetItem) bool { return r.BudgetCount == it.BudgetCount })
	}
	return rows, index
}
