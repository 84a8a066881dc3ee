package providertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

// Response is one scripted answer of a fake upstream.
type Response struct {
	// Status is the HTTP status; 0 means 200.
	Status int
	// Header is added to the response headers.
	Header http.Header
	// Body is a non-streamed body, sent as application/json unless Header
	// says otherwise.
	Body []byte
	// SSE is a raw event stream, sent as text/event-stream.
	SSE []byte
	// Split writes SSE in pieces of Split bytes, flushing after each: 1
	// splits every event, line and multi-byte character. 0 writes it whole.
	Split int
	// Hold, when set, stops the stream after HoldAfter bytes of SSE (0: right
	// after the headers) until it is closed or the client goes away.
	Hold      chan struct{}
	HoldAfter int
	// HangUp closes the connection abruptly after writing, without ending
	// the response properly.
	HangUp bool
}

// Recorded is a request the fake received.
type Recorded struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

// OpenAI is a fake OpenAI API. Requests go to URL + "/chat/completions" or
// URL + "/embeddings", as to https://api.openai.com/v1.
type OpenAI struct {
	// URL is the API base URL, ending in /v1.
	URL string
	// Server is the underlying test server.
	Server *httptest.Server

	mu       sync.Mutex
	queue    []Response
	requests []Recorded
	canceled chan time.Time
}

// NewOpenAI starts a fake OpenAI API, closed when the test ends.
func NewOpenAI(t testing.TB) *OpenAI {
	f := &OpenAI{canceled: make(chan time.Time, 64)}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serveHTTP))
	f.URL = f.Server.URL + "/v1"
	t.Cleanup(f.Server.Close)
	return f
}

// Enqueue adds responses to send, first in first out, to the next requests.
// With none queued the fake answers from the request itself: a chat
// completion (or stream) repeating the last message's text, or embeddings.
func (f *OpenAI) Enqueue(r ...Response) {
	f.mu.Lock()
	f.queue = append(f.queue, r...)
	f.mu.Unlock()
}

// Requests returns the requests received so far.
func (f *OpenAI) Requests() []Recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Recorded(nil), f.requests...)
}

// Canceled receives the time at which a streaming handler saw its client go
// away before the stream was over.
func (f *OpenAI) Canceled() <-chan time.Time { return f.canceled }

func (f *OpenAI) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests = append(f.requests, Recorded{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
	var resp Response
	scripted := len(f.queue) > 0
	if scripted {
		resp = f.queue[0]
		f.queue = f.queue[1:]
	}
	f.mu.Unlock()
	if !scripted {
		resp = defaultOpenAI(r, body)
	}
	f.write(w, r, &resp)
}

func (f *OpenAI) write(w http.ResponseWriter, r *http.Request, resp *Response) {
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	if resp.SSE == nil && resp.Hold == nil {
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		_, _ = w.Write(resp.Body)
		if resp.HangUp {
			hangUp(w)
		}
		return
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	}
	w.WriteHeader(status)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	if !f.stream(r, rc, w, resp) {
		select {
		case f.canceled <- time.Now():
		default: // nobody is watching that many cancellations
		}
		return
	}
	if resp.HangUp {
		hangUp(w)
	}
}

// stream writes resp.SSE as told and reports false if the client went away.
func (f *OpenAI) stream(r *http.Request, rc *http.ResponseController, w io.Writer, resp *Response) bool {
	data := resp.SSE
	split := resp.Split
	if split <= 0 {
		split = len(data) + 1
	}
	held := resp.Hold == nil
	for off := 0; ; {
		if !held && off >= resp.HoldAfter {
			held = true
			select {
			case <-resp.Hold:
			case <-r.Context().Done():
				return false
			}
		}
		if off >= len(data) {
			return true
		}
		end := min(off+split, len(data))
		if !held && resp.HoldAfter > off {
			end = min(end, resp.HoldAfter)
		}
		if _, err := w.Write(data[off:end]); err != nil {
			return false
		}
		if rc.Flush() != nil {
			return false
		}
		off = end
	}
}

// hangUp drops the connection without ending the response.
func hangUp(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
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
