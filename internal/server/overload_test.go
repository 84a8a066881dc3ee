package server

import (
	"context"
	"fmt"
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
	"github.com/llmgw/llmgw/internal/llm"
)

// heldUpstream is an OpenAI upstream whose every answer waits for release:
// each request is announced on arrived, then answered once release is
// closed.
type heldUpstream struct {
	srv     *httptest.Server
	arrived chan struct{}
	release chan struct{}
}

func newHeldUpstream(t *testing.T) *heldUpstream {
	u := &heldUpstream{arrived: make(chan struct{}, 64), release: make(chan struct{})}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		u.arrived <- struct{}{}
		select {
		case <-u.release:
		case <-r.Context().Done():
			return
		}
		if strings.Contains(string(body), `"stream":true`) {
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"hi"},"finish_reason":null}]}`+"\n\n"+
				`data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`+"\n\ndata: [DONE]\n\n")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
	}))
	t.Cleanup(u.srv.Close)
	t.Cleanup(u.open)
	return u
}

// open lets every held answer, and those to come, through.
func (u *heldUpstream) open() {
	select {
	case <-u.release:
	default:
		close(u.release)
	}
}

// wait waits for n requests to arrive.
func (u *heldUpstream) wait(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-u.arrived:
		case <-time.After(10 * time.Second):
			t.Fatal("the upstream saw no request")
		}
	}
}

func overloadConfig(server string) string {
	return "server:\n" + server + `
providers:
  - name: held
    type: openai
    base_url: "${UPSTREAM}"
    api_key: sk-upstream-test
models:
  - name: gpt
    targets: [{provider: held, model: "gpt-4o-mini"}]
`
}

type overloadGateway struct {
	srv  *Server
	http *httptest.Server
	up   *heldUpstream
	// queued receives one value per request that begins to wait in a
	// queue.
	queued chan string
}

func newOverloadGateway(t *testing.T, server string) *overloadGateway {
	t.Helper()
	up := newHeldUpstream(t)
	snap := compileConfig(t, overloadConfig(server), map[string]string{"UPSTREAM": up.srv.URL + "/v1"}, gateway.Options{})
	srv := New(snap, slog.New(slog.DiscardHandler))
	g := &overloadGateway{srv: srv, up: up, queued: make(chan string, 64)}
	srv.over.requests.queuedHook = func() { g.queued <- "requests" }
	srv.over.streams.queuedHook = func() { g.queued <- "streams" }
	g.http = httptest.NewServer(srv)
	t.Cleanup(g.http.Close)
	return g
}

// answer is a response's status, code and Retry-After.
type answer struct {
	status     int
	body       string
	retryAfter string
}

// overloadClient bounds each request of these tests, so that a ceiling
// that fails to refuse ends the test rather than hang it.
var overloadClient = &http.Client{Timeout: 30 * time.Second}

func (g *overloadGateway) send(path, body string) answer {
	resp, err := overloadClient.Post(g.http.URL+path, "application/json", strings.NewReader(body))
	if err != nil {
		return answer{status: -1, body: err.Error()}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, string(b), resp.Header.Get("Retry-After")}
}

func (g *overloadGateway) sendAsync(body string) <-chan answer {
	c := make(chan answer, 1)
	go func() { c <- g.send(chatRoute, body) }()
	return c
}

func (g *overloadGateway) waitQueued(t *testing.T, kind string) {
	t.Helper()
	select {
	case k := <-g.queued:
		if k != kind {
			t.Fatalf("a request waits in the %s queue, want %s", k, kind)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no request waits in the queue")
	}
}

func isOverloaded(a answer) bool {
	return a.status == http.StatusServiceUnavailable && strings.Contains(a.body, `"code":"overloaded"`) && a.retryAfter == "1"
}

var (
	unary    = fmt.Sprintf(userHello, "gpt", "")
	streamed = fmt.Sprintf(userHello, "gpt", `,"stream":true`)
)

// Driven past its ceiling of 2 requests with a queue of 1, the gateway
// serves 2, queues 1 and refuses exactly the 2 more with 503 overloaded and
// Retry-After; the queued one is served when a place frees; the probes,
// /metrics and the model list answer all along; the refusals are counted
// with tenant "" and the ceiling is exported.
func TestOverloadRequestCeiling(t *testing.T) {
	g := newOverloadGateway(t, "  max_concurrent_requests: 2\n  overload_queue: {size: 1, timeout: 1m}\n")
	reg := g.srv.Snapshot().Metrics.Gatherer()
	var served []<-chan answer
	for range 2 {
		served = append(served, g.sendAsync(unary))
	}
	g.up.wait(t, 2)
	served = append(served, g.sendAsync(unary))
	g.waitQueued(t, "requests")
	if v, _ := metric(t, reg, "llmgw_overload_queue_length", "kind", "requests"); v != 1 {
		t.Errorf("queue length %v, want 1", v)
	}
	for range 2 {
		if a := g.send(chatRoute, unary); !isOverloaded(a) {
			t.Errorf("over the ceiling and the queue: %d %q Retry-After %q, want 503 overloaded with Retry-After 1", a.status, a.body, a.retryAfter)
		}
	}
	// Anthropic's route is refused in its own shape.
	if a := g.send("/v1/messages", `{"model":"gpt","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`); a.status != 503 || !strings.Contains(a.body, `"type":"overloaded_error"`) {
		t.Errorf("/v1/messages over the ceiling: %d %s", a.status, a.body)
	}
	for _, path := range []string{"/healthz", "/readyz", "/startupz", "/metrics", "/v1/models"} {
		resp, err := overloadClient.Get(g.http.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s while overloaded: %d, want 200", path, resp.StatusCode)
		}
	}
	g.up.open()
	for i, c := range served {
		if a := <-c; a.status != 200 {
			t.Errorf("request %d: %d %s", i, a.status, a.body)
		}
	}
	if v, _ := metric(t, reg, "llmgw_rejections_total", "tenant", "", "reason", "overloaded"); v != 3 {
		t.Errorf("overloaded rejections %v, want 3", v)
	}
	if v, _ := metric(t, reg, "llmgw_concurrency_limit", "kind", "requests"); v != 2 {
		t.Errorf("llmgw_concurrency_limit{kind=requests} %v, want 2", v)
	}
	if v, _ := metric(t, reg, "llmgw_overload_queue_length", "kind", "requests"); v != 0 {
		t.Errorf("queue length %v after, want 0", v)
	}
	// Every place was given back: 2 more are served at once.
	for range 2 {
		if a := g.send(chatRoute, unary); a.status != 200 {
			t.Errorf("after: %d %s", a.status, a.body)
		}
	}
}

// A request that waits in the queue longer than its timeout is refused
// with 503 overloaded, and leaves the queue.
func TestOverloadQueueTimeout(t *testing.T) {
	g := newOverloadGateway(t, "  max_concurrent_requests: 1\n  overload_queue: {size: 1, timeout: 5s}\n")
	fire := make(chan time.Time)
	var asked time.Duration
	var mu sync.Mutex
	g.srv.over.requests.after = func(d time.Duration) (<-chan time.Time, func()) {
		mu.Lock()
		asked = d
		mu.Unlock()
		return fire, func() {}
	}
	first := g.sendAsync(unary)
	g.up.wait(t, 1)
	queued := g.sendAsync(unary)
	g.waitQueued(t, "requests")
	fire <- time.Time{}
	if a := <-queued; !isOverloaded(a) {
		t.Errorf("timed out in the queue: %d %q Retry-After %q, want 503 overloaded", a.status, a.body, a.retryAfter)
	}
	mu.Lock()
	if asked != 5*time.Second {
		t.Errorf("waited %v, want the configured 5s", asked)
	}
	mu.Unlock()
	reg := g.srv.Snapshot().Metrics.Gatherer()
	if v, _ := metric(t, reg, "llmgw_overload_queue_length", "kind", "requests"); v != 0 {
		t.Errorf("queue length %v, want 0", v)
	}
	g.up.open()
	if a := <-first; a.status != 200 {
		t.Errorf("the request in: %d %s", a.status, a.body)
	}
}

// Over server.max_open_streams a stream is refused, while a request that
// is not a stream is served; the stream's place comes back when it ends.
func TestOverloadStreamCeiling(t *testing.T) {
	g := newOverloadGateway(t, "  max_open_streams: 1\n")
	open := g.sendAsync(streamed)
	g.up.wait(t, 1)
	if a := g.send(chatRoute, streamed); !isOverloaded(a) {
		t.Errorf("a second stream: %d %q Retry-After %q, want 503 overloaded", a.status, a.body, a.retryAfter)
	}
	if len(g.up.arrived) != 0 {
		t.Error("the refused stream reached the upstream")
	}
	other := g.sendAsync(unary)
	g.up.wait(t, 1) // not a stream: not under the ceiling
	g.up.open()
	if a := <-open; a.status != 200 || !strings.Contains(a.body, "[DONE]") {
		t.Errorf("the open stream: %d %s", a.status, a.body)
	}
	if a := <-other; a.status != 200 {
		t.Errorf("the unary request: %d %s", a.status, a.body)
	}
	if a := g.send(chatRoute, streamed); a.status != 200 {
		t.Errorf("a stream after the first ended: %d %s", a.status, a.body)
	}
	reg := g.srv.Snapshot().Metrics.Gatherer()
	if v, _ := metric(t, reg, "llmgw_concurrency_limit", "kind", "streams"); v != 1 {
		t.Errorf("llmgw_concurrency_limit{kind=streams} %v, want 1", v)
	}
}

// A reload that raises the ceiling lets a queued request in at once; one
// that lowers it refuses the next.
func TestOverloadReload(t *testing.T) {
	g := newOverloadGateway(t, "  max_concurrent_requests: 1\n  overload_queue: {size: 4, timeout: 1m}\n")
	first := g.sendAsync(unary)
	g.up.wait(t, 1)
	queued := g.sendAsync(unary)
	g.waitQueued(t, "requests")
	next := compileConfig(t, overloadConfig("  max_concurrent_requests: 2\n  overload_queue: {size: 4, timeout: 1m}\n"),
		map[string]string{"UPSTREAM": g.up.srv.URL + "/v1"}, gateway.Options{Metrics: g.srv.Snapshot().Metrics})
	g.srv.Swap(next)
	g.up.wait(t, 1) // the queued request reached the upstream
	// Lowered to 1 with no queue while 2 are in: the next is refused.
	lower := compileConfig(t, overloadConfig("  max_concurrent_requests: 1\n"),
		map[string]string{"UPSTREAM": g.up.srv.URL + "/v1"}, gateway.Options{Metrics: g.srv.Snapshot().Metrics})
	g.srv.Swap(lower)
	if a := g.send(chatRoute, unary); !isOverloaded(a) {
		t.Errorf("over the lowered ceiling: %d %s", a.status, a.body)
	}
	g.up.open()
	for _, c := range []<-chan answer{first, queued} {
		if a := <-c; a.status != 200 {
			t.Errorf("%d %s", a.status, a.body)
		}
	}
	if a := g.send(chatRoute, unary); a.status != 200 {
		t.Errorf("under the lowered ceiling: %d %s", a.status, a.body)
	}
}

// A queued request whose client goes away leaves the queue without taking
// a place.
func TestCeilingCanceledWaiter(t *testing.T) {
	o := newOverload(nil)
	c := &o.requests
	c.set(1, config.OverloadQueue{Size: 1, Timeout: config.Duration(time.Hour)})
	if err := c.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	queued := make(chan struct{})
	c.queuedHook = func() { close(queued) }
	done := make(chan error, 1)
	go func() { done <- c.acquire(ctx) }()
	<-queued
	cancel()
	if err := <-done; llm.AsError(err).Kind != llm.KindCanceled {
		t.Fatalf("canceled waiter: %v", err)
	}
	c.release()
	c.mu.Lock()
	inUse, waiting := c.inUse, len(c.waiting)
	c.mu.Unlock()
	if inUse != 0 || waiting != 0 {
		t.Errorf("in use %d, waiting %d; want 0, 0", inUse, waiting)
	}
}

// The edge's cost of the ceiling: one place taken and given back.
func BenchmarkCeiling(b *testing.B) {
	o := newOverload(nil)
	o.requests.set(1<<20, config.OverloadQueue{Size: 10, Timeout: config.Duration(time.Second)})
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := o.requests.acquire(ctx); err != nil {
				b.Fatal(err)
			}
			o.requests.release()
		}
	})
}

// BenchmarkChatFastPathInMemoryCeiling is BenchmarkChatFastPathInMemory with
// both ceilings on: what they add to a request at the edge.
func BenchmarkChatFastPathInMemoryCeiling(b *testing.B) {
	h := benchGateway(b, false, true)
	h.(*Server).over.apply(&config.Server{MaxConcurrentRequests: 1024, MaxOpenStreams: 512,
		OverloadQueue: config.OverloadQueue{Size: 64, Timeout: config.Duration(time.Second)}})
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/v1/chat/completions", strings.NewReader(benchRequest))
		req.Header.Set("Authorization", "Bearer sk-bench")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}
