package server

import (
	"context"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/health"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

func TestReadyzReport(t *testing.T) {
	g := newGateway(t, baseConfig, nil)
	resp, body := g.do("GET", "/readyz", "")
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("%d %v %s", resp.StatusCode, resp.Header, body)
	}
	for path, want := range map[string]string{
		"status":                        "ok",
		"checks.server.status":          "ok",
		"checks.server.draining":        "false",
		"checks.server.starting":        "false",
		"checks.config.status":          "ok",
		"checks.models.status":          "ok",
		"checks.models.total":           "2",
		"checks.models.unavailable":     "[]",
		"checks.store":                  "", // no store in this gateway
		"checks.providers":              "", // no active check
		"checks.config.loaded_at|@this": gjson.Get(body, "checks.config.loaded_at").Raw,
	} {
		if got := gjson.Get(body, path).Raw; strings.Trim(got, `"`) != want && got != want {
			t.Errorf("%s = %s, want %s\n%s", path, got, want, body)
		}
	}
	g.srv.draining.Store(true)
	if resp, body := g.do("GET", "/readyz", ""); resp.StatusCode != 503 || gjson.Get(body, "checks.server.draining").Bool() != true {
		t.Errorf("draining: %d %s", resp.StatusCode, body)
	}
}

// redisURL is the test Redis, required: a missing service is a failure.
func redisURL(t *testing.T) string {
	u := os.Getenv("LLMGW_TEST_REDIS_URL")
	if u == "" {
		t.Fatal("LLMGW_TEST_REDIS_URL is not set")
	}
	return u
}

// closedPort returns an address nothing listens on.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestReadyzRedis: Redis is asked when configured; down, it makes the
// replica unavailable only when redis.on_failure is closed; its URL's
// password never shows.
func TestReadyzRedis(t *testing.T) {
	down := "redis://:hunter2-pass@" + closedPort(t) + "/0"
	tests := []struct {
		name, url, onFailure string
		status               int
		overall, redis       string
		required             bool
	}{
		{"up", redisURL(t), "closed", 200, "ok", "ok", true},
		{"down, fail open", down, "open", 200, "degraded", "degraded", false},
		{"down, fail closed", down, "closed", 503, "unavailable", "unavailable", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGateway(t, baseConfig, nil)
			cfg := &config.Config{Redis: config.Redis{URL: config.Secret(tt.url), OnFailure: tt.onFailure}}
			deps, closeDeps, err := gateway.Dependencies(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer closeDeps()
			g.srv.SetHealth(Health{Dependencies: deps})
			resp, body := g.do("GET", "/readyz", "")
			if resp.StatusCode != tt.status || gjson.Get(body, "status").String() != tt.overall ||
				gjson.Get(body, "checks.redis.status").String() != tt.redis || gjson.Get(body, "checks.redis.required").Bool() != tt.required {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			if got := gjson.Get(body, "checks.redis.detail.uses").Raw; got != `["limits","idempotency"]` {
				t.Errorf("uses = %s", got)
			}
			if strings.Contains(body, "hunter2") || strings.Contains(body, "redis://") {
				t.Errorf("the body leaks the Redis URL: %s", body)
			}
			if got := testutil.ToFloat64(g.srv.ready.Gauge().WithLabelValues("redis")); (got == 1) != (tt.redis == "ok") {
				t.Errorf("llmgw_ready{dependency=redis} = %v", got)
			}
		})
	}
}

// TestReadyzCachesStore: a storm of probes asks the store once per TTL.
func TestReadyzCachesStore(t *testing.T) {
	g := newGateway(t, baseConfig, nil)
	var pings atomic.Int32
	var clock atomic.Int64
	g.srv.readyNow = func() time.Time { return time.Unix(0, clock.Load()) }
	g.srv.SetHealth(Health{Dependencies: []health.Dependency{{Name: "store", Required: true,
		Probe: func(context.Context) error { pings.Add(1); return nil }}}})
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := httptest.NewRequest("GET", "/readyz", nil)
			w := httptest.NewRecorder()
			g.srv.ServeHTTP(w, req)
			if w.Code != 200 {
				t.Errorf("%d %s", w.Code, w.Body)
			}
		}()
	}
	wg.Wait()
	if n := pings.Load(); n != 1 {
		t.Fatalf("50 probes pinged the store %d times, want 1", n)
	}
	clock.Add(int64(readyTTL))
	g.do("GET", "/readyz", "")
	if n := pings.Load(); n != 2 {
		t.Fatalf("after the TTL: %d pings, want 2", n)
	}
}

// checkedGateway is a gateway whose fake OpenAI upstream is checked
// actively, on a clock moved by hand.
func checkedGateway(t *testing.T, checks string) (*testGateway, *health.Checker, func(time.Duration)) {
	t.Helper()
	yaml := strings.Replace(baseConfig, `    api_key: "${PROVIDER_KEY:-sk-upstream-test}"`,
		`    api_key: "${PROVIDER_KEY:-sk-upstream-test}"`+checks, 1)
	yaml = strings.Replace(yaml, `  - name: gpt
    targets:`, `  - name: gpt
    breaker: {consecutive_failures: 2, cooldown: 30s}
    targets:`, 1)
	up := providertest.NewOpenAI(t)
	var mu sync.Mutex
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	snap := compileConfig(t, yaml, map[string]string{"UPSTREAM": up.URL}, gateway.Options{Now: clock})
	srv := New(snap, slog.New(slog.DiscardHandler))
	checker := gateway.NewChecker(srv.Snapshot, snap.Metrics, nil)
	t.Cleanup(checker.Close)
	srv.SetHealth(Health{Checker: checker})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	g := &testGateway{t: t, srv: srv, http: ts, up: up, logs: &syncBuffer{}}
	return g, checker, func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
}

// modelsRequests counts the requests for the model list the fake got.
func modelsRequests(up *providertest.OpenAI) int {
	n := 0
	for _, r := range up.Requests() {
		if r.Method == "GET" && r.Path == "/v1/models" {
			n++
		}
	}
	return n
}

// TestActiveChecksFeedBreakersAndReadyz: failed checks open the breaker of
// the provider's target, /readyz reports the model unavailable and the
// provider down; once the upstream recovers and the cooldown has passed, a
// good check closes the breaker and all is well again.
func TestActiveChecksFeedBreakersAndReadyz(t *testing.T) {
	g, checker, advance := checkedGateway(t, "\n    health_check: {interval: 10s, timeout: 2s}")
	metricsUp := func() string {
		_, body := g.do("GET", "/metrics", "")
		for _, l := range strings.Split(body, "\n") {
			if strings.HasPrefix(l, `llmgw_provider_up{provider="fake-openai"}`) {
				return strings.Fields(l)[1]
			}
		}
		return "absent"
	}
	checker.CheckNow()
	if resp, body := g.do("GET", "/readyz", ""); resp.StatusCode != 200 || gjson.Get(body, "status").String() != "ok" ||
		!gjson.Get(body, "checks.providers.fake-openai.up").Bool() {
		t.Fatalf("healthy: %d %s", resp.StatusCode, body)
	}
	if got := metricsUp(); got != "1" {
		t.Fatalf("llmgw_provider_up = %s, want 1", got)
	}
	failure := providertest.Response{Status: 503, Body: []byte(`{"error":{"message":"down for maintenance","type":"server_error"}}`)}
	g.up.Enqueue(failure, failure)
	checker.CheckNow()
	checker.CheckNow()
	resp, body := g.do("GET", "/readyz", "")
	if resp.StatusCode != 200 || gjson.Get(body, "status").String() != "degraded" ||
		gjson.Get(body, "checks.models.unavailable").Raw != `["gpt"]` ||
		gjson.Get(body, "checks.providers.fake-openai.up").Bool() ||
		gjson.Get(body, "checks.providers.fake-openai.upstream_status").Int() != 503 {
		t.Fatalf("after two failed checks: %d %s", resp.StatusCode, body)
	}
	if st := g.srv.Snapshot().Router.Status()[0].Targets[0].State; st != "open" {
		t.Fatalf("breaker %s, want open", st)
	}
	if got := metricsUp(); got != "0" {
		t.Fatalf("llmgw_provider_up = %s, want 0", got)
	}
	// Recovered upstream, cooldown over: one good check closes it.
	advance(30 * time.Second)
	checker.CheckNow()
	if resp, body := g.do("GET", "/readyz", ""); resp.StatusCode != 200 || gjson.Get(body, "status").String() != "ok" ||
		!gjson.Get(body, "checks.providers.fake-openai.up").Bool() {
		t.Fatalf("recovered: %d %s", resp.StatusCode, body)
	}
	if st := g.srv.Snapshot().Router.Status()[0].Targets[0].State; st != "closed" {
		t.Fatalf("breaker %s after recovery, want closed", st)
	}
	if got := metricsUp(); got != "1" {
		t.Fatalf("llmgw_provider_up = %s, want 1", got)
	}
}

// TestActiveChecksOffByDefault: without health_check, the checker's
// rounds send nothing upstream, and llmgw_provider_up is absent.
func TestActiveChecksOffByDefault(t *testing.T) {
	g, checker, _ := checkedGateway(t, "")
	checker.Round()
	checker.CheckNow()
	if n := modelsRequests(g.up); n != 0 || len(g.up.Requests()) != 0 {
		t.Fatalf("checks are off, yet the upstream got %d requests", len(g.up.Requests()))
	}
	if _, body := g.do("GET", "/metrics", ""); strings.Contains(body, "llmgw_provider_up{") {
		t.Fatal("llmgw_provider_up reported with checks off")
	}
	if _, body := g.do("GET", "/readyz", ""); gjson.Get(body, "checks.providers").Exists() {
		t.Fatalf("providers reported with checks off: %s", body)
	}
}

// BenchmarkHealthz: liveness does no I/O and costs next to nothing.
func BenchmarkHealthz(b *testing.B) {
	snap := compileConfig(&testing.T{}, baseConfig, map[string]string{"UPSTREAM": "http://127.0.0.1:1/v1"}, gateway.Options{})
	srv := New(snap, slog.New(slog.DiscardHandler))
	req := httptest.NewRequest("GET", "/healthz", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}

// The readiness gauge is in the registry from the start (docs/metrics.md
// lists what the process registers), before any /readyz.
func TestReadyGaugeRegistered(t *testing.T) {
	g := newGateway(t, baseConfig, nil)
	reg := g.srv.Snapshot().Metrics.Gatherer().(*prometheus.Registry)
	// A second llmgw_ready is refused only when one is there.
	if err := reg.Register(prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "llmgw_ready", Help: "x"}, []string{"dependency"})); err == nil {
		t.Fatal("llmgw_ready is not registered before the first /readyz")
	}
}

// TestStartingServer: before its first snapshot a server answers the
// probes, and every other route 503 with Retry-After; Start serves all.
func TestStartingServer(t *testing.T) {
	cfg, err := config.Parse([]byte(baseConfig), func(k string) (string, bool) { return "http://127.0.0.1:1/v1", k == "UPSTREAM" })
	if err != nil {
		t.Fatal(err)
	}
	srv := NewStarting(cfg, slog.New(slog.DiscardHandler), nil)
	get := func(path string) (int, string, string) {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		return w.Code, w.Body.String(), w.Header().Get("Retry-After")
	}
	for path, want := range map[string]int{"/healthz": 200, "/startupz": 503, "/readyz": 503, "/v1/models": 503, "/admin/v1/targets": 503} {
		if code, body, _ := get(path); code != want {
			t.Errorf("starting: %s = %d %s, want %d", path, code, body, want)
		}
	}
	if _, body, ra := get("/v1/models"); ra != "1" || gjson.Get(body, "error.code").String() != "service_unavailable" {
		t.Errorf("starting: /v1/models: Retry-After %q, %s", ra, body)
	}
	if _, body, _ := get("/readyz"); !gjson.Get(body, "checks.server.starting").Bool() {
		t.Errorf("starting: /readyz %s", body)
	}
	snap, err := gateway.Compile(cfg, gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start(snap)
	for path, want := range map[string]int{"/healthz": 200, "/startupz": 200, "/readyz": 200, "/v1/models": 200} {
		if code, body, _ := get(path); code != want {
			t.Errorf("started: %s = %d %s, want %d", path, code, body, want)
		}
	}
}
