package limits

import (
	"context"
	"time"

	"github.com/llmgw/llmgw/internal/budget"
)

// WithBudgets returns a limiter that admits a request against its limits
// in inner and then, when they admit it, against its budgets in b: two
// steps, each atomic. A request the budgets refuse (or cannot decide on)
// gives its limits back at once, apart from the request per minute it
// counted. It serves a limiter whose counts live elsewhere than the
// budgets' (memory, with budgets in the database); the Redis limiter
// reserves both in one step. Each reservation is bounded by
// BudgetTimeout: a database that does not answer refuses the request (the
// caller answers 503) rather than hold it.
func WithBudgets(inner Limiter, b budget.Budgeter) Limiter {
	return &spending{inner: inner, b: b, now: time.Now, timeout: BudgetTimeout}
}

// BudgetTimeout bounds one reservation of WithBudgets' budgeter.
var BudgetTimeout = 2 * time.Second

type spending struct {
	inner   Limiter
	b       budget.Budgeter
	now     func() time.Time
	timeout time.Duration
}

func (s *spending) Acquire(ctx context.Context, r Request) (Decision, Lease, error) {
	spend := r.Spend
	r.Spend = budget.Request{}
	d, le, err := s.inner.Acquire(ctx, r)
	if err != nil || !d.Allowed || len(spend.Budgets) == 0 {
		return d, le, err
	}
	rctx, cancel := context.WithTimeout(ctx, s.timeout)
	bd, res, err := s.b.Reserve(rctx, spend)
	cancel()
	if err != nil || !bd.Allowed {
		_ = le.Release(context.WithoutCancel(ctx), 0)
	}
	if err != nil {
		return Decision{}, Lease{}, err
	}
	if !bd.Allowed {
		return budgetRefusal(d, bd, s.now()), Lease{}, nil
	}
	le.Spend = res
	if !le.active {
		// No limit applied: the lease holds only the reservation.
		le = Lease{Spend: res}
	}
	return d, le, nil
}

// budgetRefusal is the decision of a request a budget refused: it may
// pass once the budget's period starts over, never for a total budget.
func budgetRefusal(d Decision, bd budget.Decision, now time.Time) Decision {
	d.Allowed, d.Subject, d.Dimension, d.Budget = false, bd.Budget.Subject, Spending, bd
	if bd.ResetAt.IsZero() {
		d.Never, d.RetryAfter = true, 0
	} else {
		d.RetryAfter = max(bd.ResetAt.Sub(now), time.Second)
	}
	return d
}
