package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
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
