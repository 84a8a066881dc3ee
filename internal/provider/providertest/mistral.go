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

// Mistral is a fake of Mistral's API (La Plateforme). Requests go to
// URL + "/chat/completions" or URL + "/embeddings", as to
// https://api.mistral.ai/v1. With nothing enqueued it answers from the
// request itself, as OpenAI's fake does, in Mistral's format: a completion
// (or stream, whose last chunk always carries the usage) repeating the last
// message's text, or embeddings.
//
// Whatever is enqueued, it refuses what Mistral refuses: a chat request
// with a member its schema does not list (422, as its request schema
// takes no other), and a tool call id that is not nine characters of a-z,
// A-Z and 0-9 (400).
type Mistral struct {
	// URL is the API base URL, ending in /v1.
	URL string
	// Server is the underlying test server.
	Server *httptest.Server
	*fake
}

// NewMistral starts a fake Mistral API, closed when the test ends.
func NewMistral(t testing.TB) *Mistral {
	f := &Mistral{fake: newFake(defaultMistral)}
	f.refuse = mistralRefuse
	f.Server = httptest.NewServer(http.HandlerFunc(f.serveHTTP))
	f.URL = f.Server.URL + "/v1"
	t.Cleanup(f.Server.Close)
	return f
}

// mistralChatKeys are the members of Mistral's ChatCompletionRequest.
var mistralChatKeys = map[string]bool{
	"model": true, "temperature": true, "top_p": true, "max_tokens": true, "stream": true, "stop": true,
	"random_seed": true, "metadata": true, "messages": true, "response_format": true, "tools": true,
	"tool_choice": true, "presence_penalty": true, "frequency_penalty": true, "n": true, "prediction": true,
	"parallel_tool_calls": true, "prompt_mode": true, "reasoning_effort": true, "guardrails": true,
	"prompt_cache_key": true, "safe_prompt": true,
}

// mistralEmbedKeys are the members of Mistral's EmbeddingRequest.
var mistralEmbedKeys = map[string]bool{
	"model": true, "metadata": true, "input": true, "output_dimension": true, "output_dtype": true, "encoding_format": true,
}

// mistralRefuse answers a request Mistral would refuse.
func mistralRefuse(r *http.Request, body []byte) (Response, bool) {
	keys := mistralChatKeys
	switch {
	case r.Method != http.MethodPost:
		return Response{}, false
	case strings.HasSuffix(r.URL.Path, "/embeddings"):
		keys = mistralEmbedKeys
	case !strings.HasSuffix(r.URL.Path, "/chat/completions"):
		return Response{}, false
	}
	req := gjson.ParseBytes(body)
	if !req.IsObject() {
		return mistralValidation("model_attributes_type", []string{"body"}, "Input should be a valid dictionary or object to extract fields from"), true
	}
	var extra string
	req.ForEach(func(k, _ gjson.Result) bool {
		if !keys[k.Str] {
			extra = k.Str
			return false
		}
		return true
	})
	if extra != "" {
		return mistralValidation("extra_forbidden", []string{"body", extra}, "Extra inputs are not permitted"), true
	}
	for _, m := range req.Get("messages").Array() {
		ids := []string{}
		if id := m.Get("tool_call_id"); id.Exists() {
			ids = append(ids, id.String())
		}
		for _, tc := range m.Get("tool_calls").Array() {
			ids = append(ids, tc.Get("id").String())
		}
		for _, id := range ids {
			if !mistralToolCallID(id) {
				return MistralError(http.StatusBadRequest, "invalid_function_call", "3280",
					"Tool call id was "+id+" but must be a-z, A-Z, 0-9, with a length of 9."), true
			}
		}
	}
	return Response{}, false
}

func mistralToolCallID(id string) bool {
	if len(id) != 9 {
		return false
	}
	for _, c := range []byte(id) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// MistralError is an error answer of Mistral's:
// {"object":"error","message","type","param","code","raw_status_code"}.
func MistralError(status int, typ, code, msg string) Response {
	b, _ := json.Marshal(map[string]any{"object": "error", "message": msg, "type": typ, "param": nil, "code": code, "raw_status_code": status})
	return Response{Status: status, Body: b}
}

// mistralValidation is the 422 of a request Mistral's schema refuses.
func mistralValidation(typ string, loc []string, msg string) Response {
	b, _ := json.Marshal(map[string]any{"detail": []any{map[string]any{"type": typ, "loc": loc, "msg": msg}}})
	return Response{Status: http.StatusUnprocessableEntity, Body: b}
}

// defaultMistral answers a request nothing was enqueued for.
func defaultMistral(r *http.Request, body []byte) Response {
	switch {
	case r.Method != http.MethodPost:
		return MistralError(http.StatusMethodNotAllowed, "invalid_request_error", "", "Method Not Allowed")
	case strings.HasSuffix(r.URL.Path, "/chat/completions"):
		req := gjson.ParseBytes(body)
		if req.Get("stream").Bool() {
			return Response{SSE: mistralEchoStream(req)}
		}
		return Response{Body: mistralEchoCompletion(req)}
	case strings.HasSuffix(r.URL.Path, "/embeddings"):
		return Response{Body: echoEmbeddings(gjson.ParseBytes(body))}
	}
	return MistralError(http.StatusNotFound, "invalid_request_error", "", "Not Found")
}

func mistralUsage(req gjson.Result, completion int) map[string]any {
	prompt := len(strings.Fields(req.Get("messages").Raw))
	return map[string]any{"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
}

func mistralEchoCompletion(req gjson.Result) []byte {
	text := lastText(req)
	b, _ := json.Marshal(map[string]any{
		"id": "cmpl-echo", "object": "chat.completion", "model": req.Get("model").String(),
		"usage": mistralUsage(req, len(strings.Fields(text))), "created": echoCreated,
		"choices": []any{map[string]any{
			"index":         0,
			"message":       map[string]any{"content": text, "tool_calls": nil, "prefix": false, "role": "assistant"},
			"finish_reason": "stop",
		}},
	})
	return b
}

// mistralEchoStream streams the last message's text word by word, the
// usage in the last chunk.
func mistralEchoStream(req gjson.Result) []byte {
	words := strings.SplitAfter(lastText(req), " ")
	var buf bytes.Buffer
	chunk := func(delta map[string]any, finish any, usage any) {
		m := map[string]any{
			"id": "cmpl-echo", "object": "chat.completion.chunk", "created": echoCreated, "model": req.Get("model").String(),
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}},
		}
		if usage != nil {
			m["usage"] = usage
		}
		b, _ := json.Marshal(m)
		fmt.Fprintf(&buf, "data: %s\n\n", b)
	}
	chunk(map[string]any{"role": "assistant", "content": ""}, nil, nil)
	for _, w := range words {
		if w != "" {
			chunk(map[string]any{"content": w}, nil, nil)
		}
	}
	chunk(map[string]any{"content": ""}, "stop", mistralUsage(req, len(strings.Fields(lastText(req)))))
	buf.WriteString("data: [DONE]\n\n")
	return buf.Bytes()
}
