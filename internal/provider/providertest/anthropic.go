package providertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// Anthropic is a fake Anthropic Messages API. Its URL is the API root as
// Anthropic's SDKs take it: requests go to URL + "/v1/messages", URL +
// "/v1/messages/count_tokens" and URL + "/v1/models". With nothing enqueued
// it answers from the request itself: a message (or stream of events)
// repeating the last user text, a token count, or its model list; like the
// real API it rejects a message request without max_tokens.
type Anthropic struct {
	// URL is the API root, without /v1.
	URL string
	// Server is the underlying test server.
	Server *httptest.Server
	*fake
	// models answers GET /v1/models and /v1/models/{model_id}; SetModels
	// changes the list.
	*models
}

// NewAnthropic starts a fake Anthropic API, closed when the test ends.
func NewAnthropic(t testing.TB) *Anthropic {
	f := &Anthropic{models: newModels(anthropicModelsCapture)}
	f.fake = newFake(func(r *http.Request, body []byte) Response {
		if resp, ok := f.anthropicModels(r); ok {
			return resp
		}
		return defaultAnthropic(r, body)
	})
	f.Server = httptest.NewServer(http.HandlerFunc(f.serveHTTP))
	f.URL = f.Server.URL
	t.Cleanup(f.Server.Close)
	return f
}

// AnthropicError returns a scripted Anthropic error answer of status with
// the error type and message given, in the API's error shape.
func AnthropicError(status int, typ, msg string) Response {
	b, _ := json.Marshal(map[string]any{
		"type":       "error",
		"error":      map[string]any{"type": typ, "message": msg},
		"request_id": "req_fake",
	})
	return Response{Status: status, Body: b}
}

// defaultAnthropic answers a request nothing was enqueued for.
func defaultAnthropic(r *http.Request, body []byte) Response {
	if r.Method != http.MethodPost {
		return AnthropicError(http.StatusMethodNotAllowed, "invalid_request_error", "method not allowed")
	}
	switch r.URL.Path {
	case "/v1/messages", "/v1/messages/count_tokens":
	default:
		return AnthropicError(http.StatusNotFound, "not_found_error", "Not found")
	}
	return anthropicAnswer(r.URL.Path == "/v1/messages/count_tokens", body)
}

// anthropicAnswer answers a message request, or a token count (count
// set), from its body.
func anthropicAnswer(count bool, body []byte) Response {
	if !gjson.ValidBytes(body) || !gjson.ParseBytes(body).IsObject() {
		return AnthropicError(http.StatusBadRequest, "invalid_request_error", "There was an issue with the request body: invalid JSON")
	}
	req := gjson.ParseBytes(body)
	if count {
		return Response{Body: fmt.Appendf(nil, `{"input_tokens":%d}`, anthropicPromptTokens(req))}
	}
	if !req.Get("max_tokens").Exists() {
		return AnthropicError(http.StatusBadRequest, "invalid_request_error", "max_tokens: Field required")
	}
	if req.Get("stream").Bool() {
		return Response{SSE: anthropicEchoStream(req)}
	}
	return Response{Body: anthropicEchoMessage(req)}
}

// anthropicLastText returns the text of the request's last message: its text
// blocks, or the text of its tool results.
func anthropicLastText(req gjson.Result) string {
	msgs := req.Get("messages").Array()
	if len(msgs) == 0 {
		return ""
	}
	c := msgs[len(msgs)-1].Get("content")
	if c.Type == gjson.String {
		return c.String()
	}
	var sb strings.Builder
	for _, b := range c.Array() {
		switch b.Get("type").String() {
		case "text":
			sb.WriteString(b.Get("text").String())
		case "tool_result":
			if rc := b.Get("content"); rc.Type == gjson.String {
				sb.WriteString(rc.String())
			} else {
				for _, p := range rc.Array() {
					sb.WriteString(p.Get("text").String())
				}
			}
		}
	}
	return sb.String()
}

// anthropicPromptTokens counts a request's prompt the fake's way: one token
// per whitespace-separated word of its system prompt, messages and tools.
func anthropicPromptTokens(req gjson.Result) int {
	return len(strings.Fields(req.Get("system").Raw)) + len(strings.Fields(req.Get("messages").Raw)) +
		len(strings.Fields(req.Get("tools").Raw))
}

func anthropicUsage(req gjson.Result, output int) map[string]any {
	return map[string]any{
		"input_tokens": anthropicPromptTokens(req), "cache_creation_input_tokens": 0,
		"cache_read_input_tokens": 0, "output_tokens": output, "service_tier": "standard",
	}
}

func anthropicEchoMessage(req gjson.Result) []byte {
	text := anthropicLastText(req)
	b, _ := json.Marshal(map[string]any{
		"id": "msg_echo", "type": "message", "role": "assistant", "model": req.Get("model").String(),
		"content":     []any{map[string]any{"type": "text", "text": text}},
		"stop_reason": "end_turn", "stop_sequence": nil,
		"usage": anthropicUsage(req, len(strings.Fields(text))),
	})
	return b
}

// anthropicEchoStream streams the last text word by word with the event
// sequence of the Messages API, a ping included.
func anthropicEchoStream(req gjson.Result) []byte {
	text := anthropicLastText(req)
	var buf bytes.Buffer
	event := func(typ string, v map[string]any) {
		v["type"] = typ
		b, _ := json.Marshal(v)
		fmt.Fprintf(&buf, "event: %s\ndata: %s\n\n", typ, b)
	}
	event("message_start", map[string]any{"message": map[string]any{
		"id": "msg_echo", "type": "message", "role": "assistant", "content": []any{},
		"model": req.Get("model").String(), "stop_reason": nil, "stop_sequence": nil,
		"usage": anthropicUsage(req, 1),
	}})
	event("content_block_start", map[string]any{"index": 0, "content_block": map[string]any{"type": "text", "text": ""}})
	event("ping", map[string]any{})
	for _, w := range strings.SplitAfter(text, " ") {
		if w != "" {
			event("content_block_delta", map[string]any{"index": 0, "delta": map[string]any{"type": "text_delta", "text": w}})
		}
	}
	event("content_block_stop", map[string]any{"index": 0})
	event("message_delta", map[string]any{
		"delta": map[string]any{"stop_reason": "end_turn", "stop_sequence": nil},
		"usage": map[string]any{"output_tokens": len(strings.Fields(text))},
	})
	event("message_stop", map[string]any{})
	return buf.Bytes()
}
