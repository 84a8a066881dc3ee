package ratelimits

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/limits/redistest"
)

// sample is one answer under load, with when it was sent.
type sample struct {
	at time.Time
	result
}

// Redis stopped in the middle of load: no request waits on it (each
// answers within a second), the gateway serves from its own memory and
// its database (on_failure: open: limits in memory, the key's budget in
// the database) or refuses with 503 naming the limit store (closed), and
// serves from Redis again once it is back.
func TestRedisStoppedMidLoad(t *testing.T) {
	for _, mode := range []string{"open", "closed"} {
		t.Run(mode, func(t *testing.T) {
			srv := redistest.Start(t)
			redis := fmt.Sprintf("redis:\n  url: \"redis://%s/0\"\n  on_failure: %s\n  timeout: 500ms\n", srv.Addr(), mode)
			// The key has a budget too (large: it never refuses), so
			// that its checks take the same path through Redis and, while
			// it is down, through the database.
			yaml := strings.Replace(config(t, "down-"+mode, 10_000_000, redis), "    limits: {rpm: 10000000}\n",
				"    limits: {rpm: 10000000}\n    budget: {usd: 1000000, period: total}\n", 1) +
				"pricing: [{provider: mock, model: mock, input_per_mtok: 1, output_per_mtok: 1}]\n"
			if !strings.Contains(yaml, "budget:") {
				t.Fatal("the key has no budget")
			}
			g := start(t, yaml)
			// Warm up: the first call dials Redis.
			for i := 0; g.chat("sk-ratelimits-test-key").status != 200; i++ {
				if i == 50 {
					t.Fatal("the gateway does not admit with Redis up")
				}
				time.Sleep(20 * time.Millisecond)
			}
			var (
				mu      sync.Mutex
				samples []sample
				stop    atomic.Bool
				wg      sync.WaitGroup
			)
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for !stop.Load() {
						at := time.Now()
						r := g.chat("sk-ratelimits-test-key")
						mu.Lock()
						samples = append(samples, sample{at, r})
						mu.Unlock()
					}
				}()
			}
			time.Sleep(500 * time.Millisecond)
			stopped := time.Now()
			srv.Stop()
			time.Sleep(1500 * time.Millisecond)
			restarted := time.Now()
			srv.Restart()
			// The breaker tries Redis again 2s after it opened.
			time.Sleep(3500 * time.Millisecond)
			stop.Store(true)
			wg.Wait()

			var before, during, after, slow, wrong int
			var slowest time.Duration
			for _, s := range samples {
				slowest = max(slowest, s.took)
				if s.took > time.Second {
					slow++
				}
				switch {
				case s.at.Add(s.took).Before(stopped): // answered before the stop
					before++
					if s.status != 200 {
						wrong++
						t.Errorf("before the stop: %d %s", s.status, s.message)
					}
				case s.at.After(stopped.Add(100*time.Millisecond)) && s.at.Add(s.took).Before(restarted):
					during++
					okOpen := mode == "open" && s.status == 200
					okClosed := mode == "closed" && s.status == 503 && s.code == "service_unavailable" &&
						strings.Contains(s.message, "shared limit store does not answer")
					if !okOpen && !okClosed {
						wrong++
						if wrong < 5 {
							t.Errorf("Redis down, %s: %d %s %q", mode, s.status, s.code, s.message)
						}
					}
				case s.at.After(restarted.Add(3 * time.Second)):
					after++
					if s.status != 200 {
						wrong++
						if wrong < 5 {
							t.Errorf("Redis back, %s: %d %s %q", mode, s.status, s.code, s.message)
						}
					}
				}
			}
			t.Logf("%s: %d requests before the stop, %d while Redis was down, %d after it returned; slowest %v",
				mode, before, during, after, slowest)
			if slow > 0 {
				t.Errorf("%d requests took over a second (slowest %v)", slow, slowest)
			}
			if before == 0 || during == 0 || after == 0 {
				t.Errorf("too few samples: %d %d %d", before, during, after)
			}
			if !strings.Contains(g.logs.String(), "the shared limit store does not answer") ||
				!strings.Contains(g.logs.String(), "the shared limit store answers again") {
				t.Errorf("the log does not tell of the outage and the recovery:\n%s", tail(g.logs.String()))
			}
		})
	}
}

func tail(s string) string {
	if len(s) > 2000 {
		return s[len(s)-2000:]
	}
	return s
}
