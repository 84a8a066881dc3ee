package main

import (
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/observe"
	"github.com/llmgw/llmgw/internal/secret"
)

var update = flag.Bool("update", false, "rewrite docs/metrics.md from the metrics the process registers")

// metricsDocPath is the generated list of metrics.
const metricsDocPath = "../../docs/metrics.md"

// everythingConfig turns on every part of the process that has metrics:
// the store and the usage ledger, Redis for limits and idempotency, alerts,
// providers of a few types, exact, wildcard and fallback models.
const everythingConfig = `
server:
  data_dir: "${DATA_DIR}"
  admin_token: "adm-doc-token-0123456789"
storage: {driver: sqlite, dsn: "${DATA_DIR}/llmgw.db"}
redis: {url: "${REDIS_URL}"}
idempotency: {enabled: true}
alerts: {webhook: {url: "http://127.0.0.1:9/hook", secret: "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}}
providers:
  - {name: mock, type: mock}
  - {name: openai, type: openai, base_url: "http://127.0.0.1:9/v1", api_key: "sk-doc", max_connections: 64}
  - {name: anthropic, type: anthropic, base_url: "http://127.0.0.1:9", api_key: "sk-ant-doc"}
models:
  - {name: mock, targets: [{provider: mock, model: mock}]}
  - {name: gpt, targets: [{provider: openai, model: gpt-4o-mini}], fallbacks: [mock]}
  - {name: "claude/*", targets: [{provider: anthropic, model: "*"}]}
keys:
  - {name: doc, key: sk-doc-key-0123456789, tenant: acme, limits: {rpm: 10}}
`

// docs/metrics.md lists every metric the process registers, as wired by
// openProcess with every feature on: a metric added anywhere in the
// process appears there once -update has been run, and the build fails
// until it has.
func TestMetricsDoc(t *testing.T) {
	redis := os.Getenv("LLMGW_TEST_REDIS_URL")
	if redis == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("LLMGW_TEST_REDIS_URL is not set; CI must provide Redis")
		}
		t.Skip("LLMGW_TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/0)")
	}
	dir := t.TempDir()
	vars := map[string]string{"DATA_DIR": dir, "REDIS_URL": redis}
	cfg, err := config.Parse([]byte(everythingConfig), func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	p, err := openProcess(cfg, slog.New(slog.DiscardHandler), "", "", nil, nil, secret.New(secret.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	ms, err := p.metrics.Metrics()
	if err != nil {
		t.Fatal(err)
	}
	got, err := observe.Markdown(ms)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"llmgw_requests_total", "llmgw_upstream_duration_seconds", "llmgw_ledger_queue_length", "llmgw_breaker_state", "go_goroutines", "process_cpu_seconds_total"} {
		if !strings.Contains(string(got), "\n### `"+name+"`\n") {
			t.Errorf("the process does not register %s", name)
		}
	}
	if *update {
		if err := os.WriteFile(metricsDocPath, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(metricsDocPath)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n")); diff != "" {
		t.Errorf("%s is out of date; run go test ./cmd/llmgw -run TestMetricsDoc -update (-file +generated):\n%s", filepath.Base(metricsDocPath), diff)
	}
}
