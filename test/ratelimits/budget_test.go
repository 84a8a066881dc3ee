package ratelimits

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/llmgw/llmgw/internal/budget"
	"github.com/llmgw/llmgw/internal/store/pgtest"
)

// budgetConfig is a gateway storing in dsn (PostgreSQL), with the mock
// model priced at $1,000 per million tokens and one static key, named
// name, whose daily budget is usd; redis is its redis section (none: the
// budget is kept in the database).
func budgetConfig(t *testing.T, dsn, name string, usd float64, redis string) string {
	return fmt.Sprintf(`
server:
  data_dir: %q
  secret: "a server secret shared by both replicas, 32+ characters"
storage: {driver: postgres, dsn: %q}
providers: [{name: mock, type: mock}]
models: [{name: mock, targets: [{provider: mock, model: mock}]}]
pricing:
  - {provider: mock, model: mock, input_per_mtok: 1000, output_per_mtok: 1000}
keys:
  - name: %s
    key: sk-ratelimits-test-key
    budget: {usd: %v, period: daily}
`, t.TempDir(), dsn, name, usd) + redis
}

// The proof for budgets: 200 concurrent requests over two processes that
// share one Redis and one PostgreSQL, at a key whose budget allows about
// 20 of them. What they cost never exceeds the budget by more than one
// request's cost, in the shared counts as in the ledger, and every
// refused request is 429 budget_exceeded. Then the same without Redis:
// the budget is held in the database the two share.
func TestBudgetAcrossTwoProcesses(t *testing.T) {
	for _, withRedis := range []bool{true, false} {
		t.Run(map[bool]string{true: "redis", false: "database"}[withRedis], func(t *testing.T) {
			const total, usd = 200, 0.12
			dsn := pgtest.FreshSchema(t)
			redisSection := ""
			if withRedis {
				redisSection = fmt.Sprintf("redis:\n  url: %q\n  timeout: 500ms\n", redisURL(t))
			}
			name := fmt.Sprintf("budget-%d", time.Now().UnixNano())
			a, b := start(t, budgetConfig(t, dsn, name, usd, redisSection)), start(t, budgetConfig(t, dsn, name, usd, redisSection))
			results := fire([]*gateway{a, b}, total)
			ok, spent, most := 0, 0.0, 0.0
			for i, r := range results {
				switch {
				case r.status == 200:
					ok++
					c, err := strconv.ParseFloat(r.cost, 64)
					if err != nil || c <= 0 {
						t.Fatalf("request %d: cost %q", i, r.cost)
					}
					spent += c
					most = max(most, c)
				case r.status == 429 && r.code == "budget_exceeded" && r.retry != "":
				default:
					t.Errorf("request %d: %d %q %q (Retry-After %q)", i, r.status, r.code, r.message, r.retry)
				}
			}
			t.Logf("admitted %d of %d, costing $%.6f (one costs at most $%.6f) against a budget of $%v", ok, total, spent, most, usd)
			// How many fit depends on how fast calls settle: each holds
			// its upper bound (a prompt and 16 tokens) until it does.
			if ok < 1 || spent > usd+most+1e-9 {
				t.Fatalf("admitted %d requests costing $%v against a budget of $%v", ok, spent, usd)
			}

			// The shared counts settle to the same: wait for the settles,
			// off the requests' path.
			limit := int64(math.Round(usd * 1e12))
			want := int64(math.Round(spent * 1e12))
			window, _, _ := budget.Daily.Window(time.Now())
			var settled int64
			deadline := time.Now().Add(10 * time.Second)
			for {
				settled = settledSpend(t, withRedis, dsn, name, window)
				if settled >= want-1000 || time.Now().After(deadline) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			if settled > limit+int64(math.Round(most*1e12)) || settled < want-1000 {
				t.Fatalf("settled spending %d picodollars, the admitted requests cost %d, the budget is %d", settled, want, limit)
			}
			// And the ledger, written in batches, has every admitted
			// request's cost.
			var ledger int64
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				ledger = ledgerSpend(t, dsn, name)
				if ledger >= want-1000 || time.Now().After(deadline) {
					break
				}
			}
			if ledger < want-1000 || ledger > limit+int64(math.Round(most*1e12)) {
				t.Fatalf("the ledger holds %d picodollars, the admitted requests cost %d", ledger, want)
			}
		})
	}
}

// settledSpend reads the key's spending in its budget's counts: Redis's,
// or the database's.
func settledSpend(t *testing.T, inRedis bool, dsn, name, window string) int64 {
	ctx := context.Background()
	if inRedis {
		opt, err := redis.ParseURL(redisURL(t))
		if err != nil {
			t.Fatal(err)
		}
		c := redis.NewClient(opt)
		defer c.Close()
		n, err := c.HGet(ctx, "{llmgw}:bud:key:"+name+":daily:"+window, "spent").Int64()
		if err != nil && err != redis.Nil {
			t.Fatal(err)
		}
		return n
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int64
	if err := conn.QueryRow(ctx, `SELECT coalesce(sum(spent), 0) FROM budget_counts WHERE subject = $1 AND win = $2`,
		"key:"+name, window).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// ledgerSpend sums the ledger's costs of the key.
func ledgerSpend(t *testing.T, dsn, name string) int64 {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int64
	if err := conn.QueryRow(ctx, `SELECT coalesce(sum(cost_pico), 0) FROM usage WHERE key_name = $1`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
