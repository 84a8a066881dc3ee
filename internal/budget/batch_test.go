package budget_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/llmgw/llmgw/internal/budget"
)

// TestConcurrentSettlesShareRoundTrips: settles that arrive while one is
// on the wire go out together, in pipelines; each is applied once, and
// each answers the spending after it.
func TestConcurrentSettlesShareRoundTrips(t *testing.T) {
	c := redisClient(t)
	var trips atomic.Int64
	c.AddHook(tripHook{&trips})
	b := budget.NewRedis(c, budget.RedisOptions{Prefix: prefix()})
	key := budget.Budget{Subject: "key:k", Limit: 1000 * dollar, Period: budget.Total}
	const n = 200
	res := make([]budget.Reservation, n)
	for i := range res {
		d, r, err := b.Reserve(context.Background(), budget.Request{Budgets: []budget.Budget{key}, Estimate: dollar})
		if err != nil || !d.Allowed {
			t.Fatal(d, err)
		}
		res[i] = r
	}
	before := trips.Load()
	var wg sync.WaitGroup
	afters := make([]int64, n)
	start := make(chan struct{})
	for i := range res {
		wg.Go(func() {
			<-start
			after, err := res[i].Settle(context.Background(), 1000)
			if err != nil || len(after) != 1 {
				t.Error(after, err)
				return
			}
			afters[i] = after[0]
		})
	}
	close(start)
	wg.Wait()
	spent, reserved, err := b.Spent(context.Background(), key)
	if err != nil || spent != n*1000 || reserved != 0 {
		t.Fatalf("spent %d reserved %d (%v), want %d and 0", spent, reserved, err, n*1000)
	}
	seen := map[int64]bool{}
	for _, a := range afters {
		if a < 1000 || a > n*1000 || a%1000 != 0 || seen[a] {
			t.Fatalf("spending after each settle: %v", afters)
		}
		seen[a] = true
	}
	trip := trips.Load() - before
	t.Logf("%d settles in %d round trips", n, trip)
	if trip >= n*3/4 {
		t.Fatalf("%d concurrent settles took %d round trips", n, trip)
	}
}

type tripHook struct{ n *atomic.Int64 }

func (h tripHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h tripHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}
func (h tripHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmds)
	}
}
