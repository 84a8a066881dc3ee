package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/observe/tracing"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// benchTraced is BenchmarkChatFastPathInMemory's request with the tracer
// tr (nil: tracing off), and the client's traceparent when not "".
func benchTraced(b *testing.B, tr *tracing.Tracer, traceparent string) {
	body := providertest.Load(b, "openai/chat_text.json")
	yaml := baseConfig + "keys:\n  - name: bench\n    key: sk-bench\n"
	cfg, err := config.Parse([]byte(yaml), func(k string) (string, bool) { return "http://upstream.invalid/v1", k == "UPSTREAM" })
	if err != nil {
		b.Fatal(err)
	}
	snap, err := gateway.Compile(cfg, gateway.Options{UpstreamTransport: memoryUpstream(body), Tracer: tr})
	if err != nil {
		b.Fatal(err)
	}
	h := New(snap, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/v1/chat/completions", strings.NewReader(benchRequest))
		req.Header.Set("Authorization", "Bearer sk-bench")
		if traceparent != "" {
			req.Header.Set("Traceparent", traceparent)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

// benchTracer is a tracer exporting over OTLP/HTTP to a receiver that
// discards what it is sent, sampling every trace.
func benchTracer(b *testing.B) *tracing.Tracer {
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	b.Cleanup(rcv.Close)
	on, ratio := true, 1.0
	s, err := tracing.Resolve(&config.Tracing{Enabled: &on, Endpoint: rcv.URL, SampleRatio: &ratio}, func(string) (string, bool) { return "", false })
	if err != nil {
		b.Fatal(err)
	}
	tr, err := tracing.New(s, "")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	return tr
}

// BenchmarkChatTracingOff is a chat request with tracing off: the same as
// BenchmarkChatFastPathInMemory, which tracing must not make slower.
func BenchmarkChatTracingOff(b *testing.B) { benchTraced(b, nil, "") }

// BenchmarkChatTracingOffTraceparent is tracing off with the client's
// traceparent, which is passed on to the upstream.
func BenchmarkChatTracingOffTraceparent(b *testing.B) { benchTraced(b, nil, clientSampled) }

// BenchmarkChatTracingOn is the request traced: its span and its attempt's,
// exported in batches over OTLP/HTTP.
func BenchmarkChatTracingOn(b *testing.B) { benchTraced(b, benchTracer(b), "") }

// BenchmarkChatTracingOnTraceparent is the traced request continuing the
// client's trace.
func BenchmarkChatTracingOnTraceparent(b *testing.B) { benchTraced(b, benchTracer(b), clientSampled) }
