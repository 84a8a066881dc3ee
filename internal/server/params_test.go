package server

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// anthropicBody asks the OpenAI-served model "gpt", through /v1/messages,
// with fields Chat Completions has no equivalent for and that can be left
// out: thinking (gpt-4o-mini is no reasoning model) and service_tier.
const anthropicBody = `{"model":"gpt","max_tokens":64,"thinking":{"type":"enabled","budget_tokens":2048},` +
	`"service_tier":"auto","messages":[{"role":"user","content":"hello"}]}`

// Fields dropped on the way to an upstream of another protocol are named in
// x-llmgw-dropped-params, and the upstream does not receive them.
func TestDroppedParamsHeader(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(map[bool]string{false: "unary", true: "stream"}[stream], func(t *testing.T) {
			g := newGateway(t, baseConfig, nil)
			body := anthropicBody
			if stream {
				g.up.Enqueue(providertest.Response{SSE: providertest.Load(t, "openai/stream_text.sse")})
				body = strings.Replace(body, `"max_tokens"`, `"stream":true,"max_tokens"`, 1)
			} else {
				g.up.Enqueue(providertest.Response{Body: providertest.Load(t, "openai/chat_text.json")})
			}
			resp, out := g.do("POST", "/v1/messages", body)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, out)
			}
			if got := resp.Header.Get("X-Llmgw-Dropped-Params"); got != "thinking, service_tier" {
				t.Errorf("x-llmgw-dropped-params %q, want %q", got, "thinking, service_tier")
			}
			up := gjson.ParseBytes(g.up.Requests()[0].Body)
			for _, f := range []string{"thinking", "service_tier", "reasoning_effort"} {
				if up.Get(f).Exists() {
					t.Errorf("upstream received %s: %s", f, up.Raw)
				}
			}
		})
	}
}

// A request that loses nothing carries no x-llmgw-dropped-params header.
func TestDroppedParamsHeaderAbsent(t *testing.T) {
	g := newGateway(t, baseConfig, nil)
	g.up.Enqueue(providertest.Response{Body: providertest.Load(t, "openai/chat_text.json")})
	resp, out := g.do("POST", "/v1/messages", `{"model":"gpt","max_tokens":64,"messages":[{"role":"user","content":"hello"}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, out)
	}
	if v, ok := resp.Header["X-Llmgw-Dropped-Params"]; ok {
		t.Errorf("x-llmgw-dropped-params %q on a request that lost nothing", v)
	}
}

// server.unsupported_params: refuse turns the droppable fields into a 400
// naming the field, in the route's error shape, before any upstream call.
func TestUnsupportedParamsRefuse(t *testing.T) {
	cfg := strings.Replace(baseConfig, "server:\n", "server:\n  unsupported_params: refuse\n", 1)
	g := newGateway(t, cfg, nil)
	resp, out := g.do("POST", "/v1/messages", anthropicBody)
	if resp.StatusCode != 400 {
		t.Fatalf("status %d, want 400: %s", resp.StatusCode, out)
	}
	if typ := gjson.Get(out, "error.type").String(); typ != "invalid_request_error" {
		t.Errorf("error type %q: %s", typ, out)
	}
	if msg := gjson.Get(out, "error.message").String(); !strings.HasPrefix(msg, "thinking:") {
		t.Errorf("error message %q does not name thinking", msg)
	}
	if n := len(g.up.Requests()); n != 0 {
		t.Errorf("a refused request reached the upstream %d times", n)
	}
}

// A message thread to continue toward an OpenAI upstream is answered as
// Anthropic answers a thread it cannot continue: 404 not_found_error, on
// which Anthropic's SDKs send the whole conversation again. The operator's
// drop or refuse choice does not change it.
func TestThreadContinueRefused(t *testing.T) {
	for _, mode := range []string{"drop", "refuse"} {
		t.Run(mode, func(t *testing.T) {
			cfg := strings.Replace(baseConfig, "server:\n", "server:\n  unsupported_params: "+mode+"\n", 1)
			g := newGateway(t, cfg, nil)
			resp, out := g.do("POST", "/v1/messages", `{"model":"gpt","max_tokens":64,`+
				`"thread":{"type":"continue","previous_message_id":"msg_01"},"messages":[{"role":"user","content":"and then?"}]}`)
			if resp.StatusCode != 404 {
				t.Fatalf("status %d, want 404: %s", resp.StatusCode, out)
			}
			if typ := gjson.Get(out, "error.type").String(); typ != "not_found_error" || gjson.Get(out, "type").String() != "error" {
				t.Errorf("body %s, want an Anthropic not_found_error", out)
			}
			if msg := gjson.Get(out, "error.message").String(); !strings.HasPrefix(msg, "thread:") {
				t.Errorf("error message %q does not name thread", msg)
			}
			if n := len(g.up.Requests()); n != 0 {
				t.Errorf("the continuation reached the upstream %d times", n)
			}
		})
	}
}

// An OpenAI client's n above 1 toward a model of the same protocol passes
// on: the policy applies only across protocols.
func TestParamsSameProtocolUntouched(t *testing.T) {
	cfg := strings.Replace(baseConfig, "server:\n", "server:\n  unsupported_params: refuse\n", 1)
	g := newGateway(t, cfg, nil)
	g.up.Enqueue(providertest.Response{Body: providertest.Load(t, "openai/chat_text.json")})
	resp, out := g.do("POST", "/v1/chat/completions", `{"model":"gpt","n":2,"seed":3,"messages":[{"role":"user","content":"hello"}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, out)
	}
	if up := gjson.ParseBytes(g.up.Requests()[0].Body); up.Get("n").Int() != 2 || up.Get("seed").Int() != 3 {
		t.Errorf("upstream body %s", up.Raw)
	}
}
