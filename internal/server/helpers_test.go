package server

import (
	"bufio"
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/provider/providertest"
	"github.com/llmgw/llmgw/internal/sse"
)

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	// wrote, when not nil, is closed by the next Write (see waitFor).
	wrote chan struct{}
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.wrote != nil {
		close(b.wrote)
		b.wrote = nil
	}
	return b.buf.Write(p)
}

// waitFor waits until ok holds of what was written, at most d: a request's
// lines are logged after its response has reached the client.
func (b *syncBuffer) waitFor(ok func(string) bool, d time.Duration) bool {
	deadline := time.After(d)
	for {
		b.mu.Lock()
		if ok(b.buf.String()) {
			b.mu.Unlock()
			return true
		}
		if b.wrote == nil {
			b.wrote = make(chan struct{})
		}
		wrote := b.wrote
		b.mu.Unlock()
		select {
		case <-wrote:
		case <-deadline:
			return false
		}
	}
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testGateway is a gateway served by httptest in front of a fake OpenAI
// upstream.
type testGateway struct {
	t    *testing.T
	srv  *Server
	http *httptest.Server
	up   *providertest.OpenAI
	logs *syncBuffer
}

// baseConfig routes "gpt" to the fake OpenAI upstream and "mock" to the mock
// provider. ${UPSTREAM} is the fake's base URL.
const baseConfig = `
server:
  stream_idle_timeout: "2s"
providers:
  - name: fake-openai
    type: openai
    base_url: "${UPSTREAM}"
    api_key: "${PROVIDER_KEY:-sk-upstream-test}"
  - name: mock
    type: mock
models:
  - name: gpt
    targets: [{provider: fake-openai, model: "gpt-4o-mini"}]
  - name: mock
    targets: [{provider: mock, model: mock}]
`

func newGateway(t *testing.T, yaml string, env map[string]string) *testGateway {
	t.Helper()
	up := providertest.NewOpenAI(t)
	lookup := func(k string) (string, bool) {
		if k == "UPSTREAM" {
			return up.URL, true
		}
		v, ok := env[k]
		return v, ok
	}
	cfg, err := config.Parse([]byte(yaml), lookup)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	snap, err := gateway.Compile(cfg, gateway.Options{})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	logs := &syncBuffer{}
	srv := New(snap, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &testGateway{t: t, srv: srv, http: ts, up: up, logs: logs}
}

// do sends a request and returns the response with its body read.
func (g *testGateway) do(method, path, body string, headers ...string) (*http.Response, string) {
	g.t.Helper()
	req, err := http.NewRequest(method, g.http.URL+path, strings.NewReader(body))
	if err != nil {
		g.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		g.t.Fatal(err)
	}
	return resp, string(b)
}

// events parses an SSE body into its data payloads.
func events(t *testing.T, body string) []string {
	t.Helper()
	r := sse.NewReader(bufio.NewReader(strings.NewReader(body)), 0)
	var out []string
	for {
		ev, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("reading SSE: %v\n%s", err, body)
		}
		out = append(out, string(ev.Data))
	}
}

const userHello = `{"model":"%s","messages":[{"role":"user","content":"Hello there, gateway"}]%s}`

// compileConfig parses yaml, with ${NAME} taken from vars, and compiles its
// snapshot with opts.
func compileConfig(t *testing.T, yaml string, vars map[string]string, opts gateway.Options) *gateway.Snapshot {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml), func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	snap, err := gateway.Compile(cfg, opts)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return snap
}
