package providertest

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

func TestAnthropicCapturesAreValid(t *testing.T) {
	for _, name := range []string{"message_text.json", "message_tool_use.json", "error_529.json", "error_429.json", "error_400.json", "count_tokens.json"} {
		if !gjson.ValidBytes(Load(t, "anthropic/"+name)) {
			t.Errorf("%s is not valid JSON", name)
		}
	}
	tests := []struct {
		name  string
		first string
		last  string
		n     int
	}{
		{"stream_text.sse", "message_start", "message_stop", 9},
		{"stream_tool_use.sse", "message_start", "message_stop", 22},
		{"stream_thinking.sse", "message_start", "message_stop", 11},
		{"stream_error_overloaded.sse", "message_start", "error", 4},
		{"stream_truncated.sse", "message_start", "content_block_delta", 3},
	}
	for _, tt := range tests {
		evs := Events(Load(t, "anthropic/"+tt.name))
		if len(evs) != tt.n || evs[0].Type != tt.first || evs[len(evs)-1].Type != tt.last {
			t.Errorf("%s: %d events, want %d from %s to %s", tt.name, len(evs), tt.n, tt.first, tt.last)
			continue
		}
		for i, ev := range evs {
			// Every event names its type twice: the event line and the data.
			if got := gjson.GetBytes(ev.Data, "type").String(); got != ev.Type {
				t.Errorf("%s: event %d is %q but its data says %q", tt.name, i, ev.Type, got)
			}
		}
	}
}

func postAnthropic(t *testing.T, url, body string) (*http.Response, []byte) {
	t.Helper()
	resp := post(t, url, body)
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestAnthropicDefaultAnswers(t *testing.T) {
	const msgs = `"messages":[{"role":"user","content":[{"type":"text","text":"hi there you"}]}]`
	tests := []struct {
		name   string
		path   string
		body   string
		status int
		check  func(t *testing.T, b []byte)
	}{
		{"message", "/v1/messages", `{"model":"m","max_tokens":10,` + msgs + `}`, 200, func(t *testing.T, b []byte) {
			if gjson.GetBytes(b, "content.0.text").String() != "hi there you" || gjson.GetBytes(b, "usage.output_tokens").Int() != 3 ||
				gjson.GetBytes(b, "stop_reason").String() != "end_turn" || gjson.GetBytes(b, "model").String() != "m" {
				t.Errorf("body %s", b)
			}
		}},
		{"stream", "/v1/messages", `{"model":"m","max_tokens":10,"stream":true,` + msgs + `}`, 200, func(t *testing.T, b []byte) {
			var text strings.Builder
			var types []string
			for _, ev := range Events(b) {
				types = append(types, ev.Type)
				text.WriteString(gjson.GetBytes(ev.Data, "delta.text").String())
			}
			if text.String() != "hi there you" || types[0] != "message_start" || types[2] != "ping" || types[len(types)-1] != "message_stop" {
				t.Errorf("stream %s", b)
			}
		}},
		{"max_tokens required", "/v1/messages", `{"model":"m",` + msgs + `}`, 400, func(t *testing.T, b []byte) {
			if gjson.GetBytes(b, "error.type").String() != "invalid_request_error" || gjson.GetBytes(b, "type").String() != "error" {
				t.Errorf("body %s", b)
			}
		}},
		{"count tokens", "/v1/messages/count_tokens", `{"model":"m",` + msgs + `}`, 200, func(t *testing.T, b []byte) {
			if gjson.GetBytes(b, "input_tokens").Int() <= 0 {
				t.Errorf("body %s", b)
			}
		}},
		{"invalid json", "/v1/messages", `{`, 400, nil},
		{"unknown path", "/v1/nope", `{}`, 404, func(t *testing.T, b []byte) {
			if gjson.GetBytes(b, "error.type").String() != "not_found_error" {
				t.Errorf("body %s", b)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewAnthropic(t)
			resp, b := postAnthropic(t, f.URL+tt.path, tt.body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, b)
			}
			if tt.check != nil {
				tt.check(t, b)
			}
			if reqs := f.Requests(); len(reqs) != 1 || reqs[0].Path != tt.path {
				t.Errorf("recorded %+v", reqs)
			}
		})
	}
}

func TestAnthropicScripted(t *testing.T) {
	f := NewAnthropic(t)
	capture := Load(t, "anthropic/stream_tool_use.sse")
	f.Enqueue(Response{SSE: capture, Split: 7}, Response{Status: 529, Body: Load(t, "anthropic/error_529.json")})
	resp, b := postAnthropic(t, f.URL+"/v1/messages", `{}`)
	if !bytes.Equal(b, capture) || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream differs from the capture")
	}
	resp, b = postAnthropic(t, f.URL+"/v1/messages", `{}`)
	if resp.StatusCode != 529 || gjson.GetBytes(b, "error.type").String() != "overloaded_error" {
		t.Fatalf("status %d body %s", resp.StatusCode, b)
	}
}

func TestAnthropicErrorHelper(t *testing.T) {
	r := AnthropicError(429, "rate_limit_error", "slow down")
	if r.Status != 429 || gjson.GetBytes(r.Body, "error.message").String() != "slow down" || gjson.GetBytes(r.Body, "type").String() != "error" {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
}
