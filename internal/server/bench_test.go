package server

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/pipeline"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

const benchRequest = `{"model":"gpt","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"What is the capital of France? Answer in one word, please."}],"temperature":0.2,"max_tokens":64}`

// memoryUpstream answers every request with a fixed body, without a network:
// what remains of a benchmark is the gateway's own cost.
type memoryUpstream []byte

func (m memoryUpstream) RoundTrip(r *http.Request) (*http.Response, error) {
	_, _ = io.Copy(io.Discard, r.Body)
	_ = r.Body.Close()
	return &http.Response{
		StatusCode: 200, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(m)),
		ContentLength: int64(len(m)), Request: r,
	}, nil
}

// benchGateway is the whole in-process pipeline (handler, middleware, access
// log, key auth, router, OpenAI provider) in front of an upstream that
// answers with a fixed chat.completion: a fake on loopback, or from memory.
func benchGateway(b *testing.B, full, inMemory bool) http.Handler {
	body := providertest.Load(b, "openai/chat_text.json")
	var opts gateway.Options
	url := "http://upstream.invalid/v1"
	if inMemory {
		opts.UpstreamTransport = memoryUpstream(body)
	} else {
		up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(body)
		}))
		b.Cleanup(up.Close)
		url = up.URL + "/v1"
	}
	yaml := baseConfig + "keys:\n  - name: bench\n    key: sk-bench\n"
	cfg, err := config.Parse([]byte(yaml), func(k string) (string, bool) { return url, k == "UPSTREAM" })
	if err != nil {
		b.Fatal(err)
	}
	snap, err := gateway.Compile(cfg, opts)
	if err != nil {
		b.Fatal(err)
	}
	if full {
		fast := snap.Invoke
		snap.Invoke = func(ctx context.Context, c *pipeline.Call) (llm.Stream, error) {
			c.NeedBody() // as a stage that rewrites content would
			return fast(ctx, c)
		}
	}
	return New(snap, slog.New(slog.NewJSONHandler(io.Discard, nil)))
}

func benchChat(b *testing.B, full, inMemory bool) {
	h := benchGateway(b, full, inMemory)
	b.ReportAllocs()
	b.ResetTimer()
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

// BenchmarkChatFastPath is a non-streaming chat request through the whole
// in-process pipeline to a fake upstream on loopback, forwarded by the
// same-protocol fast path.
func BenchmarkChatFastPath(b *testing.B) { benchChat(b, false, false) }

// BenchmarkChatFullPath is the same request decoded into the canonical model,
// re-encoded for the upstream, and the response decoded and re-encoded.
func BenchmarkChatFullPath(b *testing.B) { benchChat(b, true, false) }

// BenchmarkChatFastPathInMemory is BenchmarkChatFastPath with the upstream
// answering from memory: the gateway's own cost alone.
func BenchmarkChatFastPathInMemory(b *testing.B) { benchChat(b, false, true) }

// BenchmarkChatFullPathInMemory is BenchmarkChatFullPath with the upstream
// answering from memory.
func BenchmarkChatFullPathInMemory(b *testing.B) { benchChat(b, true, true) }
