package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/observe"
	"github.com/llmgw/llmgw/internal/provider/providertest"
	"github.com/llmgw/llmgw/internal/reload"
	"github.com/llmgw/llmgw/internal/router"
)

// reloadA and reloadB are the two configurations the reload tests swap:
// B gives gpt another weight and adds a model.
const reloadA = `
server: {stream_idle_timeout: "5s"}
providers:
  - {name: fake-openai, type: openai, base_url: "${UPSTREAM}", api_key: sk-upstream-test}
  - {name: slow, type: mock, mock: {tokens_per_second: 400}}
models:
  - name: gpt
    targets: [{provider: fake-openai, model: gpt-4o-mini, weight: 1}]
  - name: slow
    targets: [{provider: slow, model: mock}]
`

var reloadB = strings.Replace(reloadA, "weight: 1}]", "weight: 3}]\n  - name: extra\n    targets: [{provider: fake-openai, model: gpt-4o}]", 1)

// reloadGateway is a gateway served as in production: one process state
// (metrics, target health, upstream clients) under snapshots compiled
// from a configuration text that a Reloader reads.
type reloadGateway struct {
	srv     *Server
	http    *httptest.Server
	up      *providertest.OpenAI
	rl      *reload.Reloader
	clients *gateway.Clients
	text    atomic.Pointer[string]
}

func newReloadGateway(t *testing.T, text string, env map[string]string) *reloadGateway {
	t.Helper()
	g := &reloadGateway{up: providertest.NewOpenAI(t), clients: gateway.NewClients(0)}
	t.Cleanup(g.clients.Close)
	g.text.Store(&text)
	load := func() (*config.Config, error) {
		return config.Parse([]byte(*g.text.Load()), func(k string) (string, bool) {
			if k == "UPSTREAM" {
				return g.up.URL, true
			}
			v, ok := env[k]
			return v, ok
		})
	}
	cfg, err := load()
	if err != nil {
		t.Fatal(err)
	}
	opts := gateway.Options{Metrics: observe.NewRegistry(), Health: router.NewHealth(), Clients: g.clients}
	g.rl = reload.New(cfg, reload.Options{Load: load, Metrics: opts.Metrics, Apply: func(cfg *config.Config) error {
		snap, err := gateway.Compile(cfg, opts)
		if err == nil {
			g.srv.Swap(snap)
		}
		return err
	}})
	opts.Admin.Configs = g.rl
	snap, err := gateway.Compile(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	g.srv = New(snap, slog.New(slog.DiscardHandler))
	g.http = httptest.NewServer(g.srv)
	t.Cleanup(g.http.Close)
	return g
}

// reload swaps in text.
func (g *reloadGateway) reload(t *testing.T, text string) reload.Status {
	t.Helper()
	g.text.Store(&text)
	st, err := g.rl.Reload(reload.TriggerAdmin)
	if err != nil {
		t.Fatalf("reload: %v", err)
	}
	return st
}

// chat posts a chat completion for model and returns the response, its
// body unread.
func (g *reloadGateway) chat(ctx context.Context, client *http.Client, model, words string, stream bool) (*http.Response, error) {
	body := fmt.Sprintf(`{"model":%q,"stream":%t,"messages":[{"role":"user","content":%q}]}`, model, stream, words)
	req, err := http.NewRequestWithContext(ctx, "POST", g.http.URL+"/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return client.Do(req)
}

// readStream reads an SSE answer to its end and reports whether it ended
// with data: [DONE] after some content and without an error event.
func readStream(r io.Reader) (content string, done bool) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		if data == "[DONE]" {
			done = true
			continue
		}
		if gjson.Get(data, "error").Exists() {
			return content, false
		}
		content += gjson.Get(data, "choices.0.delta.content").String()
	}
	return content, done && sc.Err() == nil
}

// Twenty reloads, alternating two configurations, under steady unary and
// streaming load: no request fails and every stream ends with [DONE],
// including a stream begun before each reload and read to its end after
// it, on the snapshot it began with.
func TestTwentyReloadsUnderLoad(t *testing.T) {
	g := newReloadGateway(t, reloadA, nil)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: time.Minute}
	defer client.CloseIdleConnections()
	ctx, stop := context.WithCancel(context.Background())
	var requests, streams, failures, cut atomic.Int64
	var firstFailure atomic.Pointer[string]
	fail := func(counter *atomic.Int64, format string, args ...any) {
		counter.Add(1)
		msg := fmt.Sprintf(format, args...)
		firstFailure.CompareAndSwap(nil, &msg)
	}
	var wg sync.WaitGroup
	worker := func(stream bool, model string) {
		defer wg.Done()
		for ctx.Err() == nil {
			resp, err := g.chat(context.Background(), client, model, "hello there from the load", stream)
			if err != nil {
				fail(&failures, "%s: %v", model, err)
				continue
			}
			if resp.StatusCode != 200 {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				fail(&failures, "%s: %d %s", model, resp.StatusCode, b)
				continue
			}
			if stream {
				content, done := readStream(resp.Body)
				resp.Body.Close()
				streams.Add(1)
				if !done || content != "hello there from the load" {
					fail(&cut, "%s stream: %q, done %t", model, content, done)
				}
				continue
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			requests.Add(1)
			if gjson.Get(string(b), "choices.0.message.content").String() != "hello there from the load" {
				fail(&failures, "%s: %s", model, b)
			}
		}
	}
	for _, w := range []struct {
		stream bool
		model  string
	}{{false, "gpt"}, {false, "gpt"}, {false, "slow"}, {true, "gpt"}, {true, "gpt"}, {true, "slow"}, {true, "slow"}} {
		wg.Add(1)
		go worker(w.stream, w.model)
	}
	long := strings.Repeat("word ", 40)
	for i := range 20 {
		// A stream under way across the reload: begun on the old
		// snapshot, read to its end on it after the swap.
		resp, err := g.chat(context.Background(), client, "slow", long, true)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("reload %d: stream: %v", i, err)
		}
		br := bufio.NewReader(resp.Body)
		first, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("reload %d: first event: %v", i, err)
		}
		text := reloadA
		if i%2 == 0 {
			text = reloadB
		}
		if st := g.reload(t, text); st.Version != int64(i+2) {
			t.Fatalf("reload %d: version %d", i, st.Version)
		}
		content, done := readStream(br)
		resp.Body.Close()
		streams.Add(1)
		content = gjson.Get(strings.TrimPrefix(first, "data: "), "choices.0.delta.content").String() + content
		if !done || len(strings.Fields(content)) != 40 {
			fail(&cut, "stream across reload %d: %d words, done %t", i, len(strings.Fields(content)), done)
		}
	}
	stop()
	wg.Wait()
	t.Logf("20 reloads: %d unary requests, %d streams, %d failed requests, %d cut streams", requests.Load(), streams.Load(), failures.Load(), cut.Load())
	if failures.Load() != 0 || cut.Load() != 0 {
		t.Fatalf("%d failed requests, %d cut streams; first: %s", failures.Load(), cut.Load(), *firstFailure.Load())
	}
	if requests.Load() == 0 || streams.Load() < 20 {
		t.Fatalf("too little load: %d requests, %d streams", requests.Load(), streams.Load())
	}
	// The last configuration (A, without the model extra) is in force.
	if resp, err := g.chat(context.Background(), client, "extra", "hi", false); err != nil || resp.StatusCode != 404 {
		t.Fatalf("a model of the configuration replaced: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if n := g.clients.Len(); n != 1 {
		t.Errorf("%d upstream clients kept, want the one of the unchanged provider", n)
	}
}

// breakerConfig routes gpt to the fake upstream and to the mock, with a
// breaker that opens on the first failure and stays open for an hour.
const breakerConfig = `
server: {admin_token: ` + adminRoot + `}
providers:
  - {name: fake-openai, type: openai, base_url: "${UPSTREAM}", api_key: sk-upstream-test}
  - {name: mock, type: mock}
models:
  - name: gpt
    retry: {max_attempts: 2, base_backoff: "1ms", max_backoff: "2ms"}
    breaker: {consecutive_failures: 1, cooldown: "1h"}
    targets:
      - {provider: fake-openai, model: gpt-4o-mini, weight: %W%}
      - {provider: mock, model: mock}
`

// A breaker opened by a failing upstream stays open across a reload that
// keeps its target (with a new weight), and is gone with a target that a
// reload removes: added back, the target starts closed.
func TestBreakerSurvivesReloadThatKeepsItsTarget(t *testing.T) {
	withWeight := func(w string) string { return strings.ReplaceAll(breakerConfig, "%W%", w) }
	g := newReloadGateway(t, withWeight("1000"), nil)
	g.up.Enqueue(providertest.Response{Status: 503, Body: []byte(`{"error":{"message":"overloaded","type":"server_error"}}`)})
	resp, err := g.chat(context.Background(), http.DefaultClient, "gpt", "hi", false)
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("x-llmgw-provider") != "mock" {
		t.Fatalf("the failed attempt did not fail over to the mock: %v %v", resp, err)
	}
	resp.Body.Close()
	state := func() string {
		t.Helper()
		req, _ := http.NewRequest("GET", g.http.URL+"/admin/v1/targets", nil)
		req.Header.Set("Authorization", "Bearer "+adminRoot)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return gjson.Get(string(b), `models.0.targets.#(provider=="fake-openai").state`).String()
	}
	if s := state(); s != "open" {
		t.Fatalf("breaker %q after the failure, want open", s)
	}
	g.reload(t, withWeight("999"))
	if s := state(); s != "open" {
		t.Fatalf("breaker %q after a reload that keeps the target, want open", s)
	}
	before := len(g.up.Requests())
	if resp, err := g.chat(context.Background(), http.DefaultClient, "gpt", "hi", false); err != nil || resp.Header.Get("x-llmgw-provider") != "mock" {
		t.Fatalf("served by %v: %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if len(g.up.Requests()) != before {
		t.Error("a request reached the target whose breaker is open")
	}
	// Removed, then added back: closed.
	g.reload(t, strings.Replace(withWeight("1"), "      - {provider: fake-openai, model: gpt-4o-mini, weight: 1}\n", "", 1))
	if s := state(); s != "" {
		t.Fatalf("a removed target is still shown: %q", s)
	}
	g.reload(t, withWeight("1"))
	if s := state(); s != "closed" {
		t.Fatalf("breaker %q of a target added back, want closed", s)
	}
}

// Reloads that replace a provider's upstream address (a new client each
// time) leave no connection or goroutine behind; reloads that keep it
// keep its one client.
func TestReloadsLeakNoConnections(t *testing.T) {
	second := providertest.NewOpenAI(t)
	g := newReloadGateway(t, reloadA, map[string]string{"SECOND": second.URL})
	client := &http.Client{Transport: &http.Transport{}}
	call := func() {
		t.Helper()
		resp, err := g.chat(context.Background(), client, "gpt", "hi", false)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%v %v", resp, err)
		}
		_, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	call()
	client.CloseIdleConnections()
	base := runtime.NumGoroutine()
	moved := strings.Replace(reloadA, "${UPSTREAM}", "${SECOND}", 1)
	for i := range 30 {
		text := reloadA
		if i%2 == 0 {
			text = moved
		}
		g.reload(t, text)
		call()
		if n := g.clients.Len(); n != 1 {
			t.Fatalf("reload %d: %d upstream clients kept, want 1", i, n)
		}
	}
	client.CloseIdleConnections()
	// Closed connections' goroutines end soon after; wait for them, a
	// bounded number of times.
	var n int
	for range 200 {
		if n = runtime.NumGoroutine(); n <= base+2 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n > base+2 {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines after 30 reloads, %d before:\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
}
