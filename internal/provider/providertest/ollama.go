package providertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

// NDJSON is the Content-Type of Ollama's streams.
const NDJSON = "application/x-ndjson"

// Ollama is a fake of Ollama's native API. Requests go to URL + "/api/chat"
// or URL + "/api/embed", as to http://127.0.0.1:11434. A Response's SSE is
// sent as application/x-ndjson: one JSON object a line. With nothing
// enqueued it answers from the request itself, in Ollama's format: an
// answer (or a stream, whose done line carries the counts) repeating the
// last message's text, or embeddings.
//
// Whatever is enqueued, it refuses what Ollama refuses: a chat message whose
// tool call arguments are not an object, or whose images are not base64
// strings (400, as its decoder does).
type Ollama struct {
	// URL is the server's root URL.
	URL string
	// Server is the underlying test server.
	Server *httptest.Server
	*fake
}

// NewOllama starts a fake Ollama server, closed when the test ends.
func NewOllama(t testing.TB) *Ollama {
	f := &Ollama{fake: newFake(defaultOllama)}
	f.refuse = ollamaRefuse
	f.streamType = NDJSON
	f.Server = httptest.NewServer(http.HandlerFunc(f.serveHTTP))
	f.URL = f.Server.URL
	t.Cleanup(f.Server.Close)
	return f
}

// OllamaError is an error answer of Ollama's: {"error": msg}.
func OllamaError(status int, msg string) Response {
	b, _ := json.Marshal(map[string]string{"error": msg})
	return Response{Status: status, Body: b}
}

// ollamaRefuse answers a chat request Ollama's decoder would refuse.
func ollamaRefuse(r *http.Request, body []byte) (Response, bool) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/api/chat") {
		return Response{}, false
	}
	req := gjson.ParseBytes(body)
	if !req.IsObject() {
		return OllamaError(http.StatusBadRequest, "invalid request body"), true
	}
	for _, m := range req.Get("messages").Array() {
		if c := m.Get("content"); c.Exists() && c.Type != gjson.String {
			return OllamaError(http.StatusBadRequest, "json: cannot unmarshal array into Go struct field Message.messages.content of type string"), true
		}
		for _, tc := range m.Get("tool_calls").Array() {
			if !tc.Get("function.arguments").IsObject() {
				return OllamaError(http.StatusBadRequest, "json: cannot unmarshal string into Go struct field ToolCallFunction.messages.tool_calls.function.arguments of type api.ToolCallFunctionArguments"), true
			}
		}
		for _, img := range m.Get("images").Array() {
			if img.Type != gjson.String {
				return OllamaError(http.StatusBadRequest, "invalid image input"), true
			}
		}
	}
	return Response{}, false
}

// defaultOllama answers a request nothing was enqueued for.
func defaultOllama(r *http.Request, body []byte) Response {
	req := gjson.ParseBytes(body)
	switch {
	case r.Method != http.MethodPost:
		return OllamaError(http.StatusMethodNotAllowed, "method not allowed")
	case strings.HasSuffix(r.URL.Path, "/api/chat"):
		if req.Get("stream").Exists() && !req.Get("stream").Bool() {
			return Response{Body: ollamaEchoAnswer(req)}
		}
		return Response{SSE: ollamaEchoStream(req)}
	case strings.HasSuffix(r.URL.Path, "/api/embed"):
		return Response{Body: ollamaEmbed(req)}
	}
	return OllamaError(http.StatusNotFound, "404 page not found")
}

// ollamaCreated is the created_at of the fake's own answers.
var ollamaCreated = time.Unix(echoCreated, 0).UTC().Format(time.RFC3339Nano)

func ollamaLastText(req gjson.Result) string {
	msgs := req.Get("messages").Array()
	if len(msgs) == 0 {
		return ""
	}
	return msgs[len(msgs)-1].Get("content").String()
}

func ollamaDone(req gjson.Result, m map[string]any, completion int) map[string]any {
	m["done"] = true
	m["done_reason"] = "stop"
	m["total_duration"] = 1000000
	m["prompt_eval_count"] = len(strings.Fields(req.Get("messages").Raw))
	m["eval_count"] = completion
	return m
}

func ollamaEchoAnswer(req gjson.Result) []byte {
	text := ollamaLastText(req)
	b, _ := json.Marshal(ollamaDone(req, map[string]any{
		"model": req.Get("model").String(), "created_at": ollamaCreated,
		"message": map[string]any{"role": "assistant", "content": text},
	}, len(strings.Fields(text))))
	return b
}

// ollamaEchoStream streams the last message's text word by word, the counts
// in the done line.
func ollamaEchoStream(req gjson.Result) []byte {
	text := ollamaLastText(req)
	var buf bytes.Buffer
	line := func(m map[string]any) {
		b, _ := json.Marshal(m)
		fmt.Fprintf(&buf, "%s\n", b)
	}
	model := req.Get("model").String()
	for _, w := range strings.SplitAfter(text, " ") {
		if w != "" {
			line(map[string]any{"model": model, "created_at": ollamaCreated,
				"message": map[string]any{"role": "assistant", "content": w}, "done": false})
		}
	}
	line(ollamaDone(req, map[string]any{"model": model, "created_at": ollamaCreated,
		"message": map[string]any{"role": "assistant", "content": ""}}, len(strings.Fields(text))))
	return buf.Bytes()
}

// ollamaEmbed answers POST /api/embed with a small vector per input.
func ollamaEmbed(req gjson.Result) []byte {
	in := req.Get("input")
	inputs := []gjson.Result{in}
	if in.IsArray() {
		inputs = in.Array()
	}
	vecs := make([][]float64, len(inputs))
	tokens := 0
	for i, s := range inputs {
		tokens += len(strings.Fields(s.String()))
		vecs[i] = []float64{float64(len(s.String())), float64(i), 0.5}
	}
	b, _ := json.Marshal(map[string]any{"model": req.Get("model").String(), "embeddings": vecs,
		"total_duration": 1000000, "load_duration": 1000, "prompt_eval_count": tokens})
	return b
}
