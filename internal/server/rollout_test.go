package server

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/observe/tracing/tracingtest"
	"github.com/llmgw/llmgw/internal/provider/providertest"
	"github.com/llmgw/llmgw/internal/store"
)

// rolloutConfig sends "chat" to provider stable, except: requests with
// x-llmgw-variant: b go to provider variant-b, and tenant acme's to
// provider canary.
const rolloutConfig = `
server:
  admin_token: admin-secret
providers:
  - {name: stable, type: mock}
  - {name: variant-b, type: mock}
  - {name: canary, type: mock}
models:
  - name: chat
    targets: [{provider: stable, model: v1}]
    routes:
      - name: ab-b
        match: {header: {name: X-LLMGW-Variant, value: b}}
        targets: [{provider: variant-b, model: v2}]
      - name: acme-canary
        match: {tenants: [acme]}
        targets: [{provider: canary, model: v2}]
keys:
  - {name: acme-key, key: acme-static-key-0001, tenant: acme}
  - {name: beta-key, key: beta-static-key-0001, tenant: beta}
`

// The rule that chose a request's targets shows in x-llmgw-provider, in
// the llmgw_route_rule_matches_total metric, in the access log and in the
// admin API's targets.
func TestRolloutRulesVisible(t *testing.T) {
	g := newGateway(t, rolloutConfig, nil)
	body := `{"model":"chat","messages":[{"role":"user","content":"hi"}]}`
	tests := []struct {
		name     string
		headers  []string
		provider string
		rule     string
	}{
		{"default", []string{"Authorization", "Bearer beta-static-key-0001"}, "stable", ""},
		{"header", []string{"Authorization", "Bearer beta-static-key-0001", "x-llmgw-variant", "b"}, "variant-b", "ab-b"},
		{"other header value", []string{"Authorization", "Bearer beta-static-key-0001", "x-llmgw-variant", "c"}, "stable", ""},
		{"tenant", []string{"Authorization", "Bearer acme-static-key-0001"}, "canary", "acme-canary"},
		{"header first", []string{"Authorization", "Bearer acme-static-key-0001", "X-Llmgw-Variant", "b"}, "variant-b", "ab-b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, out := g.do("POST", "/v1/chat/completions", body, tt.headers...)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, out)
			}
			if got := resp.Header.Get("X-Llmgw-Provider"); got != tt.provider {
				t.Errorf("x-llmgw-provider %q, want %q", got, tt.provider)
			}
			line := g.logLine("request", resp)
			if got, _ := line["route_rule"].(string); got != tt.rule {
				t.Errorf("access log route_rule %q, want %q", got, tt.rule)
			}
		})
	}
	_, metrics := g.do("GET", "/metrics", "")
	for _, want := range []string{
		`llmgw_route_rule_matches_total{model="chat",rule="ab-b"} 2`,
		`llmgw_route_rule_matches_total{model="chat",rule="acme-canary"} 1`,
		`llmgw_upstream_attempts_total{model="chat",outcome="success",provider="canary"} 1`,
		`llmgw_breaker_state{model="chat",provider="canary",target="v2#acme-canary/0"} 0`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	resp, targets := g.do("GET", "/admin/v1/targets", "", "Authorization", "Bearer admin-secret")
	if resp.StatusCode != 200 {
		t.Fatalf("targets: %d %s", resp.StatusCode, targets)
	}
	chat := gjson.Get(targets, `models.#(name=="chat")`)
	if got := chat.Get("routes.1.name").String(); got != "acme-canary" {
		t.Errorf("routes[1].name = %q in %s", got, chat.Raw)
	}
	if got := chat.Get("routes.1.targets.0.provider").String(); got != "canary" || chat.Get("routes.1.targets.0.attempts").Int() != 1 {
		t.Errorf("route target %s", chat.Get("routes.1.targets.0").Raw)
	}
}

// rolloutReload routes requests with x-llmgw-variant: b to the fake
// upstream, whose breaker opens at its first failure; the model's own
// target is a mock.
const rolloutReload = `
providers:
  - {name: fake-openai, type: openai, base_url: "${UPSTREAM}", api_key: sk-upstream-test}
  - {name: stable, type: mock}
models:
  - name: chat
    retry: {max_attempts: 1}
    breaker: {consecutive_failures: 1, cooldown: "1h"}
    targets: [{provider: stable, model: v1, weight: 1}]
    routes:
      - name: canary
        match: {header: {name: x-llmgw-variant, value: b}}
        targets: [{provider: fake-openai, model: gpt-4o-mini}]
`

// A reload that keeps a rule's target keeps its breaker open: the next
// request the rule takes reaches no upstream. One that drops the rule
// sends everything to the model's targets.
func TestRolloutRuleTargetHealthKeptAcrossReload(t *testing.T) {
	g := newReloadGateway(t, rolloutReload, nil)
	do := func() *http.Response {
		t.Helper()
		req, _ := http.NewRequest("POST", g.http.URL+"/v1/chat/completions", strings.NewReader(`{"model":"chat","messages":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("X-Llmgw-Variant", "b")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	g.up.Enqueue(providertest.Response{Status: 503, Body: []byte(`{"error":{"message":"overloaded","type":"server_error"}}`)})
	if resp := do(); resp.StatusCode != 503 {
		t.Fatalf("first request: %d, want the upstream's 503", resp.StatusCode)
	}
	gauge := `llmgw_breaker_state{model="chat",provider="fake-openai",target="gpt-4o-mini#canary/0"} 2`
	metrics := func() string {
		resp, err := http.Get(g.http.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if m := metrics(); !strings.Contains(m, gauge) {
		t.Fatalf("breaker not open before the reload:\n%s", m)
	}
	// Another weight for the model's target: a new configuration that
	// keeps the rule and its target.
	g.reload(t, strings.Replace(rolloutReload, "weight: 1", "weight: 2", 1))
	if m := metrics(); !strings.Contains(m, gauge) {
		t.Fatalf("breaker not open after the reload:\n%s", m)
	}
	n := len(g.up.Requests())
	if resp := do(); resp.StatusCode != 503 || resp.Header.Get("X-Llmgw-Provider") != "" {
		t.Fatalf("after the reload: %d from %q, want 503 with the breaker open", resp.StatusCode, resp.Header.Get("X-Llmgw-Provider"))
	}
	if len(g.up.Requests()) != n {
		t.Error("a request reached the upstream whose breaker is open")
	}
	// Rolled back: the rule is gone and its requests go to the model's
	// target.
	g.reload(t, rolloutReload[:strings.Index(rolloutReload, "    routes:")])
	if resp := do(); resp.StatusCode != 200 || resp.Header.Get("X-Llmgw-Provider") != "stable" {
		t.Fatalf("after the rollback: %d from %q", resp.StatusCode, resp.Header.Get("X-Llmgw-Provider"))
	}
	if m := metrics(); strings.Contains(m, "canary") {
		t.Errorf("series of the removed rule remain:\n%s", m)
	}
}

// The rule that chose the targets is an attribute of the request's span;
// a request the model's targets served has none.
func TestRolloutRuleOnTheRequestSpan(t *testing.T) {
	yaml := strings.Replace(tracedConfig, "models:\n", `models:
  - name: ab
    targets: [{provider: fake-openai, model: "gpt-4o-mini"}]
    routes: [{name: variant-b, match: {header: {name: x-llmgw-variant, value: b}}, targets: [{provider: fake-openai, model: "gpt-4o"}]}]
`, 1)
	g := newTracedGatewayOf(t, config.TracingHTTP, 1, yaml, nil)
	body := `{"model":"ab","messages":[{"role":"user","content":"hi"}]}`
	for _, v := range []string{"b", "a"} {
		resp, out := g.do("POST", "/v1/chat/completions", body, "Authorization", "Bearer sk-team-a-secret-key", "X-Llmgw-Variant", v)
		require.Equal(t, 200, resp.StatusCode, out)
	}
	var reqs []tracingtest.Span
	for _, s := range g.flush() {
		if s.Kind == tracepb.Span_SPAN_KIND_SERVER {
			reqs = append(reqs, s)
		}
	}
	require.Len(t, reqs, 2)
	assert.Equal(t, "variant-b", reqs[0].Attrs["llmgw.route_rule"])
	assert.Equal(t, "gpt-4o", reqs[0].Attrs["llmgw.upstream_model"])
	assert.NotContains(t, reqs[1].Attrs, "llmgw.route_rule")
	assert.Equal(t, "gpt-4o-mini", reqs[1].Attrs["llmgw.upstream_model"])
}

// A key created in the store with a label is routed by a key_labels rule;
// a key with another value, or a static key (no labels), is not.
func TestRolloutKeyLabelsOfStoredKeys(t *testing.T) {
	const yaml = `
providers:
  - {name: stable, type: mock}
  - {name: labelled, type: mock}
models:
  - name: chat
    targets: [{provider: stable, model: v1}]
    routes:
      - name: canary-keys
        match: {key_labels: {env: canary}}
        targets: [{provider: labelled, model: v2}]
keys:
  - {name: static, key: static-key-0001}
`
	g := newStoreKeys(t, yaml)
	canary := g.key(store.Key{Name: "c", Labels: map[string]string{"env": "canary"}})
	prod := g.key(store.Key{Name: "p", Labels: map[string]string{"env": "prod"}})
	body := `{"model":"chat","messages":[{"role":"user","content":"hi"}]}`
	for _, tt := range []struct {
		key, want string
	}{{canary, "labelled"}, {prod, "stable"}, {"static-key-0001", "stable"}} {
		resp, out := g.do("POST", "/v1/chat/completions", body, bearer(tt.key)...)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, out)
		}
		if got := resp.Header.Get("X-Llmgw-Provider"); got != tt.want {
			t.Errorf("served by %q, want %q", got, tt.want)
		}
	}
}
