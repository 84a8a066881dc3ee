package server

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/llm"
)

// BenchmarkRequestMetrics is what the metrics cost a request at its end
// (a success, and a refusal, whose series are looked up by label), a
// stream per event written, and a request's tokens and cost.
func BenchmarkRequestMetrics(b *testing.B) {
	cfg := compileBench(b)
	s := New(cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	ri := &reqInfo{snap: cfg, model: "gpt", provider: "fake-openai", route: s.m.route(chatRoute), bodyRead: true, reqBytes: 300, tenantLabel: "acme"}
	rec := &recorder{status: 200, bytes: 500, info: ri, m: s.m}
	start := time.Now()
	end := start.Add(30 * time.Millisecond)
	b.Run("success", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.observe(rec, ri, start, end)
		}
	})
	b.Run("refused", func(b *testing.B) {
		ri := *ri
		ri.errCode = llm.KindRateLimited.Code()
		rec := &recorder{status: 429, bytes: 200, info: &ri, m: s.m}
		b.ReportAllocs()
		for b.Loop() {
			s.observe(rec, &ri, start, end)
		}
	})
	b.Run("stream-event", func(b *testing.B) {
		ri := *ri
		ri.stream = true
		rec := &recorder{info: &ri, m: s.m}
		rec.setStatus(200)
		b.ReportAllocs()
		for b.Loop() {
			rec.tick()
		}
	})
	b.Run("usage", func(b *testing.B) {
		u := llm.Usage{PromptTokens: 31, CompletionTokens: 200, CachedTokens: 10}
		b.ReportAllocs()
		for b.Loop() {
			s.observeUsage(ri, &u, 123_000_000, true)
		}
	})
}

func compileBench(b *testing.B) *gateway.Snapshot {
	b.Helper()
	cfg, err := config.Parse([]byte(baseConfig), func(k string) (string, bool) { return "http://upstream.invalid/v1", k == "UPSTREAM" })
	if err != nil {
		b.Fatal(err)
	}
	snap, err := gateway.Compile(cfg, gateway.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return snap
}
