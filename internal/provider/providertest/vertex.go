package providertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

// VertexAnthropicVersion is the anthropic_version Vertex AI takes in the
// body of a Claude request.
const VertexAnthropicVersion = "vertex-2023-10-16"

// Vertex is a fake of Vertex AI's prediction endpoints for one project and
// location. URL stands for https://{location}-aiplatform.googleapis.com;
// requests go to URL + "/v1/projects/{project}/locations/{location}/" and
// then:
//   - publishers/google/models/{model}:generateContent,
//     :streamGenerateContent?alt=sse and :predict (text embeddings:
//     {"instances": [{"content"}]}, answered {"predictions": [{"embeddings":
//     {"values", "statistics": {"token_count", "truncated"}}}]}), and
//     endpoints/{id}:{method} the same way, for tuned models;
//   - publishers/anthropic/models/{model}:rawPredict and
//     :streamRawPredict, Anthropic's Messages API with the model in the
//     URL, and count-tokens:rawPredict.
//
// With nothing enqueued it answers from the request itself, as the fake
// Gemini and Anthropic APIs do. Whatever is enqueued, it refuses what Vertex
// AI refuses: no or an unknown bearer token (401 UNAUTHENTICATED), another
// project or location or an unknown path (404), the Gemini API's bodies it
// refuses (see Gemini), more than one instance for a gemini-embedding
// model, and a Claude request without anthropic_version
// "vertex-2023-10-16", with a model in the body, or whose stream member
// does not match the method (400).
type Vertex struct {
	// URL is the root the location's host stands for.
	URL string
	// Server is the underlying test server.
	Server *httptest.Server
	// Project and Location are the only ones served.
	Project, Location string
	// Token reports whether a bearer token is valid.
	Token func(string) bool
	*fake
}

// NewVertex starts a fake Vertex AI for project and location, accepting
// the tokens token reports valid; closed when the test ends.
func NewVertex(t testing.TB, project, location string, token func(string) bool) *Vertex {
	f := &Vertex{Project: project, Location: location, Token: token}
	f.fake = newFake(f.answerRequest)
	f.refuse = f.refuseRequest
	f.Server = httptest.NewServer(http.HandlerFunc(f.serveHTTP))
	f.URL = f.Server.URL
	t.Cleanup(f.Server.Close)
	return f
}

// VertexError is an error answer of Google's with its canonical status.
func VertexError(code int, status, msg string) Response { return GeminiError(code, status, msg) }

// vertexCall is a request path taken apart.
type vertexCall struct {
	publisher string // google, anthropic, or "" for a tuned endpoint
	model     string // the model id or endpoint id, unescaped
	method    string
}

// VertexCallOf returns the publisher ("google", "anthropic", or "" for a
// tuned model's endpoint), model and method of a recorded request path;
// ok is false for a path the fake does not serve.
func (f *Vertex) VertexCallOf(path string) (publisher, model, method string, ok bool) {
	c, ok := f.call(path)
	return c.publisher, c.model, c.method, ok
}

func (f *Vertex) call(path string) (vertexCall, bool) {
	prefix := "/v1/projects/" + f.Project + "/locations/" + f.Location + "/"
	rest, ok := strings.CutPrefix(path, prefix)
	if !ok {
		return vertexCall{}, false
	}
	var c vertexCall
	switch {
	case strings.HasPrefix(rest, "publishers/google/models/"):
		c.publisher, rest = "google", strings.TrimPrefix(rest, "publishers/google/models/")
	case strings.HasPrefix(rest, "publishers/anthropic/models/"):
		c.publisher, rest = "anthropic", strings.TrimPrefix(rest, "publishers/anthropic/models/")
	case strings.HasPrefix(rest, "endpoints/"):
		rest = strings.TrimPrefix(rest, "endpoints/")
	default:
		return vertexCall{}, false
	}
	i := strings.LastIndexByte(rest, ':')
	if i <= 0 || strings.Contains(rest[:i], "/") {
		return vertexCall{}, false
	}
	c.model, c.method = rest[:i], rest[i+1:]
	return c, true
}

// refuseRequest answers a request Vertex AI would refuse.
func (f *Vertex) refuseRequest(r *http.Request, body []byte) (Response, bool) {
	tok, bearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !bearer || f.Token == nil || !f.Token(tok) {
		return VertexError(http.StatusUnauthorized, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential."), true
	}
	c, ok := f.call(r.URL.Path)
	if !ok || r.Method != http.MethodPost {
		return VertexError(http.StatusNotFound, "NOT_FOUND", "The requested URL was not found on this server."), true
	}
	bad := func(msg string) (Response, bool) {
		return VertexError(http.StatusBadRequest, "INVALID_ARGUMENT", msg), true
	}
	if !gjson.ValidBytes(body) || !gjson.ParseBytes(body).IsObject() {
		return bad("Invalid JSON payload received.")
	}
	req := gjson.ParseBytes(body)
	switch {
	case c.publisher != "anthropic" && c.method == "predict":
		if n := len(req.Get("instances").Array()); n == 0 || (n > 1 && strings.HasPrefix(c.model, "gemini-embedding")) {
			return bad(fmt.Sprintf("Unable to submit request because the model supports only one instance per request; %d were given.", n))
		}
	case c.publisher != "anthropic":
		return geminiRefuseBody(c.method, body)
	case req.Get("anthropic_version").Str != VertexAnthropicVersion:
		return AnthropicError(http.StatusBadRequest, "invalid_request_error", "anthropic_version: Input should be 'vertex-2023-10-16'"), true
	case c.model == "count-tokens" && c.method == "rawPredict":
	case req.Get("model").Exists():
		return AnthropicError(http.StatusBadRequest, "invalid_request_error", "model: Extra inputs are not permitted"), true
	case c.method != "rawPredict" && c.method != "streamRawPredict":
		return VertexError(http.StatusNotFound, "NOT_FOUND", "The requested URL was not found on this server."), true
	case req.Get("stream").Bool() != (c.method == "streamRawPredict"):
		return AnthropicError(http.StatusBadRequest, "invalid_request_error", "stream: must match the method"), true
	}
	return Response{}, false
}

// answerRequest answers a request nothing was enqueued for.
func (f *Vertex) answerRequest(r *http.Request, body []byte) Response {
	c, _ := f.call(r.URL.Path)
	req := gjson.ParseBytes(body)
	switch {
	case c.publisher == "anthropic" && c.model == "count-tokens":
		return anthropicAnswer(true, body)
	case c.publisher == "anthropic":
		// The model the answer names is the one in the URL.
		b, _ := sjson.SetBytes(body, "model", c.model)
		return anthropicAnswer(false, b)
	case c.method == "predict":
		return Response{Body: vertexPredict(req)}
	}
	return geminiAnswer(c.method, r.URL.Query().Get("alt"), req)
}

// vertexPredict answers a text embeddings request with a small vector per
// instance and its token count.
func vertexPredict(req gjson.Result) []byte {
	var preds []any
	for i, in := range req.Get("instances").Array() {
		s := in.Get("content").Str
		preds = append(preds, map[string]any{"embeddings": map[string]any{
			"values":     []float64{float64(len(s)), float64(i), 0.5},
			"statistics": map[string]any{"token_count": len(strings.Fields(s)), "truncated": false},
		}})
	}
	b, _ := json.MarshalIndent(map[string]any{"predictions": preds, "metadata": map[string]any{"billableCharacterCount": 0}}, "", "  ")
	return b
}
