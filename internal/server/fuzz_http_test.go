package server

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/gateway"
)

// Secrets of the fuzzed gateway's config, which no response and no log
// line may hold.
const (
	fuzzKey         = "sk-canary-fuzz-key-51ad0c"
	fuzzAdminToken  = "adm-canary-fuzz-77e3b1"
	fuzzProviderKey = "sk-canary-fuzz-prov-9c2f4e"
	fuzzHeader      = "hdr-canary-fuzz-3d81aa"
)

// fuzzConfig serves the mock model fast, and a model whose upstream
// refuses connections (so that its provider's key and headers are in play
// without a network), behind one key.
var fuzzConfig = `
server:
  admin_token: "` + fuzzAdminToken + `"
  request_timeout: "2s"
  max_body_bytes: 1048576
providers:
  - name: mock
    type: mock
  - name: down
    type: openai
    base_url: "http://127.0.0.1:1/v1"
    api_key: "` + fuzzProviderKey + `"
    headers: {X-Extra: "` + fuzzHeader + `"}
    connect_timeout: "1s"
models:
  - name: mock
    targets: [{provider: mock, model: mock}]
    fallbacks: [gpt]
  - name: gpt
    targets: [{provider: down, model: gpt-4o-mini}]
    retry: {max_attempts: 1}
keys:
  - name: fuzz
    key: "` + fuzzKey + `"
  - name: narrow
    key: "` + fuzzKey + `-narrow"
    models: [gpt]
`

// fuzzRoutes are the paths a fuzzed request goes to, by index; an index
// past them uses the fuzzed path itself.
var fuzzRoutes = []string{
	"/v1/chat/completions", "/v1/messages", "/v1/messages/count_tokens", "/v1/embeddings",
	"/v1/models", "/healthz", "/readyz", "/metrics", "/admin/v1/targets",
}

var fuzzMethods = []string{"POST", "GET", "PUT", "DELETE", "OPTIONS", "HEAD", "PATCH", "BREW"}

// fuzzAuth are the credentials a fuzzed request carries, by index.
var fuzzAuth = []struct{ name, value string }{
	{"", ""},
	{"Authorization", "Bearer " + fuzzKey},
	{"X-Api-Key", fuzzKey},
	{"Authorization", "Bearer " + fuzzKey + "-narrow"},
	{"Authorization", "Bearer " + fuzzAdminToken},
	{"Authorization", "Bearer sk-wrong"},
}

// contractStatuses are the statuses the contract lets the gateway answer.
var contractStatuses = []int{200, 400, 401, 403, 404, 405, 408, 409, 413, 429, 502, 503, 504, 508}

// FuzzHandler drives the whole handler with random methods, paths,
// headers and bodies on every route. Whatever comes in: no panic (the edge
// recovers them, so a recovered one in the log is a failure too), a status
// the contract lists, an error in the route's shape, and no secret of the
// config in the response or the log.
func FuzzHandler(f *testing.F) {
	cfg, err := config.Parse([]byte(fuzzConfig), func(string) (string, bool) { return "", false })
	if err != nil {
		f.Fatal(err)
	}
	snap, err := gateway.Compile(cfg, gateway.Options{})
	if err != nil {
		f.Fatal(err)
	}
	logs := &fuzzLog{}
	srv := New(snap, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))

	seed := func(method, route uint8, auth uint8, body string) {
		f.Add(method, route, "", auth, "application/json", "", "", "", "", []byte(body))
	}
	chat := `{"model":"mock","messages":[{"role":"user","content":"hello there"}]}`
	seed(0, 0, 1, chat)
	seed(0, 0, 1, `{"model":"mock","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi you"}]}`)
	seed(0, 0, 3, `{"model":"gpt","messages":[{"role":"user","content":"hi"}]}`)
	seed(0, 1, 2, `{"model":"mock","max_tokens":32,"messages":[{"role":"user","content":"hello"}]}`)
	seed(0, 1, 2, `{"model":"mock","max_tokens":32,"stream":true,"messages":[{"role":"user","content":"hello"}]}`)
	seed(0, 2, 1, `{"model":"mock","messages":[{"role":"user","content":"count me"}]}`)
	seed(0, 3, 1, `{"model":"mock","input":["a","b"]}`)
	seed(1, 4, 1, "")
	seed(1, 5, 0, "")
	seed(1, 6, 0, "")
	seed(1, 7, 0, "")
	seed(1, 8, 4, "")
	f.Add(uint8(0), uint8(0), "", uint8(1), "application/json", "2023-06-01", "gpt,mock", "https://evil.example", "evil.example", []byte(chat))
	// A long model name: reflected values are truncated in errors and logs.
	long := strings.Repeat("m", 5000)
	seed(0, 0, 1, `{"model":"`+long+`","messages":[{"role":"user","content":"hi"}]}`)
	seed(0, 1, 1, `{"model":"`+long+`","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}`)
	f.Add(uint8(0), uint8(200), "/v1/chat/completions/../messages", uint8(1), "text/plain", "", "", "", "", []byte(`[[[[{"model":`))

	f.Fuzz(func(t *testing.T, method, route uint8, path string, auth uint8, contentType, version, fallbacks, origin, host string, body []byte) {
		if int(route) < len(fuzzRoutes) {
			path = fuzzRoutes[route]
		}
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		req := httptest.NewRequest("GET", "/", bytes.NewReader(body))
		req.Method = fuzzMethods[int(method)%len(fuzzMethods)]
		req.URL.Path, req.URL.RawPath, req.RequestURI = path, "", path
		if host != "" {
			req.Host = host
		}
		a := fuzzAuth[int(auth)%len(fuzzAuth)]
		for _, h := range [][2]string{{a.name, a.value}, {"Content-Type", contentType}, {"Anthropic-Version", version},
			{"X-Llmgw-Fallbacks", fallbacks}, {"Origin", origin}} {
			if h[0] != "" && h[1] != "" {
				req.Header.Set(h[0], h[1])
			}
		}
		logs.Reset()
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		shown := fmt.Sprintf("%.200q", path) // for messages

		log := logs.String()
		if strings.Contains(log, "panic recovered") {
			t.Fatalf("%s %s: a panic was recovered: %s", req.Method, shown, log)
		}
		status := w.Code
		if isCleaningRedirect(w, path) {
			return
		}
		if !slices.Contains(contractStatuses, status) {
			t.Fatalf("%s %s: status %d, which the contract does not list: %.500s", req.Method, shown, status, w.Body.Bytes())
		}
		if w.Header().Get("X-Request-Id") == "" {
			t.Errorf("%s %s: no x-request-id", req.Method, shown)
		}
		out := w.Body.String()
		var hdr strings.Builder
		_ = w.Header().Write(&hdr)
		for _, secret := range []string{fuzzKey, fuzzAdminToken, fuzzProviderKey, fuzzHeader} {
			for where, s := range map[string]string{"body": out, "headers": hdr.String(), "log": log} {
				if strings.Contains(s, secret) {
					t.Fatalf("%s %s: the %s holds the secret %q: %.500s", req.Method, shown, where, secret, s)
				}
			}
		}
		for _, line := range strings.Split(log, "\n") {
			if len(line) > maxFuzzLogLine {
				t.Fatalf("%s %s: a log line of %d bytes: %.300s", req.Method, shown, len(line), line)
			}
		}
		if status >= 400 && req.Method != "HEAD" {
			checkFuzzedError(t, req, w)
		}
	})
}

// isCleaningRedirect reports whether w is the router's redirect of an
// unclean path ("/v1/a/../b", "//x") to its clean form on the same host:
// a redirect, not an answer, and the only one the gateway makes.
func isCleaningRedirect(w *httptest.ResponseRecorder, path string) bool {
	switch w.Code {
	case http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		return false
	}
	loc := w.Header().Get("Location")
	return strings.HasPrefix(loc, "/") && !strings.HasPrefix(loc, "//") && loc != path
}

// fuzzLog collects the log of one fuzzed request at a time.
type fuzzLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *fuzzLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *fuzzLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *fuzzLog) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Reset()
}

// Bounds on what a client's values can grow: each reflected value is
// truncated, so an error body and a log line stay small.
const (
	maxFuzzErrorBody = 2048
	maxFuzzLogLine   = 4096
)

// checkFuzzedError: an error is JSON in the route's shape, of bounded size.
func checkFuzzedError(t *testing.T, req *http.Request, w *httptest.ResponseRecorder) {
	t.Helper()
	b := w.Body.Bytes()
	if len(b) > maxFuzzErrorBody {
		t.Fatalf("%s %.200q: an error of %d bytes: %.300s", req.Method, req.URL.Path, len(b), b)
	}
	if !gjson.ValidBytes(b) {
		t.Fatalf("%s %s: %d with a body that is not JSON: %.300q", req.Method, req.URL.Path, w.Code, b)
	}
	if isAnthropicPath(req.URL.Path) {
		if gjson.GetBytes(b, "type").Str != "error" || gjson.GetBytes(b, "error.type").Type != gjson.String {
			t.Fatalf("%s %.200q: %d not in Anthropic's error shape: %.300s", req.Method, req.URL.Path, w.Code, b)
		}
		return
	}
	if gjson.GetBytes(b, "error.message").Type != gjson.String || gjson.GetBytes(b, "error.type").Type != gjson.String {
		t.Fatalf("%s %.200q: %d not in OpenAI's error shape: %.300s", req.Method, req.URL.Path, w.Code, b)
	}
}
