package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/provider/providertest"
	"github.com/llmgw/llmgw/internal/sse"
)

// runServer runs the gateway configured by yaml (with ${UPSTREAM} a fake
// OpenAI API) on a loopback listener until cancel; done receives Run's result.
func runServer(t *testing.T, yaml string) (*Server, net.Listener, *providertest.OpenAI, context.CancelFunc, chan error) {
	t.Helper()
	up := providertest.NewOpenAI(t)
	cfg, err := config.Parse([]byte(yaml), func(k string) (string, bool) { return up.URL, k == "UPSTREAM" })
	if err != nil {
		t.Fatal(err)
	}
	snap, err := gateway.Compile(cfg, gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := New(snap, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, ln) }()
	return srv, ln, up, cancel, done
}

// A drain lets a stream in flight finish, then Run returns nil.
func TestGracefulShutdownDrainsStreams(t *testing.T) {
	srv, ln, up, cancel, done := runServer(t, baseConfig)

	capture := providertest.Load(t, "openai/stream_text.sse")
	hold := make(chan struct{})
	up.Enqueue(providertest.Response{SSE: capture, Hold: hold, HoldAfter: strings.Index(string(capture), "\n\n") + 2})
	resp, err := http.Post("http://"+ln.Addr().String()+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"gpt","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := sse.NewReader(resp.Body, 0)
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}

	cancel() // SIGTERM
	// Wait until the server no longer accepts connections: draining began.
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			break
		}
		c.Close()
		if i > 500 {
			t.Fatal("server still accepting after shutdown began")
		}
		time.Sleep(2 * time.Millisecond)
	}
	if !srv.draining.Load() {
		t.Error("readiness must report draining")
	}
	select {
	case err := <-done:
		t.Fatalf("Run returned %v while a stream was in flight", err)
	default:
	}
	close(hold)
	var last string
	for {
		ev, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("stream cut during drain: %v", err)
		}
		last = string(ev.Data)
	}
	if last != "[DONE]" {
		t.Errorf("stream ended with %q, want [DONE]", last)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the drain")
	}
}

// A stream that outlives the drain deadline is cut, with the in-band error
// event of its protocol first (never a fake end of stream), and Run still
// returns nil soon after the deadline instead of waiting for it.
func TestDrainDeadlineCutsLongStreams(t *testing.T) {
	cases := []struct {
		name, path, body string
		// errorEvent reports whether ev is the protocol's error event for a
		// shutdown; done whether it ends the stream as complete.
		errorEvent, done func(ev *sse.Event) bool
	}{
		{"openai", "/v1/chat/completions", `{"model":"gpt","stream":true,"messages":[{"role":"user","content":"hi"}]}`,
			func(ev *sse.Event) bool {
				return gjson.GetBytes(ev.Data, "error.code").Str == "server_shutting_down"
			},
			func(ev *sse.Event) bool { return string(ev.Data) == "[DONE]" }},
		{"anthropic", "/v1/messages", `{"model":"gpt","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"hi"}]}`,
			func(ev *sse.Event) bool {
				return ev.Type == "error" && gjson.GetBytes(ev.Data, "error.type").Str == "overloaded_error" &&
					strings.Contains(gjson.GetBytes(ev.Data, "error.message").Str, "shutting down")
			},
			func(ev *sse.Event) bool { return ev.Type == "message_stop" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// The stream idle timeout is far longer than the test may wait, so only
			// the drain deadline can end the request.
			yaml := strings.Replace(baseConfig, `stream_idle_timeout: "2s"`, `stream_idle_timeout: "60s"`+"\n  shutdown_timeout: \"200ms\"", 1)
			_, ln, up, cancel, done := runServer(t, yaml)

			capture := providertest.Load(t, "openai/stream_text.sse")
			hold := make(chan struct{})
			defer close(hold)
			up.Enqueue(providertest.Response{SSE: capture, Hold: hold, HoldAfter: strings.Index(string(capture), "\n\n") + 2})
			resp, err := http.Post("http://"+ln.Addr().String()+tc.path, "application/json", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			r := sse.NewReader(resp.Body, 0)
			if _, err := r.Next(); err != nil {
				t.Fatal(err)
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run = %v, want nil", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Run waited past the drain deadline for a stream that never ends")
			}
			var last *sse.Event
			for {
				ev, err := r.Next()
				if err != nil {
					break // cut: the connection was closed
				}
				if tc.done(ev) {
					t.Fatalf("a stream cut by the drain deadline ended as complete: %q %s", ev.Type, ev.Data)
				}
				cp := *ev
				cp.Data = append([]byte(nil), ev.Data...)
				last = &cp
			}
			if last == nil || !tc.errorEvent(last) {
				t.Fatalf("the stream did not end with the shutdown error event; last event %+v", last)
			}
		})
	}
}

// A configuration swap takes effect for new requests at once, while a request
// in flight is served to its end from the snapshot it began with.
func TestSwapKeepsInFlightSnapshot(t *testing.T) {
	compile := func(yaml string) *gateway.Snapshot {
		cfg, err := config.Parse([]byte(yaml), nil)
		if err != nil {
			t.Fatal(err)
		}
		snap, err := gateway.Compile(cfg, gateway.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return snap
	}
	oldSnap := compile(`
providers: [{name: mock, type: mock, mock: {tokens_per_second: 50}}]
models: [{name: mock, targets: [{provider: mock, model: mock}]}]
`)
	newSnap := compile(`
server: {access_log: false}
providers: [{name: mock, type: mock}]
models: [{name: other, targets: [{provider: mock, model: mock}]}]
`)
	logs := &syncBuffer{}
	srv := New(oldSnap, slog.New(slog.NewJSONHandler(logs, nil)))
	ts := httptest.NewServer(srv)
	defer ts.Close()
	g := &testGateway{t: t, http: ts}

	resp, err := http.Post(ts.URL+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"mock","stream":true,"messages":[{"role":"user","content":"one two three four five six"}],"x_marker":1}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := sse.NewReader(resp.Body, 0)
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	srv.Swap(newSnap)
	var last string
	for {
		ev, err := r.Next()
		if err != nil {
			break
		}
		last = string(ev.Data)
	}
	if last != "[DONE]" {
		t.Fatalf("the stream in flight did not finish: last event %q", last)
	}
	if resp, _ := g.do("POST", "/v1/chat/completions", fmt.Sprintf(userHello, "mock", "")); resp.StatusCode != 404 {
		t.Errorf("new request for a model the new snapshot lacks: %d", resp.StatusCode)
	}
	if resp, _ := g.do("POST", "/v1/chat/completions", fmt.Sprintf(userHello, "other", "")); resp.StatusCode != 200 {
		t.Errorf("new request for the new snapshot's model: %d", resp.StatusCode)
	}
	// The request in flight is logged under the old snapshot (access log
	// on); the later ones under the new (off).
	if n := strings.Count(logs.String(), `"msg":"request"`); n != 1 {
		t.Errorf("%d access log lines, want 1 (the request begun before the swap):\n%s", n, logs.String())
	}
}

// A request still waiting for its upstream when the drain deadline passes
// is answered 503 server_shutting_down, in its route's shape, rather than
// left with a closed connection.
func TestDrainDeadlineAnswersWaitingRequests(t *testing.T) {
	yaml := strings.Replace(baseConfig, `stream_idle_timeout: "2s"`, `stream_idle_timeout: "60s"`+"\n  shutdown_timeout: \"200ms\"", 1)
	_, ln, up, cancel, done := runServer(t, yaml)
	hold := make(chan struct{})
	defer close(hold)
	// The upstream answers the headers of a JSON answer, then nothing.
	up.Enqueue(providertest.Response{Header: http.Header{"Content-Type": {"application/json"}},
		SSE: []byte(`{"id":"chatcmpl-1","object":"chat.completion","choices":[]}`), Hold: hold, HoldAfter: 1})

	type result struct {
		status int
		body   string
		err    error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.Post("http://"+ln.Addr().String()+"/v1/chat/completions", "application/json",
			strings.NewReader(fmt.Sprintf(userHello, "gpt", "")))
		if err != nil {
			res <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		res <- result{resp.StatusCode, string(b), err}
	}()
	for i := 0; len(up.Requests()) == 0; i++ { // the request is in its handler
		if i > 2000 {
			t.Fatal("the request never reached the upstream")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case r := <-res:
		if r.err != nil || r.status != 503 || gjson.Get(r.body, "error.code").Str != "server_shutting_down" {
			t.Fatalf("waiting request at the drain deadline: %d %q %v", r.status, r.body, r.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no answer after the drain deadline")
	}
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
	http.DefaultClient.CloseIdleConnections()
}
