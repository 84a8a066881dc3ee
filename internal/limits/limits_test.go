package limits_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/llmgw/llmgw/internal/limits"
)

// redisURL is the test Redis, from LLMGW_TEST_REDIS_URL; a missing one is
// a skip, except in CI, where it is a failure.
func redisURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("LLMGW_TEST_REDIS_URL")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("LLMGW_TEST_REDIS_URL is not set; CI must provide Redis")
		}
		t.Skip("LLMGW_TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/0)")
	}
	return u
}

func redisClient(t testing.TB) *redis.Client {
	opt, err := redis.ParseURL(redisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("redis: %v", err)
	}
	return c
}

// prefix isolates one test's keys.
func prefix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "{llmgw-test-" + hex.EncodeToString(b[:]) + "}:"
}

// each runs f against the memory limiter and against Redis, with a new
// limiter from mk per call (two calls: two replicas, sharing counts in
// Redis).
func each(t *testing.T, f func(t *testing.T, mk func() limits.Limiter)) {
	t.Run("memory", func(t *testing.T) {
		m := limits.NewMemory(nil)
		f(t, func() limits.Limiter { return m })
	})
	t.Run("redis", func(t *testing.T) {
		c := redisClient(t)
		p := prefix()
		f(t, func() limits.Limiter {
			l := limits.NewRedis(c, limits.RedisOptions{Prefix: p})
			t.Cleanup(func() { l.Close() })
			return l
		})
	})
}

func acquire(t *testing.T, l limits.Limiter, r limits.Request) (limits.Decision, limits.Lease) {
	t.Helper()
	// Releases to Redis are sent in batches: what was released before
	// this acquire has been applied.
	if f, ok := l.(interface{ Flush() }); ok {
		f.Flush()
	}
	d, le, err := l.Acquire(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return d, le
}

func req(tokens int64, checks ...limits.Check) limits.Request {
	return limits.Request{Checks: checks, Tokens: tokens}
}

func TestRequestsPerMinute(t *testing.T) {
	each(t, func(t *testing.T, mk func() limits.Limiter) {
		l := mk()
		r := req(0, limits.Check{Subject: "key:a", Limit: limits.Limit{RPM: 5}})
		for i := range 5 {
			d, _ := acquire(t, l, r)
			if !d.Allowed || d.Requests.Limit != 5 || d.Requests.Remaining != int64(4-i) {
				t.Fatalf("request %d: %+v", i, d)
			}
		}
		d, _ := acquire(t, l, r)
		if d.Allowed || d.Dimension != limits.Requests || d.Subject != "key:a" || d.RetryAfter <= 0 ||
			d.RetryAfter > 12*time.Second || d.Requests.Remaining != 0 || d.Requests.Limit != 5 {
			t.Fatalf("sixth request: %+v", d)
		}
		// Another subject is counted apart.
		if d, _ := acquire(t, l, req(0, limits.Check{Subject: "key:b", Limit: limits.Limit{RPM: 5}})); !d.Allowed {
			t.Fatalf("other subject: %+v", d)
		}
	})
}

func TestTokensPerMinute(t *testing.T) {
	each(t, func(t *testing.T, mk func() limits.Limiter) {
		l := mk()
		c := limits.Check{Subject: "key:a", Limit: limits.Limit{TPM: 1000}}
		for range 2 {
			if d, _ := acquire(t, l, req(400, c)); !d.Allowed {
				t.Fatalf("400 tokens: %+v", d)
			}
		}
		d, _ := acquire(t, l, req(400, c))
		if d.Allowed || d.Dimension != limits.Tokens || d.Never || d.RetryAfter <= 0 || d.Tokens.Limit != 1000 {
			t.Fatalf("third 400: %+v", d)
		}
		if d, _ := acquire(t, l, req(150, c)); !d.Allowed || d.Tokens.Remaining > 50 {
			t.Fatalf("150 more: %+v", d)
		}
		// More than the limit holds can never pass: no retry helps.
		if d, _ := acquire(t, l, req(1001, limits.Check{Subject: "key:fresh", Limit: limits.Limit{TPM: 1000}})); d.Allowed || !d.Never {
			t.Fatalf("1001 of 1000: %+v", d)
		}
	})
}

// A reservation is reconciled with what was used: unused tokens come
// back, tokens used beyond it are taken.
func TestTokensReconciled(t *testing.T) {
	each(t, func(t *testing.T, mk func() limits.Limiter) {
		l := mk()
		c := limits.Check{Subject: "key:a", Limit: limits.Limit{TPM: 1000}}
		_, le := acquire(t, l, req(900, c))
		if d, _ := acquire(t, l, req(800, c)); d.Allowed {
			t.Fatalf("800 while 900 reserved: %+v", d)
		}
		if err := le.Release(context.Background(), 100); err != nil {
			t.Fatal(err)
		}
		d, le := acquire(t, l, req(800, c))
		if !d.Allowed {
			t.Fatalf("800 after 800 came back: %+v", d)
		}
		// Used 100 beyond the 800 reserved: 900 used in all, so 200 more
		// do not fit.
		if err := le.Release(context.Background(), 900); err != nil {
			t.Fatal(err)
		}
		if d, _ := acquire(t, l, req(200, c)); d.Allowed {
			t.Fatalf("200 after 1000 used: %+v", d)
		}
		// The bucket is empty: 50 tokens refill in 50 × 60 ms.
		if d, _ := acquire(t, l, req(50, c)); d.Allowed || d.RetryAfter <= 2500*time.Millisecond || d.RetryAfter > 3*time.Second {
			t.Fatalf("50 after 1000 used: %+v", d)
		}
	})
}

func TestConcurrent(t *testing.T) {
	each(t, func(t *testing.T, mk func() limits.Limiter) {
		l := mk()
		c := limits.Check{Subject: "key:a", Limit: limits.Limit{Concurrent: 2}}
		_, a := acquire(t, l, req(0, c))
		_, b := acquire(t, l, req(0, c))
		if d, _ := acquire(t, l, req(0, c)); d.Allowed || d.Dimension != limits.Concurrency {
			t.Fatalf("third in flight: %+v", d)
		}
		if err := a.Release(context.Background(), 0); err != nil {
			t.Fatal(err)
		}
		if err := a.Release(context.Background(), 0); err != nil { // twice: no effect
			t.Fatal(err)
		}
		_, c3 := acquire(t, l, req(0, c))
		if !c3.Valid() {
			t.Fatal("no lease after a release")
		}
		if d, _ := acquire(t, l, req(0, c)); d.Allowed {
			t.Fatalf("a double release freed two slots: %+v", d)
		}
		b.Release(context.Background(), 0)
		c3.Release(context.Background(), 0)
	})
}

// A request is admitted by all its limits or counted by none.
func TestAllOrNothing(t *testing.T) {
	each(t, func(t *testing.T, mk func() limits.Limiter) {
		l := mk()
		a := limits.Check{Subject: "tenant:t", Limit: limits.Limit{RPM: 2, Concurrent: 5, TPM: 10000}}
		b := limits.Check{Subject: "key:k", Limit: limits.Limit{RPM: 1}}
		if d, _ := acquire(t, l, req(10, a, b)); !d.Allowed {
			t.Fatalf("first: %+v", d)
		}
		if d, _ := acquire(t, l, req(10, a, b)); d.Allowed || d.Subject != "key:k" {
			t.Fatalf("second, refused by the key: %+v", d)
		}
		// The refused request took nothing from the tenant: one more fits.
		if d, _ := acquire(t, l, req(10, a)); !d.Allowed || d.Requests.Remaining != 0 {
			t.Fatalf("tenant alone: %+v", d)
		}
		if d, _ := acquire(t, l, req(10, a)); d.Allowed {
			t.Fatalf("tenant over: %+v", d)
		}
	})
}

// The tightest limit is the one headers describe.
func TestHeadersDescribeTightest(t *testing.T) {
	each(t, func(t *testing.T, mk func() limits.Limiter) {
		l := mk()
		d, _ := acquire(t, l, req(100,
			limits.Check{Subject: "tenant:t", Limit: limits.Limit{RPM: 100, TPM: 100000}},
			limits.Check{Subject: "key:k", Limit: limits.Limit{RPM: 10, TPM: 1000}},
			limits.Check{Subject: "model:m"}))
		if !d.Allowed || d.Requests.Limit != 10 || d.Requests.Remaining != 9 || d.Tokens.Limit != 1000 || d.Tokens.Remaining != 900 ||
			d.Requests.Reset <= 0 || d.Tokens.Reset < 5*time.Second || d.Tokens.Reset > 7*time.Second {
			t.Fatalf("decision: %+v", d)
		}
		// No limit at all: allowed, no lease, nothing to describe.
		d, le := acquire(t, l, req(100, limits.Check{Subject: "model:m"}))
		if !d.Allowed || d.Requests.Limit != 0 || le.Valid() {
			t.Fatalf("unlimited: %+v", d)
		}
	})
}

// Under concurrency, on one replica or two sharing Redis, exactly the
// limit is admitted.
func TestNoRaceOverTheLimit(t *testing.T) {
	each(t, func(t *testing.T, mk func() limits.Limiter) {
		replicas := []limits.Limiter{mk(), mk()}
		const limit = 20
		var ok atomic.Int64
		var wg sync.WaitGroup
		for i := range 200 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d, _, err := replicas[i%2].Acquire(context.Background(),
					req(0, limits.Check{Subject: "key:a", Limit: limits.Limit{RPM: limit}}))
				if err != nil {
					t.Error(err)
				}
				if d.Allowed {
					ok.Add(1)
				}
			}()
		}
		wg.Wait()
		// A limit of 20 a minute refills one every 3 s: the test takes
		// far less, so at most one more could have refilled.
		if n := ok.Load(); n < limit || n > limit+1 {
			t.Fatalf("%d admitted, want %d", n, limit)
		}
	})
}

func TestMemoryRefillsAndForgets(t *testing.T) {
	now := time.Unix(1700000000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	m := limits.NewMemory(clock)
	c := limits.Check{Subject: "key:a", Limit: limits.Limit{RPM: 60}}
	for range 60 {
		if d, _ := acquire(t, m, req(0, c)); !d.Allowed {
			t.Fatal("burst refused")
		}
	}
	d, _ := acquire(t, m, req(0, c))
	if d.Allowed || d.RetryAfter != time.Second {
		t.Fatalf("61st: %+v", d)
	}
	advance(time.Second)
	if d, _ := acquire(t, m, req(0, c)); !d.Allowed {
		t.Fatalf("after a second: %+v", d)
	}
	advance(time.Minute)
	if d, _ := acquire(t, m, req(0, c)); !d.Allowed || d.Requests.Remaining != 59 {
		t.Fatalf("after a minute, full again: %+v", d)
	}
	// Subjects that hold nothing are forgotten: memory follows the
	// subjects in use.
	for i := range 5000 {
		acquire(t, m, req(0, limits.Check{Subject: "key:" + string(rune('a'+i%26)) + hex.EncodeToString([]byte{byte(i), byte(i >> 8)}), Limit: limits.Limit{RPM: 1000}}))
	}
	advance(2 * time.Minute)
	for range 20000 {
		acquire(t, m, req(0, limits.Check{Subject: "key:steady", Limit: limits.Limit{RPM: 1 << 40}}))
	}
	if n := m.Len(); n > 500 {
		t.Fatalf("%d subjects still counted after they went idle", n)
	}
}

// The slots of a replica that died are freed when their lease expires.
func TestRedisLeaseExpires(t *testing.T) {
	c := redisClient(t)
	l := limits.NewRedis(c, limits.RedisOptions{Prefix: prefix(), LeaseTTL: 300 * time.Millisecond})
	ch := limits.Check{Subject: "key:a", Limit: limits.Limit{Concurrent: 1}}
	if d, _ := acquire(t, l, req(0, ch)); !d.Allowed {
		t.Fatal(d)
	}
	if d, _ := acquire(t, l, req(0, ch)); d.Allowed {
		t.Fatal("second slot")
	}
	time.Sleep(400 * time.Millisecond)
	if d, _ := acquire(t, l, req(0, ch)); !d.Allowed {
		t.Fatalf("after the lease expired: %+v", d)
	}
}

// A Redis that cannot be reached is an error the caller can act on, in
// the time the context allows.
func TestRedisUnavailable(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	defer c.Close()
	l := limits.NewRedis(c, limits.RedisOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, _, err := l.Acquire(ctx, req(0, limits.Check{Subject: "key:a", Limit: limits.Limit{RPM: 1}}))
	if !errors.Is(err, limits.ErrUnavailable) {
		t.Fatalf("err = %v", err)
	}
}

func BenchmarkMemoryAcquireRelease(b *testing.B) {
	m := limits.NewMemory(nil)
	r := req(500,
		limits.Check{Subject: "key:k", Limit: limits.Limit{RPM: 1 << 40, TPM: 1 << 50, Concurrent: 1000}},
		limits.Check{Subject: "tenant:t", Limit: limits.Limit{RPM: 1 << 40, TPM: 1 << 50}},
		limits.Check{Subject: "model:m", Limit: limits.Limit{RPM: 1 << 40}},
		limits.Check{Subject: "target:p/m", Limit: limits.Limit{TPM: 1 << 50}})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		d, le, _ := m.Acquire(ctx, r)
		if !d.Allowed {
			b.Fatal(d)
		}
		le.Release(ctx, 400)
	}
}

func BenchmarkRedisAcquireRelease(b *testing.B) {
	c := redisClient(b)
	l := limits.NewRedis(c, limits.RedisOptions{Prefix: prefix()})
	r := req(500,
		limits.Check{Subject: "key:k", Limit: limits.Limit{RPM: 1 << 40, TPM: 1 << 50, Concurrent: 1000}},
		limits.Check{Subject: "tenant:t", Limit: limits.Limit{RPM: 1 << 40, TPM: 1 << 50}})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		d, le, err := l.Acquire(ctx, r)
		if err != nil || !d.Allowed {
			b.Fatal(d, err)
		}
		le.Release(ctx, 400)
	}
}

// counter counts the round trips a client makes: single commands and
// pipelines.
type counter struct{ single, pipelines, piped atomic.Int64 }

func (c *counter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *counter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { c.single.Add(1); return next(ctx, cmd) }
}
func (c *counter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.pipelines.Add(1)
		c.piped.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

// A request makes one round trip of its own: its Acquire. Releases go in
// batches, many to a pipeline, and every one of them is applied.
func TestRedisReleasesBatched(t *testing.T) {
	c := redisClient(t)
	var n counter
	c.AddHook(&n)
	l := limits.NewRedis(c, limits.RedisOptions{Prefix: prefix(), ReleaseDelay: 20 * time.Millisecond})
	defer l.Close()
	check := limits.Check{Subject: "key:a", Limit: limits.Limit{Concurrent: 100}}
	var leases []limits.Lease
	for range 100 {
		d, le, err := l.Acquire(context.Background(), req(0, check))
		if err != nil || !d.Allowed {
			t.Fatal(d, err)
		}
		leases = append(leases, le)
	}
	acquires := n.single.Load()
	for i := range leases {
		if err := leases[i].Release(context.Background(), 0); err != nil {
			t.Fatal(err)
		}
	}
	l.Flush()
	if n.single.Load()-acquires > 2 || n.piped.Load() < 100 || n.pipelines.Load() > 10 {
		t.Fatalf("releases: %d single commands, %d pipelines of %d commands in all", n.single.Load()-acquires, n.pipelines.Load(), n.piped.Load())
	}
	// All slots are free again: 100 more fit.
	for range 100 {
		if d, _, err := l.Acquire(context.Background(), req(0, check)); err != nil || !d.Allowed {
			t.Fatalf("a released slot is still held: %+v %v", d, err)
		}
	}
}
