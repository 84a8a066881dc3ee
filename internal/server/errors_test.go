package server

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// Every error body has exactly OpenAI's shape.
func checkErrorShape(t *testing.T, body string) {
	t.Helper()
	var v map[string]map[string]any
	if err := json.Unmarshal([]byte(body), &v); err != nil || len(v) != 1 {
		t.Fatalf("not an error object: %s", body)
	}
	e := v["error"]
	for _, k := range []string{"message", "type", "code", "param"} {
		if _, ok := e[k]; !ok {
			t.Errorf("error lacks %q: %s", k, body)
		}
	}
	if len(e) != 4 {
		t.Errorf("error has extra fields: %s", body)
	}
}

func TestErrors(t *testing.T) {
	g := newGateway(t, strings.Replace(baseConfig, "server:\n", "server:\n  max_body_bytes: 2048\n", 1), nil)
	big := fmt.Sprintf(`{"model":"mock","messages":[{"role":"user","content":%q}]}`, strings.Repeat("x", 4096))
	cases := []struct {
		name, method, path, body string
		status                   int
		code, param              string
	}{
		{"malformed JSON", "POST", "/v1/chat/completions", `{"model":`, 400, "invalid_request_error", ""},
		{"not an object", "POST", "/v1/chat/completions", `[1,2]`, 400, "invalid_request_error", ""},
		{"missing model", "POST", "/v1/chat/completions", `{"messages":[]}`, 400, "invalid_request_error", "model"},
		{"bad stream", "POST", "/v1/chat/completions", `{"model":"mock","stream":"yes","messages":[]}`, 400, "invalid_request_error", "stream"},
		{"missing messages", "POST", "/v1/chat/completions", `{"model":"mock"}`, 400, "invalid_request_error", "messages"},
		{"bad message content", "POST", "/v1/chat/completions", `{"model":"mock","messages":[{"role":"user","content":5}]}`, 400, "invalid_request_error", "messages[0].content"},
		{"fast path: missing messages", "POST", "/v1/chat/completions", `{"model":"gpt"}`, 400, "invalid_request_error", "messages"},
		{"fast path: empty messages", "POST", "/v1/chat/completions", `{"model":"gpt","messages":[]}`, 400, "invalid_request_error", "messages"},
		{"fast path: content a number", "POST", "/v1/chat/completions", `{"model":"gpt","messages":[{"role":"user","content":5}]}`, 400, "invalid_request_error", "messages[0].content"},
		{"fast path: unknown role", "POST", "/v1/chat/completions", `{"model":"gpt","messages":[{"role":"robot","content":"x"}]}`, 400, "invalid_request_error", "messages[0].role"},
		{"fast path: tool message without id", "POST", "/v1/chat/completions", `{"model":"gpt","messages":[{"role":"tool","content":"x"}]}`, 400, "invalid_request_error", "messages[0].tool_call_id"},
		{"fast path: second message not an object", "POST", "/v1/chat/completions", `{"model":"gpt","messages":[{"role":"user","content":"x"},5]}`, 400, "invalid_request_error", "messages[1]"},
		{"fast path: second message's role", "POST", "/v1/chat/completions", `{"model":"gpt","messages":[{"role":"user","content":"x"},{"role":"robot"}]}`, 400, "invalid_request_error", "messages[1].role"},
		{"fast path: temperature a string", "POST", "/v1/chat/completions", `{"model":"gpt","temperature":"hot","messages":[{"role":"user","content":"x"}]}`, 400, "invalid_request_error", "temperature"},
		{"fast path: fractional max_tokens", "POST", "/v1/chat/completions", `{"model":"gpt","max_tokens":1.5,"messages":[{"role":"user","content":"x"}]}`, 400, "invalid_request_error", "max_tokens"},
		{"unknown model", "POST", "/v1/chat/completions", fmt.Sprintf(userHello, "nope", ""), 404, "model_not_found", ""},
		{"too large", "POST", "/v1/chat/completions", big, 413, "request_too_large", ""},
		{"unknown route", "GET", "/v1/nothing", "", 404, "not_found", ""},
		{"wrong method", "GET", "/v1/chat/completions", "", 405, "method_not_allowed", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := g.do(tc.method, tc.path, tc.body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			checkErrorShape(t, body)
			if got := gjson.Get(body, "error.code").String(); got != tc.code {
				t.Errorf("code %q, want %q", got, tc.code)
			}
			if got := gjson.Get(body, "error.param").String(); got != tc.param {
				t.Errorf("param %q, want %q", got, tc.param)
			}
			if resp.Header.Get("Content-Type") != "application/json" {
				t.Errorf("content type %q", resp.Header.Get("Content-Type"))
			}
		})
	}
	// None of the malformed requests reached the upstream.
	if n := len(g.up.Requests()); n != 0 {
		t.Errorf("the upstream saw %d malformed requests", n)
	}
}

// A chunked body over the limit is cut off while it is read.
func TestBodyLimitWithoutContentLength(t *testing.T) {
	g := newGateway(t, strings.Replace(baseConfig, "server:\n", "server:\n  max_body_bytes: 1024\n", 1), nil)
	pr := strings.NewReader(fmt.Sprintf(`{"model":"mock","messages":[{"role":"user","content":%q}]}`, strings.Repeat("y", 5000)))
	req, _ := http.NewRequest("POST", g.http.URL+"/v1/chat/completions", struct{ *strings.Reader }{pr})
	req.ContentLength = -1
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Errorf("status %d, want 413", resp.StatusCode)
	}
}

// Canary secrets planted in every place a secret lives never appear in any
// response or log line, whatever goes wrong.
func TestNoSecretsInResponsesOrLogs(t *testing.T) {
	const (
		providerKey = "sk-canary-provider-7f3a9"
		virtualKey  = "sk-canary-virtual-2b8c1"
		adminToken  = "canary-admin-token-91d4"
	)
	cfg := strings.Replace(baseConfig, "server:\n", "server:\n  admin_token: \""+adminToken+"\"\n", 1) + `
keys:
  - name: k
    key: "` + virtualKey + `"
`
	g := newGateway(t, cfg, map[string]string{"PROVIDER_KEY": providerKey})
	auth := []string{"Authorization", "Bearer " + virtualKey}
	// The upstream quotes the key back, as OpenAI's 401 does.
	g.up.Enqueue(providertest.Response{Status: 401, Body: []byte(`{"error":{"message":"Incorrect API key provided: ` + providerKey + `.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`)})
	g.up.Enqueue(providertest.Response{Status: 400, Body: []byte(`{"error":{"message":"bad request for key ` + providerKey + `","type":"invalid_request_error","param":null,"code":null}}`)})
	g.up.Enqueue(providertest.Response{SSE: []byte(`data: {"error":{"message":"stream broke ` + providerKey + `","type":"server_error"}}` + "\n\n")})
	var bodies []string
	for _, tc := range []struct{ path, body string }{
		{"/v1/chat/completions", `{"model":"gpt","messages":[{"role":"user","content":"a"}]}`},
		{"/v1/chat/completions", `{"model":"gpt","messages":[{"role":"user","content":"b"}]}`},
		{"/v1/chat/completions", `{"model":"gpt","stream":true,"messages":[{"role":"user","content":"c"}]}`},
		{"/v1/chat/completions", `{"model":"nope","messages":[]}`},
		{"/v1/chat/completions", `{"model":`},
	} {
		resp, body := g.do("POST", tc.path, tc.body, auth...)
		bodies = append(bodies, fmt.Sprint(resp.Header), body)
	}
	resp, body := g.do("GET", "/v1/models", "", "Authorization", "Bearer "+adminToken)
	bodies = append(bodies, fmt.Sprint(resp.Header), body)
	if resp.StatusCode != 401 {
		t.Errorf("the admin token must not work as a virtual key: %d", resp.StatusCode)
	}
	all := strings.Join(bodies, "\n") + "\n" + g.logs.String()
	for _, secret := range []string{providerKey, virtualKey, adminToken, "sk-canary", "canary-admin"} {
		if strings.Contains(all, secret) {
			t.Errorf("secret %q leaked:\n%s", secret, all)
		}
	}
	if !strings.Contains(g.logs.String(), `"msg":"request"`) {
		t.Fatal("no access log lines were captured; the check above saw nothing")
	}
	if strings.Contains(all, "127.0.0.1:") && strings.Contains(all, g.up.Server.Listener.Addr().String()) {
		t.Errorf("the upstream address leaked:\n%s", all)
	}
}

func TestAccessLogLine(t *testing.T) {
	g := newGateway(t, baseConfig, nil)
	g.do("POST", "/v1/chat/completions", fmt.Sprintf(userHello, "mock", ""), "X-Request-Id", "log-test-1")
	var line map[string]any
	for _, l := range strings.Split(strings.TrimSpace(g.logs.String()), "\n") {
		if strings.Contains(l, "log-test-1") {
			if err := json.Unmarshal([]byte(l), &line); err != nil {
				t.Fatalf("access log is not JSON: %s", l)
			}
		}
	}
	if line == nil {
		t.Fatalf("no access log line for the request:\n%s", g.logs.String())
	}
	want := map[string]any{"msg": "request", "method": "POST", "path": "/v1/chat/completions", "status": float64(200), "model": "mock", "provider": "mock"}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("log %s = %v, want %v", k, line[k], v)
		}
	}
	if strings.Contains(g.logs.String(), "Hello there") {
		t.Error("the prompt was logged")
	}
}

// The same holds on the Anthropic route and for an Anthropic upstream, whose
// errors and error events may quote the key too.
func TestNoSecretsOnAnthropicPaths(t *testing.T) {
	const providerKey, virtualKey = "sk-ant-canary-provider-55e1", "sk-canary-virtual-a7d3"
	up := providertest.NewAnthropic(t)
	cfg, err := config.Parse([]byte(`
providers: [{name: claude, type: anthropic, base_url: "${UP}", api_key: "`+providerKey+`"}]
models: [{name: c, targets: [{provider: claude, model: claude-x}], retry: {max_attempts: 1}}]
keys: [{name: k, key: "`+virtualKey+`"}]
`), func(k string) (string, bool) { return up.URL, k == "UP" })
	if err != nil {
		t.Fatal(err)
	}
	snap, err := gateway.Compile(cfg, gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	ts := httptest.NewServer(New(snap, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	defer ts.Close()
	g := &testGateway{t: t, http: ts}
	quote := func(status int) providertest.Response {
		return providertest.AnthropicError(status, "authentication_error", "invalid x-api-key "+providerKey)
	}
	up.Enqueue(quote(401), quote(400),
		providertest.Response{SSE: []byte("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"boom " + providerKey + "\"}}\n\n")})
	var seen []string
	for _, tc := range []struct{ path, body string }{
		{"/v1/messages", `{"model":"c","max_tokens":5,"messages":[{"role":"user","content":"a"}]}`},
		{"/v1/chat/completions", `{"model":"c","messages":[{"role":"user","content":"b"}]}`},
		{"/v1/messages", `{"model":"c","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"c"}]}`},
		{"/v1/messages", `{"model":`},
	} {
		resp, body := g.do("POST", tc.path, tc.body, "x-api-key", virtualKey)
		seen = append(seen, fmt.Sprint(resp.Header), body)
	}
	resp, body := g.do("POST", "/v1/messages", `{}`, "x-api-key", "sk-canary-wrong-key")
	seen = append(seen, fmt.Sprint(resp.Header), body)
	if resp.StatusCode != 401 || gjson.Get(body, "error.type").String() != "authentication_error" {
		t.Errorf("wrong key on /v1/messages: %d %s", resp.StatusCode, body)
	}
	all := strings.Join(seen, "\n") + "\n" + logs.String()
	for _, secret := range []string{providerKey, virtualKey, "canary"} {
		if strings.Contains(all, secret) {
			t.Errorf("secret %q leaked:\n%s", secret, all)
		}
	}
	if len(up.Requests()) != 3 {
		t.Errorf("upstream saw %d requests, want 3: the checks above ran on real upstream errors", len(up.Requests()))
	}
}
