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

// OpenAI is a fake OpenAI API. Requests go to URL + "/chat/completions",
// URL + "/responses" (openai_responses.go), URL + "/completions", URL +
// "/embeddings" or URL + "/models", as to https://api.openai.com/v1. With
// nothing enqueued it answers from the request itself: a chat completion
// (or stream) repeating the last message's text, a Responses API answer
// repeating the last input, a legacy completion (or stream) repeating the
// prompt, or embeddings.
type OpenAI struct {
	// URL is the API base URL, ending in /v1.
	URL string
	// Server is the underlying test server.
	Server *httptest.Server
	*fake
	// models answers GET /models and /models/{model}; SetModels changes
	// the list.
	*models
}

// NewOpenAI starts a fake OpenAI API, closed when the test ends.
func NewOpenAI(t testing.TB) *OpenAI {
	f := &OpenAI{models: newModels(openAIModelsCapture)}
	f.fake = newFake(func(r *http.Request, body []byte) Response {
		if resp, ok := f.openAIModels(r); ok {
			return resp
		}
		return defaultOpenAI(r, body)
	})
	f.Server = httptest.NewServer(http.HandlerFunc(f.serveHTTP))
	f.URL = f.Server.URL + "/v1"
	t.Cleanup(f.Server.Close)
	return f
}

// defaultOpenAI answers a request nothing was enqueued for.
func defaultOpenAI(r *http.Request, body []byte) Response {
	switch {
	case r.Method != http.MethodPost:
		return openAIError(http.StatusMethodNotAllowed, "invalid_request_error", "method not allowed")
	case strings.HasSuffix(r.URL.Path, "/chat/completions"):
		if !gjson.ValidBytes(body) {
			return openAIError(http.StatusBadRequest, "invalid_request_error", "We could not parse the JSON body of your request.")
		}
		req := gjson.ParseBytes(body)
		if req.Get("stream").Bool() {
			return Response{SSE: echoStream(req)}
		}
		return Response{Body: echoCompletion(req)}
	case strings.HasSuffix(r.URL.Path, "/responses"):
		if !gjson.ValidBytes(body) {
			return openAIError(http.StatusBadRequest, "invalid_request_error", "We could not parse the JSON body of your request.")
		}
		req := gjson.ParseBytes(body)
		if req.Get("stream").Bool() {
			return Response{SSE: echoResponseStream(req)}
		}
		return Response{Body: echoResponseBody(req)}
	case strings.HasSuffix(r.URL.Path, "/completions"):
		return answerCompletion(body)
	case strings.HasSuffix(r.URL.Path, "/embeddings"):
		return Response{Body: echoEmbeddings(gjson.ParseBytes(body))}
	}
	return openAIError(http.StatusNotFound, "invalid_request_error", "Invalid URL ("+r.Method+" "+r.URL.Path+")")
}

func openAIError(status int, typ, msg string) Response {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": nil}})
	return Response{Status: status, Body: b}
}

// lastText returns the text of the request's last message.
func lastText(req gjson.Result) string {
	msgs := req.Get("messages").Array()
	if len(msgs) == 0 {
		return ""
	}
	c := msgs[len(msgs)-1].Get("content")
	if c.Type == gjson.String {
		return c.String()
	}
	var sb strings.Builder
	for _, p := range c.Array() {
		if p.Get("type").String() == "text" {
			sb.WriteString(p.Get("text").String())
		}
	}
	return sb.String()
}

func echoUsage(req gjson.Result, completion int) map[string]any {
	prompt := len(strings.Fields(req.Get("messages").Raw))
	return map[string]any{
		"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
		"prompt_tokens_details":     map[string]any{"cached_tokens": 0, "audio_tokens": 0},
		"completion_tokens_details": map[string]any{"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
	}
}

const echoCreated = 1741569952

func echoCompletion(req gjson.Result) []byte {
	text := lastText(req)
	b, _ := json.Marshal(map[string]any{
		"id": "chatcmpl-echo", "object": "chat.completion", "created": echoCreated, "model": req.Get("model").String(),
		"choices": []any{map[string]any{
			"index":         0,
			"message":       map[string]any{"role": "assistant", "content": text, "refusal": nil, "annotations": []any{}},
			"logprobs":      nil,
			"finish_reason": "stop",
		}},
		"usage":              echoUsage(req, len(strings.Fields(text))),
		"service_tier":       "default",
		"system_fingerprint": "fp_echo",
	})
	return b
}

// echoStream streams the last message's text word by word, with the usage
// chunk when the request asked for it, as OpenAI does.
func echoStream(req gjson.Result) []byte {
	includeUsage := req.Get("stream_options.include_usage").Bool()
	words := strings.SplitAfter(lastText(req), " ")
	var buf bytes.Buffer
	chunk := func(choices []any, usage any) {
		m := map[string]any{
			"id": "chatcmpl-echo", "object": "chat.completion.chunk", "created": echoCreated,
			"model": req.Get("model").String(), "system_fingerprint": "fp_echo", "choices": choices,
		}
		if includeUsage {
			m["usage"] = usage
		}
		b, _ := json.Marshal(m)
		fmt.Fprintf(&buf, "data: %s\n\n", b)
	}
	delta := func(d map[string]any, finish any) []any {
		return []any{map[string]any{"index": 0, "delta": d, "logprobs": nil, "finish_reason": finish}}
	}
	chunk(delta(map[string]any{"role": "assistant", "content": "", "refusal": nil}, nil), nil)
	for _, w := range words {
		if w != "" {
			chunk(delta(map[string]any{"content": w}, nil), nil)
		}
	}
	chunk(delta(map[string]any{}, "stop"), nil)
	if includeUsage {
		chunk([]any{}, echoUsage(req, len(strings.Fields(lastText(req)))))
	}
	buf.WriteString("data: [DONE]\n\n")
	return buf.Bytes()
}

func echoEmbeddings(req gjson.Result) []byte {
	in := req.Get("input")
	n := 1
	if in.IsArray() {
		n = len(in.Array())
		if n > 0 && in.Array()[0].Type == gjson.Number { // one input of token ids
			n = 1
		}
	}
	data := make([]any, n)
	for i := range data {
		data[i] = map[string]any{"object": "embedding", "index": i, "embedding": []float64{0.0023064255, -0.009327292, float64(i)}}
	}
	b, _ := json.Marshal(map[string]any{
		"object": "list", "data": data, "model": req.Get("model").String(),
		"usage": map[string]any{"prompt_tokens": 8 * n, "total_tokens": 8 * n},
	})
	return b
}
