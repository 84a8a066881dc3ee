package server

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

const keyedConfig = baseConfig + `
keys:
  - name: ci
    key: "sk-ci-key"
    tenant: acme
    models: ["mock"]
`

// Errors on the Anthropic routes take Anthropic's shape, including those
// written before a handler runs (auth); OpenAI routes keep OpenAI's.
func TestMessagesErrorShape(t *testing.T) {
	g := newGateway(t, keyedConfig, nil)
	tests := []struct {
		name, path, body, key string
		status                int
		anthropicType         string
		openaiCode            string
	}{
		{"missing key", "/v1/messages", `{}`, "", 401, "authentication_error", ""},
		{"missing key, count_tokens", "/v1/messages/count_tokens", `{}`, "", 401, "authentication_error", ""},
		{"missing key, chat", "/v1/chat/completions", `{}`, "", 401, "", "invalid_api_key"},
		{"model not allowed", "/v1/messages", `{"model":"gpt","max_tokens":5,"messages":[{"role":"user","content":"x"}]}`, "sk-ci-key", 403, "permission_error", ""},
		{"count_tokens model not allowed", "/v1/messages/count_tokens", `{"model":"gpt","messages":[{"role":"user","content":"x"}]}`, "sk-ci-key", 403, "permission_error", ""},
		{"invalid JSON", "/v1/messages", `{"model":`, "sk-ci-key", 400, "invalid_request_error", ""},
		{"no model", "/v1/messages", `{"max_tokens":5,"messages":[]}`, "sk-ci-key", 400, "invalid_request_error", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := g.do("POST", tt.path, tt.body, "x-api-key", tt.key)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.anthropicType != "" {
				if gjson.Get(body, "type").String() != "error" || gjson.Get(body, "error.type").String() != tt.anthropicType {
					t.Errorf("body %s, want Anthropic error %s", body, tt.anthropicType)
				}
				return
			}
			if gjson.Get(body, "error.code").String() != tt.openaiCode {
				t.Errorf("body %s, want OpenAI code %s", body, tt.openaiCode)
			}
		})
	}
}

func TestMessagesCountTokens(t *testing.T) {
	g := newGateway(t, baseConfig, nil)
	tests := []struct {
		name, model string
		status      int
	}{
		{"estimate for an OpenAI upstream", "gpt", 200},
		{"estimate for the mock", "mock", 200},
		{"unknown model", "nope", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := g.do("POST", "/v1/messages/count_tokens",
				`{"model":"`+tt.model+`","system":"Be brief.","messages":[{"role":"user","content":"How many tokens is this sentence?"}]}`)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if tt.status == 200 && gjson.Get(body, "input_tokens").Int() <= 0 {
				t.Errorf("body %s", body)
			}
		})
	}
	if n := len(g.up.Requests()); n != 0 {
		t.Errorf("the OpenAI upstream was asked %d times for a count", n)
	}
}

// The mock's canonical chunks go through the stream encoder: the Anthropic
// event sequence from message_start to message_stop.
func TestMessagesFromMock(t *testing.T) {
	g := newGateway(t, baseConfig, nil)
	req := `{"model":"mock","max_tokens":50,%s"messages":[{"role":"user","content":"one two three"}]}`
	resp, body := g.do("POST", "/v1/messages", fmt.Sprintf(req, ""))
	if resp.StatusCode != 200 || gjson.Get(body, "content.0.text").String() != "one two three" ||
		gjson.Get(body, "type").String() != "message" || gjson.Get(body, "stop_reason").String() != "end_turn" {
		t.Fatalf("status %d body %s", resp.StatusCode, body)
	}
	if resp.Header.Get("X-Llmgw-Provider") != "mock" {
		t.Errorf("provider header %q", resp.Header.Get("X-Llmgw-Provider"))
	}
	resp, body = g.do("POST", "/v1/messages", fmt.Sprintf(req, `"stream":true,`))
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var types []string
	var text strings.Builder
	for _, line := range strings.Split(body, "\n") {
		if ev, ok := strings.CutPrefix(line, "event: "); ok {
			types = append(types, ev)
		}
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			text.WriteString(gjson.Get(data, "delta.text").String())
		}
	}
	if len(types) < 5 || types[0] != "message_start" || types[len(types)-1] != "message_stop" || types[len(types)-2] != "message_delta" {
		t.Errorf("event sequence %v", types)
	}
	if text.String() != "one two three" {
		t.Errorf("text %q", text.String())
	}
}
