package ratelimits

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// config is a gateway with the mock model and one static key of rpm
// limit, named name, counting in redis (none: memory).
func config(t *testing.T, name string, rpm int, redis string) string {
	y := fmt.Sprintf(`
server:
  data_dir: %q
providers: [{name: mock, type: mock}]
models: [{name: mock, targets: [{provider: mock, model: mock}]}]
keys:
  - name: %s
    key: sk-ratelimits-test-key
    limits: {rpm: %d}
`, t.TempDir(), name, rpm)
	return y + redis
}

// fire sends n concurrent requests, alternating between gateways, and
// returns the answers.
func fire(gws []*gateway, n int) []result {
	out := make([]result, n)
	var wg sync.WaitGroup
	startGun := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-startGun
			out[i] = gws[i%len(gws)].chat("sk-ratelimits-test-key")
		}()
	}
	close(startGun)
	wg.Wait()
	return out
}

// The proof for rpm: 200 concurrent requests over two processes sharing a
// Redis admit the key's limit once, not once per process, and every other
// request is 429 rate_limit_exceeded with Retry-After.
func TestRPMAcrossTwoProcesses(t *testing.T) {
	const rpm, total = 20, 200
	redis := fmt.Sprintf("redis:\n  url: %q\n  timeout: 500ms\n", redisURL(t))
	// A key name of this run's own: the counts of earlier runs stay in
	// Redis for a minute.
	name := fmt.Sprintf("rpm-%d", time.Now().UnixNano())
	a, b := start(t, config(t, name, rpm, redis)), start(t, config(t, name, rpm, redis))
	began := time.Now()
	results := fire([]*gateway{a, b}, total)
	elapsed := time.Since(began)
	ok, perProcess := 0, [2]int{}
	for i, r := range results {
		switch {
		case r.status == 200:
			ok++
			perProcess[i%2]++
		case r.status == 429 && r.code == "rate_limit_exceeded" && r.retry != "":
		default:
			t.Errorf("request %d: %d %q %q (Retry-After %q)", i, r.status, r.code, r.message, r.retry)
		}
	}
	// One request refills every 3s: allow one more per 3s the burst took.
	slack := int(elapsed / (3 * time.Second))
	t.Logf("admitted %d of %d (%d by A, %d by B) with rpm %d, in %v", ok, total, perProcess[0], perProcess[1], rpm, elapsed)
	if ok < rpm || ok > rpm+1+slack {
		t.Errorf("admitted %d across two processes, want %d (+1 for refill)", ok, rpm)
	}
}

// The same load without Redis: each process counts for itself, so the two
// admit twice the limit. This is what the shared counts prevent, and shows
// the test above would see it.
func TestRPMWithoutRedisIsPerProcess(t *testing.T) {
	const rpm, total = 20, 200
	redisURL(t) // the same rule as the test it contrasts with
	name := fmt.Sprintf("rpm-mem-%d", time.Now().UnixNano())
	a, b := start(t, config(t, name, rpm, "")), start(t, config(t, name, rpm, ""))
	ok := 0
	for _, r := range fire([]*gateway{a, b}, total) {
		if r.status == 200 {
			ok++
		}
	}
	if ok < 2*rpm || ok > 2*rpm+2 {
		t.Errorf("admitted %d by two processes in memory, want %d", ok, 2*rpm)
	}
}
