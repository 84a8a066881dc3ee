package server

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/provider/providertest"
	"github.com/llmgw/llmgw/internal/sse"
)

func TestChatMockUnary(t *testing.T) {
	g := newGateway(t, baseConfig, nil)
	resp, body := g.do("POST", "/v1/chat/completions", fmt.Sprintf(userHello, "mock", ""))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if got := gjson.Get(body, "choices.0.message.content").String(); got != "Hello there, gateway" {
		t.Errorf("content = %q, want the echo", got)
	}
	if gjson.Get(body, "object").String() != "chat.completion" || gjson.Get(body, "usage.total_tokens").Int() == 0 {
		t.Errorf("not a complete chat.completion: %s", body)
	}
	if resp.Header.Get("X-Llmgw-Provider") != "mock" || len(resp.Header.Get("X-Request-Id")) != 32 {
		t.Errorf("headers: provider %q request id %q", resp.Header.Get("X-Llmgw-Provider"), resp.Header.Get("X-Request-Id"))
	}
}

func TestRequestIDEchoed(t *testing.T) {
	g := newGateway(t, baseConfig, nil)
	resp, _ := g.do("GET", "/healthz", "", "X-Request-Id", "abc-123")
	if got := resp.Header.Get("X-Request-Id"); got != "abc-123" {
		t.Errorf("echoed id = %q", got)
	}
	resp, _ = g.do("GET", "/v1/nope", "", "X-Request-Id", "bad id\twith spaces")
	if got := resp.Header.Get("X-Request-Id"); got == "" || strings.Contains(got, " ") {
		t.Errorf("an unsafe id must be replaced, got %q", got)
	}
}

func TestChatMockStream(t *testing.T) {
	g := newGateway(t, baseConfig, nil)
	for _, includeUsage := range []bool{false, true} {
		extra := `,"stream":true`
		if includeUsage {
			extra += `,"stream_options":{"include_usage":true}`
		}
		resp, body := g.do("POST", "/v1/chat/completions", fmt.Sprintf(userHello, "mock", extra))
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
			t.Fatalf("status %d type %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		evs := events(t, body)
		if evs[len(evs)-1] != "[DONE]" {
			t.Fatalf("stream does not end with [DONE]: %v", evs)
		}
		var text strings.Builder
		usageChunks := 0
		for _, e := range evs[:len(evs)-1] {
			text.WriteString(gjson.Get(e, "choices.0.delta.content").String())
			if u := gjson.Get(e, "usage"); u.IsObject() {
				usageChunks++
			}
		}
		if text.String() != "Hello there, gateway" {
			t.Errorf("streamed text = %q", text.String())
		}
		if want := map[bool]int{false: 0, true: 1}[includeUsage]; usageChunks != want {
			t.Errorf("include_usage=%v: %d usage chunks, want %d", includeUsage, usageChunks, want)
		}
		if len(evs) < 5 {
			t.Errorf("want one event per word, got %d events", len(evs))
		}
	}
}

// The fast path forwards the client's body with only the model replaced.
func TestFastPathForwardsBody(t *testing.T) {
	g := newGateway(t, baseConfig, nil)
	in := `{"model":"gpt","messages":[{"role":"user","content":"hi","x_custom":1}],"vendor_param":{"a":[1,2]},"temperature":0.5}`
	resp, body := g.do("POST", "/v1/chat/completions", in)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	reqs := g.up.Requests()
	if len(reqs) != 1 {
		t.Fatalf("upstream saw %d requests", len(reqs))
	}
	want := strings.Replace(in, `"gpt"`, `"gpt-4o-mini"`, 1)
	if string(reqs[0].Body) != want {
		t.Errorf("upstream body\n got %s\nwant %s", reqs[0].Body, want)
	}
	if got := reqs[0].Header.Get("Authorization"); got != "Bearer sk-upstream-test" {
		t.Errorf("upstream auth = %q", got)
	}
	if resp.Header.Get("X-Llmgw-Provider") != "fake-openai" {
		t.Errorf("provider header %q", resp.Header.Get("X-Llmgw-Provider"))
	}
	if gjson.Get(body, "choices.0.message.content").String() != "hi" {
		t.Errorf("body not passed through: %s", body)
	}
}

func TestFastPathStreamAlwaysAsksUsage(t *testing.T) {
	g := newGateway(t, baseConfig, nil)
	g.up.Enqueue(providertest.Response{SSE: providertest.Load(t, "openai/stream_text.sse")})
	resp, body := g.do("POST", "/v1/chat/completions", `{"model":"gpt","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	up := g.up.Requests()[0].Body
	if !gjson.GetBytes(up, "stream_options.include_usage").Bool() {
		t.Errorf("upstream not asked for usage: %s", up)
	}
	evs := events(t, body)
	want := providertest.DataPayloads(providertest.Load(t, "openai/stream_text.sse"))
	// The usage chunk is stripped: the client did not ask for it.
	if len(evs) != len(want)-1 {
		t.Fatalf("got %d events, want %d (all but the usage chunk)", len(evs), len(want)-1)
	}
	for i, e := range evs[:len(evs)-1] {
		if e != string(want[i]) {
			t.Errorf("event %d changed in transit:\n got %s\nwant %s", i, e, want[i])
		}
	}
	if evs[len(evs)-1] != "[DONE]" {
		t.Errorf("last event %q", evs[len(evs)-1])
	}
}

// Each event reaches the client as it arrives: the first chunk is read while
// the upstream is still holding the rest of its stream.
func TestStreamFlushesEachEvent(t *testing.T) {
	// The idle timeout is far longer than the test waits, so only a flush
	// can bring the first event to the client in time.
	g := newGateway(t, strings.Replace(baseConfig, `"2s"`, `"60s"`, 1), nil)
	capture := providertest.Load(t, "openai/stream_text.sse")
	first := strings.Index(string(capture), "\n\n") + 2
	hold := make(chan struct{})
	defer close(hold)
	g.up.Enqueue(providertest.Response{SSE: capture, Hold: hold, HoldAfter: first})
	resp, err := http.Post(g.http.URL+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"gpt","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got := make(chan string, 1)
	go func() {
		ev, err := sse.NewReader(bufio.NewReader(resp.Body), 0).Next()
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		got <- string(ev.Data)
	}()
	select {
	case data := <-got:
		if !strings.Contains(data, `"role":"assistant"`) {
			t.Errorf("first event = %s", data)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("first chunk did not reach the client while the upstream held the rest")
	}
}

// A client that goes away mid-stream closes the upstream request at once.
func TestClientDisconnectCancelsUpstream(t *testing.T) {
	g := newGateway(t, baseConfig, nil)
	capture := providertest.Load(t, "openai/stream_text.sse")
	hold := make(chan struct{})
	defer close(hold)
	g.up.Enqueue(providertest.Response{SSE: capture, Hold: hold, HoldAfter: strings.Index(string(capture), "\n\n") + 2})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", g.http.URL+"/v1/chat/completions",
		strings.NewReader(`{"model":"gpt","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sse.NewReader(resp.Body, 0).Next(); err != nil {
		t.Fatal(err)
	}
	cancel()
	resp.Body.Close()
	select {
	case <-g.up.Canceled():
	case <-time.After(time.Second):
		t.Fatal("upstream did not see the cancel within 1s")
	}
}

// A failure after the first byte becomes an in-band error event; the stream
// never ends with a [DONE] that would pass it off as complete.
func TestStreamFailureAfterFirstByte(t *testing.T) {
	cases := []struct {
		name string
		resp func(t *testing.T) providertest.Response
		code string
	}{
		{"error inside 200 stream", func(t *testing.T) providertest.Response {
			return providertest.Response{SSE: providertest.Load(t, "openai/stream_error_in_200.sse")}
		}, "upstream_error"},
		{"truncated stream", func(t *testing.T) providertest.Response {
			return providertest.Response{SSE: providertest.Load(t, "openai/stream_truncated.sse"), HangUp: true}
		}, "upstream_error"},
		{"idle upstream", func(t *testing.T) providertest.Response {
			capture := providertest.Load(t, "openai/stream_text.sse")
			hold := make(chan struct{})
			t.Cleanup(func() { close(hold) })
			return providertest.Response{SSE: capture, Hold: hold, HoldAfter: strings.Index(string(capture), "\n\n") + 2}
		}, "upstream_timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := newGateway(t, strings.Replace(baseConfig, `"2s"`, `"200ms"`, 1), nil)
			g.up.Enqueue(tc.resp(t))
			resp, body := g.do("POST", "/v1/chat/completions", `{"model":"gpt","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			evs := events(t, body)
			last := evs[len(evs)-1]
			if last == "[DONE]" || strings.Contains(body, "[DONE]") {
				t.Fatalf("a failed stream ended with [DONE]: %v", evs)
			}
			if got := gjson.Get(last, "error.code").String(); got != tc.code {
				t.Errorf("last event %s, want error code %s", last, tc.code)
			}
			if len(evs) < 2 {
				t.Errorf("want content before the error, got %v", evs)
			}
		})
	}
}

// A failure before the first byte is a proper HTTP error, with Retry-After.
func TestUpstreamErrorBeforeFirstByte(t *testing.T) {
	g := newGateway(t, baseConfig, nil)
	g.up.Enqueue(providertest.Response{Status: 429, Body: providertest.Load(t, "openai/error_429.json"),
		Header: http.Header{"Retry-After": {"7"}}})
	resp, body := g.do("POST", "/v1/chat/completions", `{"model":"gpt","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	// Every target rate limited is every target failing: 503, not the 429
	// that means the caller's own limit at the gateway.
	if resp.StatusCode != 503 || gjson.Get(body, "error.code").String() != "upstream_unavailable" {
		t.Fatalf("status %d body %s", resp.StatusCode, body)
	}
	// The only target asked for 7s, longer than the router waits: one
	// attempt, and the client gets the upstream's wait.
	if resp.Header.Get("Retry-After") != "7" || resp.Header.Get("X-Llmgw-Provider") != "fake-openai" || resp.Header.Get("X-Llmgw-Attempts") != "1" {
		t.Errorf("headers %v", resp.Header)
	}
	// Until then the target gets nothing: 503 at once, with the wait left.
	resp, body = g.do("POST", "/v1/chat/completions", `{"model":"gpt","messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 503 || gjson.Get(body, "error.code").String() != "upstream_unavailable" ||
		resp.Header.Get("Retry-After") == "" || len(g.up.Requests()) != 1 {
		t.Errorf("status %d retry-after %q upstream requests %d body %s", resp.StatusCode, resp.Header.Get("Retry-After"), len(g.up.Requests()), body)
	}

	// A 500 is retried, up to the default of 3 attempts.
	g = newGateway(t, baseConfig, nil)
	e500 := providertest.Response{Status: 500, Body: providertest.Load(t, "openai/error_500.json")}
	g.up.Enqueue(e500, e500, e500)
	resp, body = g.do("POST", "/v1/chat/completions", `{"model":"gpt","messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 502 || gjson.Get(body, "error.code").String() != "upstream_error" || resp.Header.Get("X-Llmgw-Attempts") != "3" {
		t.Errorf("status %d attempts %q body %s", resp.StatusCode, resp.Header.Get("X-Llmgw-Attempts"), body)
	}
}

func TestEmbeddings(t *testing.T) {
	g := newGateway(t, baseConfig, nil)
	for _, model := range []string{"mock", "gpt"} {
		resp, body := g.do("POST", "/v1/embeddings", fmt.Sprintf(`{"model":%q,"input":["a","b"]}`, model))
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d: %s", model, resp.StatusCode, body)
		}
		if n := len(gjson.Get(body, "data").Array()); n != 2 || gjson.Get(body, "object").String() != "list" {
			t.Errorf("%s: %d embeddings in %s", model, n, body)
		}
	}
	resp, body := g.do("POST", "/v1/embeddings", `{"model":"mock"}`)
	if resp.StatusCode != 400 || gjson.Get(body, "error.param").String() != "input" {
		t.Errorf("missing input: %d %s", resp.StatusCode, body)
	}
}
