package server

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/pipeline"
	"github.com/llmgw/llmgw/internal/provider/providertest"
	"github.com/llmgw/llmgw/internal/store"
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

// streamBenchEvents is the number of content events of BenchmarkChatStream.
const streamBenchEvents = 200

// streamBenchBody is the upstream's SSE answer of BenchmarkChatStream, one
// frame per element: a role event, the content events, a finish event, the
// usage event and [DONE], shaped like the load harness's upstream.
func streamBenchBody() [][]byte {
	const head = `{"id":"chatcmpl-bench0001","object":"chat.completion.chunk","created":1764000000,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_bench","choices":[{"index":0,"delta":`
	frame := func(s string) []byte { return []byte("data: " + s + "\n\n") }
	ev := [][]byte{frame(head + `{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}`)}
	for i := range streamBenchEvents {
		ev = append(ev, frame(head+`{"content":" tok`+strconv.Itoa(i%100)+`"},"logprobs":null,"finish_reason":null}]}`))
	}
	ev = append(ev, frame(head+`{},"logprobs":null,"finish_reason":"stop"}]}`),
		frame(`{"id":"chatcmpl-bench0001","object":"chat.completion.chunk","created":1764000000,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_bench","choices":[],"usage":{"prompt_tokens":31,"completion_tokens":200,"total_tokens":231}}`),
		frame("[DONE]"))
	return ev
}

// frameReader returns one frame per Read, as an upstream that flushes each
// event does: the gateway cannot coalesce them, and flushes every one.
type frameReader struct {
	frames [][]byte
	off    int
}

func (f *frameReader) Read(p []byte) (int, error) {
	if len(f.frames) == 0 {
		return 0, io.EOF
	}
	n := copy(p, f.frames[0][f.off:])
	if f.off += n; f.off == len(f.frames[0]) {
		f.frames, f.off = f.frames[1:], 0
	}
	return n, nil
}

// memoryStreamUpstream answers every request with the frames, one per Read.
type memoryStreamUpstream [][]byte

func (m memoryStreamUpstream) RoundTrip(r *http.Request) (*http.Response, error) {
	_, _ = io.Copy(io.Discard, r.Body)
	_ = r.Body.Close()
	return &http.Response{
		StatusCode: 200, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"text/event-stream"}},
		Body:          io.NopCloser(&frameReader{frames: m}),
		ContentLength: -1, Request: r,
	}, nil
}

// discardWriter is a client connection that can flush and keeps nothing.
type discardWriter struct {
	h       http.Header
	code    int
	n       int
	flushes int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) WriteHeader(code int)        { d.code = code }
func (d *discardWriter) Write(p []byte) (int, error) { d.n += len(p); return len(p), nil }
func (d *discardWriter) Flush()                      { d.flushes++ }

// BenchmarkChatStream is a streamed chat request of 200 content events
// through the whole in-process pipeline, forwarded by the same-protocol fast
// path, from an upstream in memory that delivers one event per read to a
// client that discards it: the gateway's own cost per stream. Divide by
// the 204 events for the cost per event.
func BenchmarkChatStream(b *testing.B) { benchStream(b, nil) }

// BenchmarkChatStreamLedger is BenchmarkChatStream with a usage ledger,
// which makes the gateway keep what a stream delivered in case it is cut.
func BenchmarkChatStreamLedger(b *testing.B) { benchStream(b, discardLedger{}) }

// discardLedger takes usage records and keeps none.
type discardLedger struct{}

func (discardLedger) Add(store.UsageRecord) {}

func benchStream(b *testing.B, led interface{ Add(store.UsageRecord) }) {
	frames := streamBenchBody()
	yaml := baseConfig + "keys:\n  - name: bench\n    key: sk-bench\n"
	cfg, err := config.Parse([]byte(yaml), func(k string) (string, bool) { return "http://upstream.invalid/v1", k == "UPSTREAM" })
	if err != nil {
		b.Fatal(err)
	}
	snap, err := gateway.Compile(cfg, gateway.Options{UpstreamTransport: memoryStreamUpstream(frames), Ledger: led})
	if err != nil {
		b.Fatal(err)
	}
	h := New(snap, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	body := `{"model":"gpt","messages":[{"role":"user","content":"What is the capital of France?"}],"max_tokens":200,"stream":true,"stream_options":{"include_usage":true}}`
	want := 0
	for _, f := range frames {
		want += len(f)
	}
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer sk-bench")
		w := &discardWriter{h: http.Header{}}
		h.ServeHTTP(w, req)
		if w.code != 200 || w.n != want || w.flushes != len(frames) {
			b.Fatalf("status %d, %d bytes (want %d), %d flushes (want %d)", w.code, w.n, want, w.flushes, len(frames))
		}
	}
}

// BenchmarkDeliveredRelay is what keeping a stream's delivered output costs
// a stream that ends normally: BenchmarkChatStream's 204 forwarded events
// relayed through delivered, against the same events relayed as they are.
func BenchmarkDeliveredRelay(b *testing.B) {
	frames := streamBenchBody()
	chunks := make([]*llm.Chunk, 0, len(frames)-1)
	for _, f := range frames[:len(frames)-1] {
		data := bytes.TrimSuffix(bytes.TrimPrefix(f, []byte("data: ")), []byte("\n\n"))
		chunks = append(chunks, &llm.Chunk{Raw: data, RawProtocol: "openai"})
	}
	relay := func(s llm.Stream) {
		for {
			if _, err := s.Recv(); err != nil {
				return
			}
		}
	}
	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			relay(llm.NewSliceStream(nil, chunks...))
		}
	})
	b.Run("delivered", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			d := delivered{Stream: llm.NewSliceStream(nil, chunks...)}
			relay(&d)
			d.release()
		}
	})
}
