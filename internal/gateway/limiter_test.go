package gateway

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/auth"
	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/limits"
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/pipeline"
)

// redisURL is the test Redis, from LLMGW_TEST_REDIS_URL; a missing one is
// a skip, except in CI, where it is a failure.
func redisURL(t *testing.T) string {
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

const limitedYAML = `
providers: [{name: mock, type: mock}]
models: [{name: mock, targets: [{provider: mock, model: mock}]}]
keys: [{name: %s, key: sk-limited, limits: {rpm: 2}}]
%s`

// compileLimited compiles a gateway with one static key of rpm 2, on
// limiter (nil: the snapshot's own).
func compileLimited(t *testing.T, keyName, extra string, limiter limits.Limiter) *Snapshot {
	t.Helper()
	cfg, err := config.Parse([]byte(fmt.Sprintf(limitedYAML, keyName, extra)), nil)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := Compile(cfg, Options{Limiter: limiter})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// call makes one chat call on snap with the limited key.
func call(snap *Snapshot) error {
	ctx := auth.WithPrincipal(context.Background(), snap.Keys.Lookup("sk-limited"))
	c := pipeline.NewChatCall("openai", nil, func([]byte) (*llm.ChatRequest, error) {
		return &llm.ChatRequest{Messages: []llm.Message{{Role: llm.RoleUser, Content: []llm.Part{llm.TextPart("hi")}}}}, nil
	})
	c.Model = "mock"
	s, err := snap.Invoke(ctx, c)
	if err == nil {
		s.Close()
	}
	return err
}

func admitted(t *testing.T, snaps []*Snapshot, n int) int {
	t.Helper()
	ok := 0
	for i := range n {
		err := call(snaps[i%len(snaps)])
		switch {
		case err == nil:
			ok++
		case llm.AsError(err).Kind != llm.KindRateLimited:
			t.Fatalf("call %d: %v", i, err)
		}
	}
	return ok
}

// The process's limiter carries its counts across snapshots: a new
// configuration does not give a key a fresh minute.
func TestLimiterOutlivesSnapshots(t *testing.T) {
	lim := limits.NewMemory(nil)
	a, b := compileLimited(t, "k", "", lim), compileLimited(t, "k", "", lim)
	if got := admitted(t, []*Snapshot{a, b}, 4); got != 2 {
		t.Errorf("%d admitted across two snapshots of one process, want 2", got)
	}
	// Without one, each snapshot counts on its own.
	c, d := compileLimited(t, "k", "", nil), compileLimited(t, "k", "", nil)
	if got := admitted(t, []*Snapshot{c, d}, 4); got != 4 {
		t.Errorf("%d admitted by two snapshots with limiters of their own, want 4", got)
	}
}

// Two processes on one Redis share the counts.
func TestOpenLimiterRedisShared(t *testing.T) {
	redis := "redis:\n  url: " + redisURL(t) + "\n"
	name := fmt.Sprintf("shared-%d", time.Now().UnixNano())
	var snaps []*Snapshot
	for range 2 {
		cfg, err := config.Parse([]byte(fmt.Sprintf(limitedYAML, name, redis)), nil)
		if err != nil {
			t.Fatal(err)
		}
		lim, _, closeLim, err := OpenLimiter(cfg, nil, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { closeLim() })
		snaps = append(snaps, compileLimited(t, name, redis, lim))
	}
	if got := admitted(t, snaps, 6); got != 2 {
		t.Errorf("%d admitted across two limiters on one Redis, want 2", got)
	}
}

// A Redis that does not answer: closed refuses limited calls with 503 in
// bounded time, open counts in memory.
func TestOpenLimiterRedisDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	for _, mode := range []string{"open", "closed"} {
		t.Run(mode, func(t *testing.T) {
			extra := "redis:\n  url: redis://:hunter2@" + addr + "/0\n  on_failure: " + mode + "\n"
			cfg, err := config.Parse([]byte(fmt.Sprintf(limitedYAML, "k", extra)), nil)
			if err != nil {
				t.Fatal(err)
			}
			lim, _, closeLim, err := OpenLimiter(cfg, nil, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer closeLim()
			snap := compileLimited(t, "k", extra, lim)
			if strings.Contains(fmt.Sprint(snap.Config.Redis.URL), "hunter2") {
				t.Error("the snapshot's configuration shows the Redis password")
			}
			for i := range 3 {
				start := time.Now()
				err := call(snap)
				if d := time.Since(start); d > time.Second {
					t.Errorf("call %d took %v with Redis down", i, d)
				}
				if mode == "open" && i < 2 && err != nil {
					t.Errorf("open, call %d: %v", i, err)
				}
				if mode == "open" && i == 2 && llm.AsError(err).Kind != llm.KindRateLimited {
					t.Errorf("open, call 2: %v, want the memory limit to refuse", err)
				}
				if mode == "closed" {
					e := llm.AsError(err)
					if e.Status() != 503 || !strings.Contains(e.PublicMessage(), "limit store") || strings.Contains(e.PublicMessage(), "hunter2") {
						t.Errorf("closed, call %d: %v", i, err)
					}
				}
			}
		})
	}
}

func TestOpenLimiterBadURLHidesPassword(t *testing.T) {
	cfg := &config.Config{Redis: config.Redis{URL: "redis://:hunter2@h:6379/notadb"}}
	_, _, _, err := OpenLimiter(cfg, nil, nil, nil)
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("err = %v", err)
	}
}

// callModel makes one chat call for model with no key, and returns the
// provider that served it.
func callModel(snap *Snapshot, model string, maxTokens int) (string, error) {
	c := pipeline.NewChatCall("openai", nil, func([]byte) (*llm.ChatRequest, error) {
		return &llm.ChatRequest{MaxTokens: &maxTokens, Messages: []llm.Message{{Role: llm.RoleUser, Content: []llm.Part{llm.TextPart("hi")}}}}, nil
	})
	c.Model = model
	s, err := snap.Invoke(auth.WithPrincipal(context.Background(), auth.Anonymous), c)
	if err != nil {
		return "", err
	}
	s.Close()
	return c.Provider, nil
}

// A target at its own limit is skipped for the next; with every target at
// its limit the model falls back, and without a fallback the call gets 429
// with the shortest wait.
func TestTargetLimits(t *testing.T) {
	snap, err := compile(t, `
providers: [{name: a, type: mock}, {name: b, type: mock}, {name: c, type: mock}]
models:
  - name: m
    balancing: round_robin
    targets:
      - {provider: a, model: mock, limits: {rpm: 1}}
      - {provider: b, model: mock, limits: {rpm: 2}}
  - name: f
    targets: [{provider: a, model: other, limits: {rpm: 1}}, {provider: b, model: other, limits: {rpm: 1}}]
    fallbacks: [g]
  - name: g
    targets: [{provider: c, model: mock, limits: {rpm: 1}}]
  - name: tok
    targets: [{provider: a, model: tok, limits: {tpm: 1000}}]
`)
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]int{}
	for i := range 3 {
		p, err := callModel(snap, "m", 10)
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		served[p]++
	}
	if served["a"] != 1 || served["b"] != 2 {
		t.Errorf("served %v, want a once (its rpm) and b twice", served)
	}
	_, err = callModel(snap, "m", 10)
	e := llm.AsError(err)
	if e.Kind != llm.KindRateLimited || e.Status() != 429 || e.RetryAfter <= 0 || e.RetryAfter > 30*time.Second ||
		!strings.Contains(e.PublicMessage(), "every upstream target of model m is at its requests per minute limit") {
		t.Fatalf("all targets at their limits: %v (retry after %v), want 429 with b's 30s wait", err, e.RetryAfter)
	}
	// f's two targets, then its fallback g, then nothing.
	for i, want := range []string{"a", "b", "c"} {
		p, err := callModel(snap, "f", 10)
		if err != nil || p == "" {
			t.Fatalf("f call %d: %q %v", i, p, err)
		}
		if i == 2 && p != want {
			t.Errorf("f call %d served by %s, want the fallback's %s", i, p, want)
		}
	}
	if _, err := callModel(snap, "f", 10); llm.AsError(err).Kind != llm.KindRateLimited {
		t.Errorf("f with every target and fallback limited: %v", err)
	}
	// A target's tokens per minute: the call reserves prompt plus
	// max_tokens; more than the limit ever holds is refused for good.
	if _, err := callModel(snap, "tok", 500); err != nil {
		t.Fatalf("tok: %v", err)
	}
	_, err = callModel(snap, "tok", 5000)
	if e := llm.AsError(err); e.Kind != llm.KindRateLimited || e.RetryAfter != 0 || !strings.Contains(e.PublicMessage(), "allows at once") {
		t.Errorf("tok over its limit: %v", err)
	}
}
