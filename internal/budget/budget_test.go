package budget_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/llmgw/llmgw/internal/budget"
	"github.com/llmgw/llmgw/internal/store"
	"github.com/llmgw/llmgw/internal/store/pgtest"
	"github.com/llmgw/llmgw/internal/store/postgres"
	"github.com/llmgw/llmgw/internal/store/sqlite"
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

func openSQLite(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openPostgres(t *testing.T, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// stores makes, per driver, stores on one new database: each call a new
// handle on it, as replicas have.
func stores(t *testing.T, f func(t *testing.T, open func() store.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "llmgw.db")
		f(t, func() store.Store { return openSQLite(t, path) })
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := pgtest.FreshSchema(t)
		f(t, func() store.Store { return openPostgres(t, dsn) })
	})
}

// each runs f on memory, on Redis and on the database; mk makes a
// replica (two calls on Redis or a database: two replicas sharing the
// counts).
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
	stores(t, func(t *testing.T, open func() store.Store) {
		f(t, func() budget.Budgeter { return budget.NewStore(open().Budgets(), budget.StoreOptions{}) })
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
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		p          budget.Period
		name       string
		start, end time.Time
	}{
		{budget.Daily, "2026-12-03", day(2026, 12, 3), day(2026, 12, 4)},
		{budget.Weekly, "2026-W49", day(2026, 11, 30), day(2026, 12, 7)},
		{budget.Monthly, "2026-12", day(2026, 12, 1), day(2027, 1, 1)},
		{budget.Total, "total", time.Time{}, time.Time{}},
	} {
		name, start, end := tc.p.Window(at)
		if name != tc.name || !start.Equal(tc.start) || !end.Equal(tc.end) || start.Location() != time.UTC {
			t.Errorf("%s: %s from %v until %v, want %s from %v until %v", tc.p, name, start, end, tc.name, tc.start, tc.end)
		}
	}
	// The ISO week of a Sunday belongs to the Monday before, across a
	// year's end.
	if name, start, end := budget.Weekly.Window(time.Date(2027, 1, 3, 12, 0, 0, 0, time.UTC)); name != "2026-W53" ||
		!start.Equal(day(2026, 12, 28)) || !end.Equal(day(2027, 1, 4)) {
		t.Errorf("week of 2027-01-03: %s from %v until %v", name, start, end)
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
		if after, err := held[0].Settle(context.Background(), 1*dollar); err != nil || len(after) != 1 || after[0] != dollar {
			t.Fatalf("settle: spent after %v, %v", after, err)
		}
		if after, err := held[0].Settle(context.Background(), 1*dollar); err != nil || after != nil { // twice: nothing more
			t.Fatalf("second settle: %v, %v", after, err)
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
				if _, err := res.Settle(context.Background(), dollar/2+n.Int64()); err != nil {
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
	stores(t, func(t *testing.T, open func() store.Store) {
		now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
		var mu sync.Mutex
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		b := budget.NewStore(open().Budgets(), budget.StoreOptions{Now: clock, ReservationTTL: time.Minute})
		key := budget.Budget{Subject: "key:k", Limit: 2 * dollar, Period: budget.Daily}
		r := budget.Request{Budgets: []budget.Budget{key}, Estimate: 2 * dollar}
		if d, _ := reserve(t, b, r); !d.Allowed {
			t.Fatal(d)
		}
		if d, _ := reserve(t, b, r); d.Allowed {
			t.Fatal("held twice")
		}
		mu.Lock()
		now = now.Add(2 * time.Minute)
		mu.Unlock()
		if spent, reserved, err := b.Spent(context.Background(), key); err != nil || spent != 0 || reserved != 0 {
			t.Fatalf("an expired reservation still counts: spent %d, reserved %d, %v", spent, reserved, err)
		}
		if d, _ := reserve(t, b, r); !d.Allowed {
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

// Settle answers each budget's spending after, in the request's order;
// two budgets on one count (two limits) spend once.
func TestSettleAnswersSpentAfter(t *testing.T) {
	each(t, func(t *testing.T, mk func() budget.Budgeter) {
		b := mk()
		key := budget.Budget{Subject: "key:k", Limit: 100 * dollar, Period: budget.Monthly}
		tenant := budget.Budget{Subject: "tenant:t", Limit: 100 * dollar, Period: budget.Daily}
		tenantCap := budget.Budget{Subject: "tenant:t", Limit: 50 * dollar, Period: budget.Daily}
		_, first := reserve(t, b, budget.Request{Budgets: []budget.Budget{key}, Estimate: 5 * dollar})
		if _, err := first.Settle(context.Background(), 5*dollar); err != nil {
			t.Fatal(err)
		}
		d, res := reserve(t, b, budget.Request{Budgets: []budget.Budget{tenant, key, tenantCap}, Estimate: 3 * dollar})
		if !d.Allowed {
			t.Fatal(d)
		}
		after, err := res.Settle(context.Background(), 2*dollar)
		if err != nil {
			t.Fatal(err)
		}
		if len(after) != 3 || after[0] != 2*dollar || after[1] != 7*dollar || after[2] != 2*dollar {
			t.Fatalf("spent after: %v", after)
		}
		if spent, reserved, err := b.Spent(context.Background(), tenant); err != nil || spent != 2*dollar || reserved != 0 {
			t.Fatalf("tenant: spent %d reserved %d, %v", spent, reserved, err)
		}
	})
}

// A database's count that starts in the middle of its period starts from
// what the ledger has of the period, once.
func TestStoreSeedsFromLedger(t *testing.T) {
	stores(t, func(t *testing.T, open func() store.Store) {
		st := open()
		now := time.Date(2026, 12, 15, 10, 0, 0, 0, time.UTC)
		recs := []store.UsageRecord{
			{RequestID: "nov", At: time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC), KeyID: "k1", TenantID: "t1", CostPico: 100 * dollar, CostKnown: true},
			{RequestID: "dec-1", At: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), KeyID: "k1", TenantID: "t1", CostPico: 6 * dollar, CostKnown: true},
			{RequestID: "dec-2", At: time.Date(2026, 12, 14, 0, 0, 0, 0, time.UTC), KeyID: "k2", TenantID: "t1", CostPico: 3 * dollar, CostKnown: true},
		}
		if _, err := st.Ledger().Insert(context.Background(), recs); err != nil {
			t.Fatal(err)
		}
		b := budget.NewStore(st.Budgets(), budget.StoreOptions{Now: func() time.Time { return now }})
		key := budget.Budget{Subject: "key:k1", Limit: 10 * dollar, Period: budget.Monthly}
		tenant := budget.Budget{Subject: "tenant:t1", Limit: 10 * dollar, Period: budget.Monthly}
		// The key spent 6 this month: 6 + 5 > 10.
		d, _ := reserve(t, b, budget.Request{Budgets: []budget.Budget{key}, Estimate: 5 * dollar})
		if d.Allowed || d.Spent != 6*dollar || d.Budget != key {
			t.Fatalf("key: %+v", d)
		}
		// The tenant spent 9 this month: 9 + 2 > 10, 9 + 1 fits.
		if d, _ := reserve(t, b, budget.Request{Budgets: []budget.Budget{tenant}, Estimate: 2 * dollar}); d.Allowed || d.Spent != 9*dollar {
			t.Fatalf("tenant: %+v", d)
		}
		if d, _ := reserve(t, b, budget.Request{Budgets: []budget.Budget{tenant}, Estimate: dollar}); !d.Allowed {
			t.Fatalf("tenant within: %+v", d)
		}
		// Seeded once: the ledger's later records are the counts' too.
		if _, err := st.Ledger().Insert(context.Background(), []store.UsageRecord{{RequestID: "dec-3", At: now, KeyID: "k1", TenantID: "t1", CostPico: dollar, CostKnown: true}}); err != nil {
			t.Fatal(err)
		}
		if spent, _, err := b.Spent(context.Background(), key); err != nil || spent != 6*dollar {
			t.Fatalf("key after more records: %d, %v", spent, err)
		}
	})
}

func TestLedgerSeeder(t *testing.T) {
	st := openSQLite(t, filepath.Join(t.TempDir(), "llmgw.db"))
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	if _, err := st.Ledger().Insert(context.Background(), []store.UsageRecord{
		{RequestID: "a", At: at, KeyID: "k1", TeamID: "m1", TenantID: "t1", CostPico: 1, CostKnown: true},
		{RequestID: "b", At: at, KeyID: "k2", TeamID: "m1", TenantID: "t1", CostPico: 10, CostKnown: true},
		{RequestID: "c", At: at.Add(time.Hour), KeyID: "k2", TeamID: "m2", TenantID: "t1", CostPico: 100, CostKnown: true},
	}); err != nil {
		t.Fatal(err)
	}
	seed := budget.LedgerSeeder(st.Ledger())
	for subject, want := range map[string]int64{
		"key:k1": 1, "key:k2": 10, "team:m1": 11, "tenant:t1": 11, "team:m2": 0,
		"k1": 0, "user:k1": 0, "key:": 0,
	} {
		got, err := seed(context.Background(), budget.Budget{Subject: subject, Limit: 1, Period: budget.Daily}, at, at.Add(time.Hour))
		if err != nil || got != want {
			t.Errorf("%s: %d, %v; want %d", subject, got, err, want)
		}
	}
	if got, err := seed(context.Background(), budget.Budget{Subject: "tenant:t1", Limit: 1, Period: budget.Total}, time.Time{}, time.Time{}); err != nil || got != 111 {
		t.Errorf("tenant in total: %d, %v", got, err)
	}
}

// Redis counts missing (a new period, Redis emptied) start from the
// seeder's sum, seeded once however many replicas find them missing.
func TestRedisSeeds(t *testing.T) {
	c := redisClient(t)
	p := prefix()
	now := time.Date(2026, 12, 15, 10, 0, 0, 0, time.UTC)
	var calls atomic.Int64
	var froms, tos sync.Map
	// Two replicas seed at once: the first waits for the second to ask
	// too, the second answers after a call was admitted and settled.
	second, settled := make(chan struct{}), make(chan struct{})
	var settledOnce sync.Once
	seeder := func(_ context.Context, b budget.Budget, from, to time.Time) (int64, error) {
		froms.Store(b.Subject, from)
		tos.Store(b.Subject, to)
		switch calls.Add(1) {
		case 1:
			select {
			case <-second:
			case <-time.After(5 * time.Second):
				t.Error("no second replica asked to seed")
			}
		case 2:
			close(second)
			select {
			case <-settled:
			case <-time.After(5 * time.Second):
				t.Error("no call settled")
			}
		}
		return 7 * dollar, nil
	}
	mk := func() budget.Budgeter {
		return budget.NewRedis(c, budget.RedisOptions{Prefix: p, Seeder: seeder, Now: func() time.Time { return now }})
	}
	replicas := []budget.Budgeter{mk(), mk()}
	key := budget.Budget{Subject: "key:k", Limit: 10 * dollar, Period: budget.Monthly}
	var wg sync.WaitGroup
	var admitted atomic.Int64
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, res, err := replicas[i%2].Reserve(context.Background(), budget.Request{Budgets: []budget.Budget{key}, Estimate: dollar})
			if err != nil {
				t.Error(err)
			}
			if d.Allowed {
				admitted.Add(1)
				if _, err := res.Settle(context.Background(), dollar); err != nil {
					t.Error(err)
				}
				settledOnce.Do(func() { close(settled) })
			}
		}()
	}
	wg.Wait()
	// 7 seeded + 3 spent = 10: a count seeded again after a call settled
	// would forget that call and admit more.
	if spent, reserved, err := replicas[0].Spent(context.Background(), key); err != nil || spent != 10*dollar || reserved != 0 || admitted.Load() != 3 {
		t.Fatalf("spent %d reserved %d admitted %d, %v", spent, reserved, admitted.Load(), err)
	}
	if f, _ := froms.Load("key:k"); !f.(time.Time).Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("seeded from %v", f)
	}
	if f, _ := tos.Load("key:k"); !f.(time.Time).Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("seeded until %v", f)
	}
	n := calls.Load()
	if d, _ := reserve(t, replicas[1], budget.Request{Budgets: []budget.Budget{key}, Estimate: dollar}); d.Allowed || calls.Load() != n {
		t.Fatalf("a seeded count: %+v, seeder asked %d more times", d, calls.Load()-n)
	}
	// Redis loses the counts: the next reservation seeds them again.
	keys, err := c.Keys(context.Background(), p+"*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys %v, %v", keys, err)
	}
	if err := c.Del(context.Background(), keys...).Err(); err != nil {
		t.Fatal(err)
	}
	d, res := reserve(t, replicas[0], budget.Request{Budgets: []budget.Budget{key}, Estimate: 2 * dollar})
	if !d.Allowed || calls.Load() != n+1 {
		t.Fatalf("after the counts were lost: %+v, seeder asked %d more times", d, calls.Load()-n)
	}
	after, err := res.Settle(context.Background(), dollar)
	if err != nil || len(after) != 1 || after[0] != 8*dollar { // 7 seeded again, 1 spent
		t.Fatalf("spent after: %v, %v", after, err)
	}
	// A seeder that fails leaves the call to the failure policy.
	failing := budget.NewRedis(c, budget.RedisOptions{Prefix: prefix(), Seeder: func(context.Context, budget.Budget, time.Time, time.Time) (int64, error) {
		return 0, errors.New("ledger down")
	}})
	if _, _, err := failing.Reserve(context.Background(), budget.Request{Budgets: []budget.Budget{key}, Estimate: 1}); !errors.Is(err, budget.ErrUnavailable) {
		t.Fatalf("a failing seeder: %v", err)
	}
}
