package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/pipeline"

	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// routingConfig gives model "gpt" the fake upstream as its only target and
// "mock" as fallback.
const routingConfig = `
server:
  admin_token: "${ADMIN_TOKEN:-}"
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
    retry: {max_attempts: 2, base_backoff: "1ms", max_backoff: "2ms"}
    fallbacks: [mock]
  - name: mock
    targets: [{provider: mock, model: mock}]
  - name: other
    targets: [{provider: mock, model: mock}]
keys:
  - {name: k, key: sk-virtual, models: [gpt, mock]}
`

func TestAttemptsHeaderAndFallbacks(t *testing.T) {
	g := newGateway(t, routingConfig, nil)
	key := []string{"Authorization", "Bearer sk-virtual"}
	body := `{"model":"gpt","messages":[{"role":"user","content":"hello there"}]}`
	e503 := providertest.Response{Status: 503, Body: []byte(`{"error":{"message":"overloaded","type":"server_error"}}`)}

	tests := []struct {
		name     string
		script   []providertest.Response
		header   []string
		status   int
		provider string
		attempts string
	}{
		{"first try", nil, nil, 200, "fake-openai", "1"},
		{"retried", []providertest.Response{e503}, nil, 200, "fake-openai", "2"},
		{"fallback", []providertest.Response{e503, e503}, nil, 200, "mock", "3"},
		{"fallbacks off by header", []providertest.Response{e503, e503}, []string{"X-Llmgw-Fallbacks", ""}, 503, "fake-openai", "2"},
		{"header names a model the key may not use", nil, []string{"X-Llmgw-Fallbacks", "other"}, 403, "", ""},
		{"header names an unknown model", nil, []string{"X-Llmgw-Fallbacks", "mock, nope"}, 400, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g.up.Enqueue(tt.script...)
			resp, out := g.do("POST", "/v1/chat/completions", body, append(key, tt.header...)...)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d: %s", resp.StatusCode, out)
			}
			if got := resp.Header.Get("X-Llmgw-Attempts"); got != tt.attempts {
				t.Errorf("x-llmgw-attempts %q, want %q", got, tt.attempts)
			}
			if got := resp.Header.Get("X-Llmgw-Provider"); got != tt.provider {
				t.Errorf("x-llmgw-provider %q, want %q", got, tt.provider)
			}
		})
	}
}

func TestMetricsEndpoint(t *testing.T) {
	g := newGateway(t, routingConfig, nil)
	g.do("POST", "/v1/chat/completions", `{"model":"gpt","messages":[{"role":"user","content":"hi"}]}`, "Authorization", "Bearer sk-virtual")
	resp, body := g.do("GET", "/metrics", "")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("status %d type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`llmgw_upstream_attempts_total{model="gpt",outcome="success",provider="fake-openai"} 1`,
		`llmgw_breaker_state{model="gpt",provider="fake-openai",target="gpt-4o-mini#0"} 0`,
		`llmgw_upstream_ttft_seconds_count{model="gpt",provider="fake-openai"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, "sk-") {
		t.Error("metrics show a key")
	}
}

func TestAdminTargets(t *testing.T) {
	tests := []struct {
		name, token, auth string
		status            int
	}{
		{"disabled without a token", "", "Bearer x", 404},
		{"no credentials", "admin-secret", "", 401},
		{"a virtual key is not the admin token", "admin-secret", "Bearer sk-virtual", 401},
		{"admin token", "admin-secret", "Bearer admin-secret", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGateway(t, routingConfig, map[string]string{"ADMIN_TOKEN": tt.token})
			var h []string
			if tt.auth != "" {
				h = []string{"Authorization", tt.auth}
			}
			resp, body := g.do("GET", "/admin/v1/targets", "", h...)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if tt.status != http.StatusOK {
				if gjson.Get(body, "error.code").String() == "" {
					t.Errorf("error not in the error shape: %s", body)
				}
				return
			}
			gpt := gjson.Get(body, `models.#(name=="gpt")`)
			if gpt.Get("balancing").String() != "weighted" || gpt.Get("targets.0.state").String() != "closed" ||
				gpt.Get("targets.0.provider").String() != "fake-openai" || gpt.Get("targets.0.share").Float() != 1 {
				t.Errorf("gpt = %s", gpt.Raw)
			}
		})
	}
}

// Every /v1 route that reaches an upstream reports its attempts and honours
// the fallback override, whatever the client's protocol.
func TestAttemptsAndFallbackOnEveryRoute(t *testing.T) {
	g := newGateway(t, baseConfig, nil)
	for _, tc := range []struct{ path, body string }{
		{"/v1/chat/completions", `{"model":"gpt","messages":[{"role":"user","content":"hi"}]}`},
		{"/v1/messages", `{"model":"gpt","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`},
		{"/v1/embeddings", `{"model":"gpt","input":"hi"}`},
	} {
		resp, body := g.do("POST", tc.path, tc.body)
		if resp.StatusCode != 200 || resp.Header.Get("X-Llmgw-Attempts") != "1" || resp.Header.Get("X-Llmgw-Provider") != "fake-openai" {
			t.Errorf("%s: status %d attempts %q provider %q: %s", tc.path, resp.StatusCode,
				resp.Header.Get("X-Llmgw-Attempts"), resp.Header.Get("X-Llmgw-Provider"), body)
		}
		resp, body = g.do("POST", tc.path, tc.body, "X-Llmgw-Fallbacks", "no-such-model")
		if resp.StatusCode != 400 || !strings.Contains(body, "x-llmgw-fallbacks") {
			t.Errorf("%s: an unknown fallback in the override must be refused: %d %s", tc.path, resp.StatusCode, body)
		}
	}
}

// The override header is read line by line where it is, never joined: the
// work for 45,000 lines is linear, and its allocations are bounded.
func TestFallbacksHeaderLinesNotJoined(t *testing.T) {
	r := httptest.NewRequest("POST", "/v1/chat/completions", nil)
	r.Header[fallbacksKey] = make([]string, 45_000)
	r.Header[fallbacksKey][44_999] = "mock"
	call := &pipeline.Call{}
	allocs := testing.AllocsPerRun(5, func() {
		if err := routingFromRequest(r, call); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 4 || len(call.Fallbacks) != 1 || call.Fallbacks[0] != "mock" {
		t.Errorf("%v allocations, fallbacks %q", allocs, call.Fallbacks)
	}
}

// Too many fallback names, or one too long, is a 400 naming the header on
// every route that makes an upstream call.
func TestFallbacksHeaderBounded(t *testing.T) {
	g := newGateway(t, baseConfig, nil)
	for _, tc := range []struct{ path, body string }{
		{"/v1/chat/completions", `{"model":"gpt","messages":[{"role":"user","content":"hi"}]}`},
		{"/v1/messages", `{"model":"gpt","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`},
		{"/v1/embeddings", `{"model":"gpt","input":"hi"}`},
	} {
		for h, want := range map[string]string{
			"mock,mock,mock,mock,mock,mock": "more than 5 models",
			strings.Repeat("m", 257):        "longer than 256 bytes",
			strings.Repeat("mock,", 20_000): "more than 5 models",
		} {
			resp, body := g.do("POST", tc.path, tc.body, "X-Llmgw-Fallbacks", h)
			if resp.StatusCode != 400 || !strings.Contains(body, "x-llmgw-fallbacks") || !strings.Contains(body, want) {
				t.Errorf("%s: header of %d bytes: %d %s", tc.path, len(h), resp.StatusCode, body)
			}
		}
		if resp, body := g.do("POST", tc.path, tc.body, "X-Llmgw-Fallbacks", "mock,mock,mock,mock,mock"); resp.StatusCode != 200 {
			t.Errorf("%s: five fallbacks: %d %s", tc.path, resp.StatusCode, body)
		}
	}
}
