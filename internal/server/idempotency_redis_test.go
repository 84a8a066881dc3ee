package server

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/idempotency"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// testRedisURL is the test Redis, from LLMGW_TEST_REDIS_URL; a missing one
// is a skip, except in CI, where it is a failure.
func testRedisURL(t *testing.T) string {
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

// openIdem opens the process store of the configuration idemConfig+extra,
// as main does.
func openIdem(t *testing.T, extra string, log *slog.Logger) *idempotency.Store {
	t.Helper()
	cfg, err := config.Parse([]byte(idemConfig+extra), func(k string) (string, bool) { return "http://127.0.0.1:1/v1", k == "UPSTREAM" })
	if err != nil {
		t.Fatal(err)
	}
	s, closer, err := gateway.OpenIdempotency(cfg, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closer() })
	return s
}

// replica serves the configuration idemConfig+extra with store, in front of
// the upstream of g, recording usage in led.
func replica(t *testing.T, g *testGateway, extra string, store *idempotency.Store, led *sink) *testGateway {
	t.Helper()
	snap := compileConfig(t, idemConfig+extra, map[string]string{"UPSTREAM": g.up.URL}, gateway.Options{Ledger: led, Idempotency: store})
	srv := New(snap, g.srv.log)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &testGateway{t: t, srv: srv, http: ts, up: g.up, logs: g.logs}
}

func randomKey() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "k-" + hex.EncodeToString(b[:])
}

// Two replicas sharing Redis: a repeat on the second while the first runs
// waits for its result and replays it, the repeat of a finished one
// replays it, and a different body is a conflict; one upstream call, one
// ledger record.
func TestIdempotencyAcrossReplicas(t *testing.T) {
	extra := "redis: {url: \"" + testRedisURL(t) + "\", timeout: \"2s\"}\n"
	led := &sink{}
	g, _ := idemGateway(t, "", nil)
	a := replica(t, g, extra, openIdem(t, extra, g.srv.log), led)
	b := replica(t, g, extra, openIdem(t, extra, g.srv.log), led)
	key := randomKey()
	hold := make(chan struct{})
	g.up.Enqueue(providertest.Response{SSE: sseChunks("Hello ", "there, ", "gateway"), Hold: hold, HoldAfter: 100})
	body := fmt.Sprintf(userHello, "gpt", `,"stream":true`)
	h := append(append([]string{}, keyA...), "Idempotency-Key", key)
	first := make(chan string)
	go func() { _, s := a.do("POST", "/v1/chat/completions", body, h...); first <- s }()
	for len(g.up.Requests()) == 0 {
		time.Sleep(time.Millisecond)
	}
	second := make(chan string)
	go func() {
		resp, s := b.do("POST", "/v1/chat/completions", body, h...)
		if resp.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("the other replica's answer is not marked: %v", resp.Header)
		}
		second <- s
	}()
	if resp, s := b.do("POST", "/v1/chat/completions", fmt.Sprintf(userHello, "mock", ""), h...); resp.StatusCode != 409 {
		t.Fatalf("conflict on the other replica: %d %s", resp.StatusCode, s)
	}
	close(hold)
	s1, s2 := <-first, <-second
	checkCompleteStream(t, s1, "Hello there, gateway")
	if s1 != s2 {
		t.Fatalf("replicas answered differently:\n%s\n%s", s1, s2)
	}
	if _, s3 := b.do("POST", "/v1/chat/completions", body, h...); s3 != s1 {
		t.Fatalf("replay on the other replica: %s", s3)
	}
	if n := chatCalls(g.up); n != 1 {
		t.Fatalf("upstream called %d times", n)
	}
	waitRecords(t, led, 1)
}

// While Redis does not answer, keyed requests follow redis.on_failure:
// open serves them (each one runs), closed refuses them with 503.
func TestIdempotencyRedisDown(t *testing.T) {
	body := fmt.Sprintf(userHello, "gpt", "")
	for _, mode := range []string{"open", "closed"} {
		t.Run(mode, func(t *testing.T) {
			extra := "redis: {url: \"redis://127.0.0.1:1/0\", on_failure: " + mode + "}\n"
			g, _ := idemGateway(t, "", nil)
			r := replica(t, g, extra, openIdem(t, extra, g.srv.log), &sink{})
			h := append(append([]string{}, keyA...), "Idempotency-Key", "redis-down")
			for range 2 {
				resp, s := r.do("POST", "/v1/chat/completions", body, h...)
				switch {
				case mode == "open" && resp.StatusCode != 200:
					t.Fatalf("open: %d %s", resp.StatusCode, s)
				case mode == "closed" && (resp.StatusCode != 503 || !strings.Contains(s, "idempotency store is unavailable")):
					t.Fatalf("closed: %d %s", resp.StatusCode, s)
				}
			}
			want := map[string]int{"open": 2, "closed": 0}[mode]
			if n := chatCalls(g.up); n != want {
				t.Fatalf("upstream called %d times, want %d", n, want)
			}
			if mode == "open" && !strings.Contains(g.logs.String(), "serving without keeping the result") {
				t.Fatalf("no warning logged: %s", g.logs.String())
			}
		})
	}
}
