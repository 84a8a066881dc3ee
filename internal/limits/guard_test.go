package limits_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/llmgw/llmgw/internal/limits"
)

// ownRedis starts a Redis server of the test's own on a free port, so
// that the test may stop it; stop and start control it.
type ownRedis struct {
	t    *testing.T
	port int
	cmd  *exec.Cmd
}

func startOwnRedis(t *testing.T) *ownRedis {
	t.Helper()
	redisURL(t) // the same rule: CI must have Redis
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("redis-server is not installed: .ci/run installs it")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	r := &ownRedis{t: t, port: port}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *ownRedis) addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

func (r *ownRedis) start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.t.TempDir())
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	for range 100 {
		if c, err := net.Dial("tcp", r.addr()); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.t.Fatal("redis-server did not start")
}

func (r *ownRedis) stop() {
	if r.cmd != nil && r.cmd.Process != nil {
		r.cmd.Process.Kill()
		r.cmd.Wait()
		r.cmd = nil
	}
}

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
	srv := startOwnRedis(t)
	for _, mode := range []limits.FailMode{limits.FailOpen, limits.FailClosed} {
		t.Run(fmt.Sprint(mode), func(t *testing.T) {
			if srv.cmd == nil {
				srv.start()
			}
			a, b := guarded(t, srv.addr(), mode), guarded(t, srv.addr(), mode)
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
			srv.stop()
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
			srv.start()
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
			c := redis.NewClient(&redis.Options{Addr: srv.addr()})
			defer c.Close()
			if n, err := c.Exists(context.Background(), "{llmgw}:lim:r:"+subject+"-down").Result(); err != nil || n != 1 {
				t.Fatalf("counts not in Redis after recovery: %d, %v", n, err)
			}
		})
	}
}
