package server

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// cooldownConfig gives model gpt the fake upstream as its only target, one
// attempt and no fallback, so that an upstream 429 reaches the client.
const cooldownConfig = `
server:
  admin_token: admin-secret
providers:
  - name: fake-openai
    type: openai
    base_url: "${UPSTREAM}"
    api_key: sk-upstream-test
  - name: mock
    type: mock
models:
  - name: gpt
    targets: [{provider: fake-openai, model: "gpt-4o-mini"}]
    retry: {max_attempts: 1}
    all_open_wait: "10ms"
  - name: mock
    targets: [{provider: mock, model: mock}]
`

// An upstream's Retry-After of three years holds the target back for the
// capped minute only, the client is told that minute, the admin API shows
// the cool-down and a reset ends it.
func TestRetryAfterCappedAndTargetReset(t *testing.T) {
	g := newGateway(t, cooldownConfig, nil)
	admin := []string{"Authorization", "Bearer admin-secret"}
	chat := `{"model":"gpt","messages":[{"role":"user","content":"hi"}]}`
	g.up.Enqueue(providertest.Response{Status: 429, Header: http.Header{"Retry-After": {"99999999"}},
		Body: []byte(`{"error":{"message":"slow down","type":"rate_limit_error"}}`)})

	for i := range 2 { // the 429 itself, then the target cooling down
		resp, body := g.do("POST", "/v1/chat/completions", chat)
		ra, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		if resp.StatusCode != 503 || ra < 1 || ra > 60 {
			t.Fatalf("request %d: %d Retry-After %q: %s", i, resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
	}
	if n := len(g.up.Requests()); n != 1 {
		t.Fatalf("%d upstream requests, want 1", n)
	}
	_, body := g.do("GET", "/admin/v1/targets", "", admin...)
	target := gjson.Get(body, `models.#(name=="gpt").targets.0`)
	until, err := time.Parse(time.RFC3339Nano, target.Get("cooldown_until").String())
	if target.Get("state").String() != "cooling_down" || err != nil || time.Until(until) > time.Minute || time.Until(until) <= 0 {
		t.Fatalf("target %s, want cooling_down for at most a minute", target.Raw)
	}

	resp, body := g.do("POST", "/admin/v1/targets/reset", `{"model":"gpt","provider":"fake-openai","upstream_model":"gpt-4o-mini"}`, admin...)
	if resp.StatusCode != 200 || gjson.Get(body, "reset").Int() != 1 ||
		gjson.Get(body, "data.0.provider").String() != "fake-openai" || gjson.Get(body, "data.0.upstream_model").String() != "gpt-4o-mini" {
		t.Fatalf("reset: %d %s", resp.StatusCode, body)
	}
	_, body = g.do("GET", "/admin/v1/targets", "", admin...)
	target = gjson.Get(body, `models.#(name=="gpt").targets.0`)
	if target.Get("state").String() != "closed" || target.Get("cooldown_until").Exists() {
		t.Fatalf("after reset: %s", target.Raw)
	}
	if resp, body := g.do("POST", "/v1/chat/completions", chat); resp.StatusCode != 200 {
		t.Fatalf("after reset: %d %s", resp.StatusCode, body)
	}
}

// The reset route is admin-only and its body strict.
func TestTargetResetRequest(t *testing.T) {
	g := newGateway(t, cooldownConfig, nil)
	admin := []string{"Authorization", "Bearer admin-secret"}
	tests := []struct {
		name, body string
		headers    []string
		status     int
		param      string // the error's param, or the number reset
	}{
		{"no token", `{"all":true}`, nil, 401, ""},
		{"a wrong token", `{"all":true}`, []string{"Authorization", "Bearer nope"}, 401, ""},
		{"all", `{"all":true}`, admin, 200, "2"},
		{"one model", `{"model":"mock"}`, admin, 200, "1"},
		{"unknown field", `{"model":"gpt","target":"x"}`, admin, 400, "target"},
		{"duplicate field", `{"model":"gpt","model":"mock"}`, admin, 400, "model"},
		{"wrong type", `{"model":7}`, admin, 400, "model"},
		{"all of the wrong type", `{"all":"yes"}`, admin, 400, "all"},
		{"all with a selector", `{"all":true,"model":"gpt"}`, admin, 400, "all"},
		{"nothing chosen", `{}`, admin, 400, "model"},
		{"all false", `{"all":false}`, admin, 400, "model"},
		{"empty body", ``, admin, 400, ""},
		{"not an object", `["gpt"]`, admin, 400, ""},
		{"trailing data", `{"all":true} {}`, admin, 400, ""},
		{"invalid JSON", `{"model":`, admin, 400, ""},
		{"unknown model", `{"model":"nope"}`, admin, 404, ""},
		{"unknown provider", `{"model":"gpt","provider":"mock"}`, admin, 404, ""},
		{"invalid UTF-8", "{\"model\":\"\xff\"}", admin, 404, ""},
		{"deeply nested", `{"model":` + strings.Repeat("[", 20_000) + strings.Repeat("]", 20_000) + `}`, admin, 400, ""},
		{"nested value", `{"model":{"name":"gpt"}}`, admin, 400, "model"},
		{"huge body", `{"model":"` + strings.Repeat("x", 100<<10) + `"}`, admin, 413, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := g.do("POST", "/admin/v1/targets/reset", tt.body, tt.headers...)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if tt.status == 200 {
				if got := gjson.Get(body, "reset").String(); got != tt.param {
					t.Errorf("reset %s, want %s: %s", got, tt.param, body)
				}
				return
			}
			if gjson.Get(body, "error.code").String() == "" || strings.Contains(body, "admin-secret") {
				t.Errorf("error not in the OpenAI shape, or showing the token: %s", body)
			}
			if tt.param != "" && gjson.Get(body, "error.param").String() != tt.param {
				t.Errorf("param %q, want %q: %s", gjson.Get(body, "error.param").String(), tt.param, body)
			}
		})
	}
	resp, _ := g.do("GET", "/admin/v1/targets/reset", "", admin...)
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET on the reset route: %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
}
