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

// Cohere is a fake of Cohere's v2 API. Requests go to URL + "/v2/chat" or
// URL + "/v2/embed", as to https://api.cohere.com. With nothing enqueued it
// answers from the request itself in Cohere's format: a chat response (or
// event stream ended by message-end) repeating the last message's text, or
// float embeddings.
//
// Whatever is enqueued, it refuses with a 400 what Cohere's request schema
// does not take: a member V2ChatRequest or V2EmbedRequest does not list, a
// tool_choice other than REQUIRED and NONE, a role other than system, user,
// assistant and tool, a tool message without tool_call_id, and an embed
// request without input_type.
type Cohere struct {
	// URL is the API root, without /v2.
	URL string
	// Server is the underlying test server.
	Server *httptest.Server
	*fake
}

// NewCohere starts a fake Cohere API, closed when the test ends.
func NewCohere(t testing.TB) *Cohere {
	f := &Cohere{fake: newFake(defaultCohere)}
	f.refuse = cohereRefuse
	f.Server = httptest.NewServer(http.HandlerFunc(f.serveHTTP))
	f.URL = f.Server.URL
	t.Cleanup(f.Server.Close)
	return f
}

// cohereChatKeys are the members of V2ChatRequest.
var cohereChatKeys = map[string]bool{
	"model": true, "messages": true, "stream": true, "tools": true, "strict_tools": true, "documents": true,
	"citation_options": true, "response_format": true, "safety_mode": true, "max_tokens": true,
	"stop_sequences": true, "temperature": true, "seed": true, "frequency_penalty": true,
	"presence_penalty": true, "k": true, "p": true, "logprobs": true, "tool_choice": true, "thinking": true,
	"priority": true,
}

// cohereEmbedKeys are the members of V2EmbedRequest.
var cohereEmbedKeys = map[string]bool{
	"texts": true, "images": true, "model": true, "input_type": true, "inputs": true, "max_tokens": true,
	"output_dimension": true, "embedding_types": true, "truncate": true, "priority": true,
}

var cohereRoles = map[string]bool{"system": true, "user": true, "assistant": true, "tool": true}

// cohereRefuse answers a request Cohere would refuse.
func cohereRefuse(r *http.Request, body []byte) (Response, bool) {
	keys := cohereChatKeys
	switch {
	case r.Method != http.MethodPost:
		return Response{}, false
	case strings.HasSuffix(r.URL.Path, "/v2/embed"):
		keys = cohereEmbedKeys
	case !strings.HasSuffix(r.URL.Path, "/v2/chat"):
		return Response{}, false
	}
	req := gjson.ParseBytes(body)
	if !req.IsObject() {
		return CohereError(http.StatusBadRequest, "invalid request: body is not a JSON object"), true
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
		return CohereError(http.StatusBadRequest, "invalid request: unknown field: parameter "+extra+" is not a valid field"), true
	}
	if strings.HasSuffix(r.URL.Path, "/v2/embed") {
		if !req.Get("input_type").Exists() {
			return CohereError(http.StatusBadRequest, "invalid request: input_type is required"), true
		}
		return Response{}, false
	}
	if tc := req.Get("tool_choice"); tc.Exists() && tc.Str != "REQUIRED" && tc.Str != "NONE" {
		return CohereError(http.StatusBadRequest, "invalid request: tool_choice must be one of REQUIRED, NONE"), true
	}
	for _, m := range req.Get("messages").Array() {
		role := m.Get("role").Str
		if !cohereRoles[role] {
			return CohereError(http.StatusBadRequest, "invalid request: invalid role "+role), true
		}
		if role == "tool" && m.Get("tool_call_id").Str == "" {
			return CohereError(http.StatusBadRequest, "invalid request: tool_call_id is required for tool messages"), true
		}
	}
	return Response{}, false
}

// CohereError is an error answer of Cohere's: {"id","message"}.
func CohereError(status int, msg string) Response {
	b, _ := json.Marshal(map[string]any{"id": "err-echo", "message": msg})
	return Response{Status: status, Body: b}
}

// defaultCohere answers a request nothing was enqueued for.
func defaultCohere(r *http.Request, body []byte) Response {
	req := gjson.ParseBytes(body)
	switch {
	case r.Method != http.MethodPost:
		return CohereError(http.StatusMethodNotAllowed, "method not allowed")
	case strings.HasSuffix(r.URL.Path, "/v2/chat"):
		if req.Get("stream").Bool() {
			return Response{SSE: cohereEchoStream(req)}
		}
		return Response{Body: cohereEchoChat(req)}
	case strings.HasSuffix(r.URL.Path, "/v2/embed"):
		return Response{Body: cohereEchoEmbed(req)}
	}
	return CohereError(http.StatusNotFound, "not found")
}

func cohereUsage(req gjson.Result, completion int) map[string]any {
	prompt := len(strings.Fields(req.Get("messages").Raw))
	return map[string]any{
		"billed_units": map[string]any{"input_tokens": prompt, "output_tokens": completion},
		"tokens":       map[string]any{"input_tokens": prompt + 64, "output_tokens": completion},
	}
}

func cohereEchoChat(req gjson.Result) []byte {
	text := lastText(req)
	b, _ := json.Marshal(map[string]any{
		"id": "chat-echo", "finish_reason": "COMPLETE",
		"message": map[string]any{"role": "assistant", "content": []any{map[string]any{"type": "text", "text": text}}},
		"usage":   cohereUsage(req, len(strings.Fields(text))),
	})
	return b
}

// cohereEchoStream streams the last message's text word by word.
func cohereEchoStream(req gjson.Result) []byte {
	text := lastText(req)
	var buf bytes.Buffer
	ev := func(typ string, m map[string]any) {
		m["type"] = typ
		b, _ := json.Marshal(m)
		fmt.Fprintf(&buf, "event: %s\ndata: %s\n\n", typ, b)
	}
	content := func(c map[string]any) map[string]any {
		return map[string]any{"message": map[string]any{"content": c}}
	}
	ev("message-start", map[string]any{"id": "chat-echo", "delta": map[string]any{"message": map[string]any{"role": "assistant"}}})
	ev("content-start", map[string]any{"index": 0, "delta": content(map[string]any{"type": "text", "text": ""})})
	for _, w := range strings.SplitAfter(text, " ") {
		if w != "" {
			ev("content-delta", map[string]any{"index": 0, "delta": content(map[string]any{"text": w})})
		}
	}
	ev("content-end", map[string]any{"index": 0})
	ev("message-end", map[string]any{"delta": map[string]any{"finish_reason": "COMPLETE", "usage": cohereUsage(req, len(strings.Fields(text)))}})
	return buf.Bytes()
}

// cohereEchoEmbed answers one vector of three floats per text.
func cohereEchoEmbed(req gjson.Result) []byte {
	texts := req.Get("texts").Array()
	vecs := make([]any, len(texts))
	names := make([]string, len(texts))
	for i, t := range texts {
		vecs[i] = []float64{float64(i), 0.5, -0.25}
		names[i] = t.Str
	}
	b, _ := json.Marshal(map[string]any{
		"id": "embed-echo", "texts": names, "embeddings": map[string]any{"float": vecs},
		"meta": map[string]any{"api_version": map[string]any{"version": "2"}, "billed_units": map[string]any{"input_tokens": len(texts)}},
	})
	return b
}
