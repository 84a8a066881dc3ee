package limits_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/llmgw/llmgw/internal/budget"
	"github.com/llmgw/llmgw/internal/limits"
)

// eachBudgeted runs f against the limiters that keep budgets: memory
// with budgets beside it (WithBudgets), and Redis keeping both. seed, when
// set, is what every budget's count starts from.
func eachBudgeted(t *testing.T, seed int64, f func(t *testing.T, l limits.Limiter, spent func(budget.Budget) (int64, int64))) {
	seeder := func(context.Context, budget.Budget, time.Time, time.Time) (int64, error) { return seed, nil }
	// The memory budgeter starts every count at zero (it keeps one
	// process's budgets, for tests): it has no seeded case.
	if seed == 0 {
		t.Run("memory", func(t *testing.T) {
			b := budget.NewMemory(nil, 0)
			f(t, limits.WithBudgets(limits.NewMemory(nil), b), func(x budget.Budget) (int64, int64) {
				s, r, err := b.Spent(context.Background(), x)
				if err != nil {
					t.Fatal(err)
				}
				return s, r
			})
		})
	}
	t.Run("redis", func(t *testing.T) {
		c := redisClient(t)
		p := prefix()
		b := budget.NewRedis(c, budget.RedisOptions{Prefix: p + "bud:", Seeder: seeder})
		l := limits.NewRedis(c, limits.RedisOptions{Prefix: p, Budgets: b})
		t.Cleanup(func() { l.Close() })
		f(t, l, func(x budget.Budget) (int64, int64) {
			s, r, err := b.Spent(context.Background(), x)
			if err != nil {
				t.Fatal(err)
			}
			return s, r
		})
	})
}

// A request is admitted only when its limits and its budgets all admit
// it; one refused by a budget takes no limit, one refused by a limit
// reserves no budget.
func TestLimitsAndBudgetsTogether(t *testing.T) {
	eachBudgeted(t, 0, func(t *testing.T, l limits.Limiter, spent func(budget.Budget) (int64, int64)) {
		b := budget.Budget{Subject: "key:k", Limit: 100, Period: budget.Daily}
		conc := limits.Check{Subject: "key:k", Limit: limits.Limit{Concurrent: 1}}
		r := limits.Request{Checks: []limits.Check{conc}, Spend: budget.Request{Budgets: []budget.Budget{b}, Estimate: 60}}

		d, le := acquire(t, l, r)
		if !d.Allowed || !le.Spend.Valid() {
			t.Fatalf("first request: %+v", d)
		}
		if _, res := spent(b); res != 60 {
			t.Fatalf("reserved %d, want 60", res)
		}
		// The concurrency slot is taken: refused by the limit, the
		// second request reserves nothing.
		d, _ = acquire(t, l, r)
		if d.Allowed || d.Dimension != limits.Concurrency {
			t.Fatalf("second request: %+v", d)
		}
		if _, res := spent(b); res != 60 {
			t.Fatalf("a request refused by a limit changed the reservations to %d", res)
		}
		if err := le.Release(context.Background(), 0); err != nil {
			t.Fatal(err)
		}
		if _, err := le.Spend.Settle(context.Background(), 50); err != nil {
			t.Fatal(err)
		}
		// 50 spent: another 60 does not fit, and the budget says so; the
		// concurrency slot it would have taken stays free.
		d, _ = acquire(t, l, r)
		if d.Allowed || d.Dimension != limits.Spending || d.Budget.Budget != b || d.Budget.Spent != 50 || d.RetryAfter <= 0 {
			t.Fatalf("over the budget: %+v", d)
		}
		small := r
		small.Spend.Estimate = 50
		d, le = acquire(t, l, small)
		if !d.Allowed {
			t.Fatalf("a request that fits was refused: %+v (a refused request kept its slot?)", d)
		}
		_ = le.Release(context.Background(), 0)
		_, _ = le.Spend.Settle(context.Background(), 50)
		if s, res := spent(b); s != 100 || res != 0 {
			t.Fatalf("spent %d reserved %d, want 100 and 0", s, res)
		}
	})
}

// A count Redis does not hold starts from the seeder's sum (the ledger's),
// decided in the same call.
func TestLimitsSeedBudgets(t *testing.T) {
	eachBudgeted(t, 90, func(t *testing.T, l limits.Limiter, spent func(budget.Budget) (int64, int64)) {
		b := budget.Budget{Subject: "tenant:t", Limit: 100, Period: budget.Monthly}
		r := limits.Request{Spend: budget.Request{Budgets: []budget.Budget{b}, Estimate: 20}}
		d, _ := acquire(t, l, r)
		if d.Allowed || d.Budget.Spent != 90 {
			t.Fatalf("90 of 100 spent before, a request of 20 was: %+v", d)
		}
		r.Spend.Estimate = 10
		if d, _ := acquire(t, l, r); !d.Allowed {
			t.Fatalf("a request of 10 was refused: %+v", d)
		}
	})
}

// With Redis, a request's limits and budgets take one round trip.
func TestLimitsAndBudgetsOneRoundTrip(t *testing.T) {
	c := redisClient(t)
	var calls atomic.Int64
	c.AddHook(countHook{&calls})
	p := prefix()
	b := budget.NewRedis(c, budget.RedisOptions{Prefix: p + "bud:"})
	l := limits.NewRedis(c, limits.RedisOptions{Prefix: p, Budgets: b})
	t.Cleanup(func() { l.Close() })
	r := limits.Request{
		Checks: []limits.Check{{Subject: "key:k", Limit: limits.Limit{RPM: 1000, TPM: 100000, Concurrent: 10}},
			{Subject: "tenant:t", Limit: limits.Limit{RPM: 1000}}},
		Tokens: 100,
		Spend: budget.Request{Budgets: []budget.Budget{{Subject: "key:k", Limit: 1e12, Period: budget.Daily},
			{Subject: "tenant:t", Limit: 1e12, Period: budget.Monthly}}, Estimate: 1000},
	}
	ctx := context.Background()
	if d, _, err := l.Acquire(ctx, r); err != nil || !d.Allowed { // loads the script
		t.Fatal(d, err)
	}
	before := calls.Load()
	d, _, err := l.Acquire(ctx, r)
	if err != nil || !d.Allowed {
		t.Fatal(d, err)
	}
	if n := calls.Load() - before; n != 1 {
		t.Fatalf("one request with two limits and two budgets took %d round trips, want 1", n)
	}
}

type countHook struct{ n *atomic.Int64 }

func (h countHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h countHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}
func (h countHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmds)
	}
}

// stuck is a budgeter whose store does not answer: it returns only when
// the call's context ends.
type stuck struct{ budget.Budgeter }

func (stuck) Reserve(ctx context.Context, _ budget.Request) (budget.Decision, budget.Reservation, error) {
	<-ctx.Done()
	return budget.Decision{}, budget.Reservation{}, ctx.Err()
}

// A budget store that does not answer refuses the request with an error
// once BudgetTimeout has passed, and gives the limits taken back, rather
// than hold the request for as long as the caller would wait.
func TestBudgetStoreStuck(t *testing.T) {
	old := limits.BudgetTimeout
	limits.BudgetTimeout = 50 * time.Millisecond
	t.Cleanup(func() { limits.BudgetTimeout = old })
	l := limits.WithBudgets(limits.NewMemory(nil), stuck{})
	r := limits.Request{Checks: []limits.Check{{Subject: "key:k", Limit: limits.Limit{Concurrent: 1}}},
		Spend: budget.Request{Budgets: []budget.Budget{{Subject: "key:k", Limit: 100, Period: budget.Daily}}, Estimate: 1}}
	// The caller would wait an hour.
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	if _, _, err := l.Acquire(ctx, r); err == nil {
		t.Fatal("a budget store that does not answer admitted the request")
	}
	// The concurrency slot was given back.
	r.Spend = budget.Request{}
	if d, _, err := l.Acquire(ctx, r); err != nil || !d.Allowed {
		t.Fatalf("after the refusal: %+v %v", d, err)
	}
}
