package limits_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/llmgw/llmgw/internal/limits"
	"github.com/llmgw/llmgw/internal/limits/redistest"
)

func guarded(t *testing.T, addr string, mode limits.FailMode) *limits.Guarded {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 50 * time.Millisecond,
		ReadTimeout: 50 * time.Millisecond, WriteTimeout: 50 * time.Millisecond})
	t.Cleanup(func() { c.Close() })
	return limits.NewGuarded(limits.NewRedis(c, limits.RedisOptions{}), limits.NewMemory(nil),
		limits.GuardOptions{Mode: mode, Timeout: 100 * time.Millisecond, Failures: 2, Cooldown: 300 * time.Millisecond})
}

// Redis stopped mid-load: every call still returns in bounded time, with
// the configured behaviour, and the shared counts come back with Redis.
func TestGuardedRedisStopsAndReturns(t *testing.T) {
	srv := redistest.Start(t)
	for _, mode := range []limits.FailMode{limits.FailOpen, limits.FailClosed} {
		t.Run(fmt.Sprint(mode), func(t *testing.T) {
			if !srv.Running() {
				srv.Restart()
			}
			a, b := guarded(t, srv.Addr(), mode), guarded(t, srv.Addr(), mode)
			subject := fmt.Sprintf("key:%d-%d", mode, time.Now().UnixNano())
			r := req(0, limits.Check{Subject: subject, Limit: limits.Limit{RPM: 3}})
			// Shared: two replicas together get the limit, not twice it.
			allowed := 0
			for i := range 6 {
				l := a
				if i%2 == 1 {
					l = b
				}
				d, _, err := l.Acquire(context.Background(), r)
				if err != nil {
					t.Fatal(err)
				}
				if d.Allowed {
					allowed++
				}
			}
			if allowed != 3 || !a.Available() {
				t.Fatalf("%d allowed across two replicas, want 3", allowed)
			}
			srv.Stop()
			var slowest time.Duration
			fresh := req(0, limits.Check{Subject: subject + "-down", Limit: limits.Limit{RPM: 1000}})
			for range 50 {
				start := time.Now()
				d, _, err := a.Acquire(context.Background(), fresh)
				slowest = max(slowest, time.Since(start))
				switch mode {
				case limits.FailOpen:
					if err != nil || !d.Allowed {
						t.Fatalf("fail open: %+v, %v", d, err)
					}
				case limits.FailClosed:
					if !errors.Is(err, limits.ErrClosed) {
						t.Fatalf("fail closed: %+v, %v", d, err)
					}
				}
			}
			// Bounded: the timeout (100 ms) at most, with room for a busy
			// machine; never the seconds a dead server can take.
			if slowest > time.Second {
				t.Fatalf("a call took %v with Redis down", slowest)
			}
			if a.Available() {
				t.Fatal("the breaker did not open")
			}
			srv.Restart()
			deadline := time.Now().Add(5 * time.Second)
			for !a.Available() || func() bool {
				_, _, err := a.Acquire(context.Background(), fresh)
				return err != nil
			}() {
				if time.Now().After(deadline) {
					t.Fatal("the shared counts did not come back after Redis did")
				}
				time.Sleep(50 * time.Millisecond)
			}
			// Shared again: the fresh subject's counts are in Redis.
			c := redis.NewClient(&redis.Options{Addr: srv.Addr()})
			defer c.Close()
			if n, err := c.Exists(context.Background(), "{llmgw}:lim:r:"+subject+"-down").Result(); err != nil || n != 1 {
				t.Fatalf("counts not in Redis after recovery: %d, %v", n, err)
			}
		})
	}
}
