package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/provider/providertest"
	"github.com/llmgw/llmgw/internal/sse"
)

// A drain lets a stream in flight finish, then Run returns nil.
func TestGracefulShutdownDrainsStreams(t *testing.T) {
	up := providertest.NewOpenAI(t)
	cfg, err := config.Parse([]byte(baseConfig), func(k string) (string, bool) { return up.URL, k == "UPSTREAM" })
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
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, ln) }()

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

// A stream that outlives the drain deadline is cut, and Run still returns
// nil soon after the deadline instead of waiting for it.
func TestDrainDeadlineCutsLongStreams(t *testing.T) {
	up := providertest.NewOpenAI(t)
	// The stream idle timeout is far longer than the test may wait, so only
	// the drain deadline can end the request.
	yaml := strings.Replace(baseConfig, `stream_idle_timeout: "2s"`, `stream_idle_timeout: "60s"`+"\n  shutdown_timeout: \"200ms\"", 1)
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
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, ln) }()

	capture := providertest.Load(t, "openai/stream_text.sse")
	hold := make(chan struct{})
	defer close(hold)
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
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run waited past the drain deadline for a stream that never ends")
	}
	for {
		ev, err := r.Next()
		if err != nil {
			break // cut: the connection was closed
		}
		if string(ev.Data) == "[DONE]" {
			t.Fatal("a stream cut by the drain deadline ended with [DONE]")
		}
	}
}
