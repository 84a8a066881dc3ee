package budget_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"math/big"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/llmgw/llmgw/internal/budget"
)

const dollar = int64(1_000_000_000_000) // picodollars

func redisClient(t *testing.T) *redis.Client {
	u := os.Getenv("LLMGW_TEST_REDIS_URL")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("LLMGW_TEST_REDIS_URL is not set; CI must provide Redis")
		}
		t.Skip("LLMGW_TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/0)")
	}
	opt, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

func prefix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "{llmgw-test-" + hex.EncodeToString(b[:]) + "}:bud:"
}

// each runs f on memory and on Redis; mk makes a replica (two calls on
// Redis: two replicas sharing the counts).
func each(t *testing.T, f func(t *testing.T, mk func() budget.Budgeter)) {
	t.Run("memory", func(t *testing.T) {
		m := budget.NewMemory(nil, 0)
		f(t, func() budget.Budgeter { return m })
	})
	t.Run("redis", func(t *testing.T) {
		c := redisClient(t)
		p := prefix()
		f(t, func() budget.Budgeter { return budget.NewRedis(c, budget.RedisOptions{Prefix: p}) })
	})
}

func reserve(t *testing.T, b budget.Budgeter, r budget.Request) (budget.Decision, budget.Reservation) {
	t.Helper()
	d, res, err := b.Reserve(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return d, res
}

func TestWindows(t *testing.T) {
	at := time.Date(2026, 12, 2, 23, 59, 59, 0, time.FixedZone("x", -5*3600)) // 2026-12-03 04:59:59 UTC
	for _, tc := range []struct {
		p    budget.Period
		name string
		end  time.Time
	}{
		{budget.Daily, "2026-12-03", time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)},
		{budget.Weekly, "2026-W49", time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)},
		{budget.Monthly, "2026-12", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{budget.Total, "total", time.Time{}},
	} {
		name, end := tc.p.Window(at)
		if name != tc.name || !end.Equal(tc.end) {
			t.Errorf("%s: %s until %v, want %s until %v", tc.p, name, end, tc.name, tc.end)
		}
	}
	// The ISO week of a Sunday belongs to the Monday before.
	if name, end := budget.Weekly.Window(time.Date(2027, 1, 3, 12, 0, 0, 0, time.UTC)); name != "2026-W53" || !end.Equal(time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("week of 2027-01-03: %s until %v", name, end)
	}
}

func TestReserveAndSettle(t *testing.T) {
	each(t, func(t *testing.T, mk func() budget.Budgeter) {
		b := mk()
		key := budget.Budget{Subject: "key:k", Limit: 10 * dollar, Period: budget.Monthly}
		r := budget.Request{Budgets: []budget.Budget{key}, Estimate: 3 * dollar}
		var held []budget.Reservation
		for range 3 {
			d, res := reserve(t, b, r)
			if !d.Allowed {
				t.Fatalf("reservation refused: %+v", d)
			}
			held = append(held, res)
		}
		d, _ := reserve(t, b, r)
		if d.Allowed || d.Budget != key || d.Spent != 0 || d.Reserved != 9*dollar || d.ResetAt.IsZero() {
			t.Fatalf("fourth: %+v", d)
		}
		if err := held[0].Settle(context.Background(), 1*dollar); err != nil {
			t.Fatal(err)
		}
		if err := held[0].Settle(context.Background(), 1*dollar); err != nil { // twice: nothing more
			t.Fatal(err)
		}
		if spent, reserved, err := b.Spent(context.Background(), key); err != nil || spent != dollar || reserved != 6*dollar {
			t.Fatalf("spent %d reserved %d, %v", spent, reserved, err)
		}
		if d, _ := reserve(t, b, r); !d.Allowed { // 1 + 6 + 3 = 10
			t.Fatalf("after a settle: %+v", d)
		}
	})
}

// A call is admitted by all its budgets or held by none.
func TestAllOrNothing(t *testing.T) {
	each(t, func(t *testing.T, mk func() budget.Budgeter) {
		b := mk()
		key := budget.Budget{Subject: "key:k", Limit: 100 * dollar, Period: budget.Daily}
		tenant := budget.Budget{Subject: "tenant:t", Limit: 2 * dollar, Period: budget.Total}
		if d, _ := reserve(t, b, budget.Request{Budgets: []budget.Budget{key, tenant}, Estimate: 3 * dollar}); d.Allowed || d.Budget != tenant {
			t.Fatalf("over the tenant's budget: %+v", d)
		}
		if spent, reserved, _ := b.Spent(context.Background(), key); spent != 0 || reserved != 0 {
			t.Fatalf("the refused call holds %d reserved, %d spent on the key", reserved, spent)
		}
	})
}

// 200 concurrent calls on two replicas at a budget that allows about 20:
// settled spending never exceeds the budget, since each estimate bounds
// its call's actual cost.
func TestConcurrentCallsHoldTheBudget(t *testing.T) {
	each(t, func(t *testing.T, mk func() budget.Budgeter) {
		replicas := []budget.Budgeter{mk(), mk()}
		key := budget.Budget{Subject: "key:k", Limit: 20 * dollar, Period: budget.Total}
		var admitted, refused atomic.Int64
		var wg sync.WaitGroup
		for i := range 200 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				b := replicas[i%2]
				d, res, err := b.Reserve(context.Background(), budget.Request{Budgets: []budget.Budget{key}, Estimate: dollar})
				if err != nil {
					t.Error(err)
					return
				}
				if !d.Allowed {
					refused.Add(1)
					return
				}
				admitted.Add(1)
				n, _ := rand.Int(rand.Reader, big.NewInt(dollar/2))
				time.Sleep(time.Millisecond)
				if err := res.Settle(context.Background(), dollar/2+n.Int64()); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		spent, reserved, err := replicas[0].Spent(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		if spent > key.Limit || reserved != 0 || admitted.Load() < 20 || refused.Load() == 0 {
			t.Fatalf("spent %d of %d, reserved %d, admitted %d, refused %d", spent, key.Limit, reserved, admitted.Load(), refused.Load())
		}
		t.Logf("admitted %d, refused %d, spent $%.2f of $20", admitted.Load(), refused.Load(), float64(spent)/float64(dollar))
	})
}

// The reservations of a replica that died expire.
func TestReservationsExpire(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
		var mu sync.Mutex
		m := budget.NewMemory(func() time.Time { mu.Lock(); defer mu.Unlock(); return now }, time.Minute)
		key := budget.Budget{Subject: "key:k", Limit: 2 * dollar, Period: budget.Daily}
		r := budget.Request{Budgets: []budget.Budget{key}, Estimate: 2 * dollar}
		if d, _ := reserve(t, m, r); !d.Allowed {
			t.Fatal(d)
		}
		if d, _ := reserve(t, m, r); d.Allowed {
			t.Fatal("held twice")
		}
		mu.Lock()
		now = now.Add(2 * time.Minute)
		mu.Unlock()
		if d, _ := reserve(t, m, r); !d.Allowed {
			t.Fatalf("after the reservation expired: %+v", d)
		}
	})
	t.Run("redis", func(t *testing.T) {
		b := budget.NewRedis(redisClient(t), budget.RedisOptions{Prefix: prefix(), ReservationTTL: 300 * time.Millisecond})
		key := budget.Budget{Subject: "key:k", Limit: 2 * dollar, Period: budget.Daily}
		r := budget.Request{Budgets: []budget.Budget{key}, Estimate: 2 * dollar}
		if d, _ := reserve(t, b, r); !d.Allowed {
			t.Fatal(d)
		}
		if d, _ := reserve(t, b, r); d.Allowed {
			t.Fatal("held twice")
		}
		time.Sleep(400 * time.Millisecond)
		if d, _ := reserve(t, b, r); !d.Allowed {
			t.Fatalf("after the reservation expired: %+v", d)
		}
	})
}

func TestInvalid(t *testing.T) {
	m := budget.NewMemory(nil, 0)
	for _, r := range []budget.Request{
		{Budgets: []budget.Budget{{Subject: "", Limit: 1, Period: budget.Daily}}},
		{Budgets: []budget.Budget{{Subject: "k", Limit: 0, Period: budget.Daily}}},
		{Budgets: []budget.Budget{{Subject: "k", Limit: 1, Period: "yearly"}}},
		{Budgets: []budget.Budget{{Subject: "k", Limit: 1, Period: budget.Daily}}, Estimate: -1},
	} {
		if _, _, err := m.Reserve(context.Background(), r); err == nil {
			t.Errorf("%+v accepted", r)
		}
	}
}
