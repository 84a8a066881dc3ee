package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// outcomeConfig routes "gpt" to the fake upstream with one retry, and has
// keys of two tenants.
const outcomeConfig = `
providers:
  - name: fake-openai
    type: openai
    base_url: "${UPSTREAM}"
    api_key: upstream-configured-secret-0001
models:
  - name: gpt
    targets: [{provider: fake-openai, model: "gpt-4o-mini"}]
    retry: {max_attempts: 2, base_backoff: "1ms", max_backoff: "2ms"}
keys:
  - {name: acme-key, key: acme-static-key-0001, tenant: acme}
  - {name: beta-key, key: beta-static-key-0001, tenant: beta}
`

// logLines returns the log lines of g with message msg, decoded.
func (g *testGateway) logLines(msg string) []map[string]any {
	g.t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(g.logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			g.t.Fatalf("log line not JSON: %v: %q", err, l)
		}
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// logLine returns the one line with message msg of the request resp
// answered, once its access log line, the last of its lines, is written.
func (g *testGateway) logLine(msg string, resp *http.Response) map[string]any {
	g.t.Helper()
	id := resp.Header.Get("X-Request-Id")
	g.waitLogged(id)
	var found map[string]any
	for _, m := range g.logLines(msg) {
		if m["request_id"] == id {
			if found != nil {
				g.t.Fatalf("two %q lines for request %s", msg, id)
			}
			found = m
		}
	}
	if found == nil {
		g.t.Fatalf("no %q line for request %s in\n%s", msg, id, g.logs.String())
	}
	return found
}

// waitLogged waits for the access log line of request id.
func (g *testGateway) waitLogged(id string) {
	g.t.Helper()
	if !g.logs.waitFor(func(s string) bool { return strings.Contains(s, `"msg":"request","request_id":"`+id+`"`) }, 10*time.Second) {
		g.t.Fatalf("request %s not logged:\n%s", id, g.logs.String())
	}
}

// usageBody is a chat completion whose usage has every kind of token.
const usageBody = `{"id":"chatcmpl-1","object":"chat.completion","created":1741569952,"model":"gpt-4o-mini-2024-07-18",
"choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],
"usage":{"prompt_tokens":1200,"completion_tokens":300,"total_tokens":1500,
"prompt_tokens_details":{"cached_tokens":1024},"completion_tokens_details":{"reasoning_tokens":120}}}`

// The access log line of a request says what the call cost and how it
// went: tokens of each kind, cost, upstream model, attempts, time to first
// token of a stream; on real requests, unary, streamed, failed and retried.
func TestAccessLogOutcome(t *testing.T) {
	g := newGateway(t, outcomeConfig, nil)
	key := acmeKey
	e503 := providertest.Response{Status: 503, Body: []byte(`{"error":{"message":"overloaded","type":"server_error"}}`)}
	e400 := providertest.Response{Status: 400, Body: []byte(`{"error":{"message":"bad","type":"invalid_request_error"}}`)}
	unary := fmt.Sprintf(userHello, "gpt", "")
	stream := fmt.Sprintf(userHello, "gpt", `,"stream":true`)
	// What the fake's echo counts for "Hello there, gateway".
	echoIn, echoOut := len(strings.Fields(`[{"role":"user","content":"Hello there, gateway"}]`)), 3
	pricer := g.srv.snap.Load().Pricer
	cost := func(u llm.Usage) float64 {
		c, ok := pricer.Cost("fake-openai", "gpt-4o-mini", u)
		if !ok {
			t.Fatal("gpt-4o-mini has no price")
		}
		return float64(c.Total) / 1e12
	}
	tests := []struct {
		name   string
		script []providertest.Response
		body   string
		status int
		want   map[string]any // fields and values; nil value: absent
	}{
		{"unary", []providertest.Response{{Body: []byte(usageBody)}}, unary, 200, map[string]any{
			"model": "gpt", "provider": "fake-openai", "upstream_model": "gpt-4o-mini", "attempts": 1.0, "stream": false,
			"key": "acme-key", "tenant": "acme", "input_tokens": 1200.0, "output_tokens": 300.0, "cached_tokens": 1024.0,
			"cache_write_tokens": 0.0, "reasoning_tokens": 120.0,
			"cost_usd":        cost(llm.Usage{PromptTokens: 1200, CompletionTokens: 300, TotalTokens: 1500, CachedTokens: 1024, ReasoningTokens: 120}),
			"ttft_ms":         nil,
			"usage_estimated": nil,
			"error":           nil,
		}},
		{"stream", nil, stream, 200, map[string]any{
			"model": "gpt", "provider": "fake-openai", "upstream_model": "gpt-4o-mini", "attempts": 1.0, "stream": true,
			"input_tokens": float64(echoIn), "output_tokens": float64(echoOut), "cached_tokens": 0.0, "reasoning_tokens": 0.0,
			"cost_usd": cost(llm.Usage{PromptTokens: echoIn, CompletionTokens: echoOut, TotalTokens: echoIn + echoOut}),
		}},
		{"error", []providertest.Response{e400}, unary, 400, map[string]any{
			"model": "gpt", "attempts": 1.0, "error": "invalid_request_error",
			"upstream_model": nil, "input_tokens": nil, "cost_usd": nil, "ttft_ms": nil,
		}},
		{"retried", []providertest.Response{e503}, unary, 200, map[string]any{
			"attempts": 2.0, "provider": "fake-openai", "upstream_model": "gpt-4o-mini", "status": 200.0,
			"input_tokens": float64(echoIn), "output_tokens": float64(echoOut),
		}},
		{"retries spent", []providertest.Response{e503, e503}, unary, 503, map[string]any{
			"attempts": 2.0, "input_tokens": nil, "cost_usd": nil,
		}},
		{"no model", nil, `{"messages":[]}`, 400, map[string]any{
			"attempts": nil, "input_tokens": nil, "model": nil,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g.up.Enqueue(tt.script...)
			resp, out := g.do("POST", "/v1/chat/completions", tt.body, key...)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d: %s", resp.StatusCode, out)
			}
			line := g.logLine("request", resp)
			for k, want := range tt.want {
				got, ok := line[k]
				switch {
				case want == nil && ok:
					t.Errorf("%s = %v, want it absent", k, got)
				case want != nil && got != want:
					t.Errorf("%s = %v (%T), want %v", k, got, got, want)
				}
			}
			if tt.body == stream {
				if ttft, ok := line["ttft_ms"].(float64); !ok || ttft < 0 || ttft > line["duration_ms"].(float64) {
					t.Errorf("ttft_ms %v, duration_ms %v", line["ttft_ms"], line["duration_ms"])
				}
			}
		})
	}
}
