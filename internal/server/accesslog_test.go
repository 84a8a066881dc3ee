package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/llm"
)

// The access log line has the same fields, in the same order, as ever:
// log pipelines parse it.
func TestAccessLogLineFields(t *testing.T) {
	cfg, err := config.Parse([]byte(baseConfig), func(string) (string, bool) { return "http://upstream.invalid/v1", true })
	if err != nil {
		t.Fatal(err)
	}
	snap, err := gateway.Compile(cfg, gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ri   reqInfo
		keys string
	}{
		{"bare", reqInfo{id: "r1"}, "time level msg request_id method path status duration_ms bytes"},
		{"full", reqInfo{id: "r2", model: "m", stream: true, provider: "p", key: "k", tenant: "t", errCode: "e"},
			"time level msg request_id method path status duration_ms bytes model stream provider key tenant error"},
		// What the end of a call made known comes after, in this order.
		{"outcome", reqInfo{id: "r3", model: "m", stream: true, provider: "p", key: "k", tenant: "t", team: "tm",
			upstreamModel: "um", attempts: 2, ttft: 1500 * time.Microsecond, result: llm.NewSliceStream(nil),
			done: outcome{estimated: true, costKnown: true, costPico: 1_500_000}},
			"time level msg request_id method path status duration_ms bytes model stream provider key tenant " +
				"team upstream_model attempts ttft_ms input_tokens output_tokens cached_tokens cache_write_tokens reasoning_tokens usage_estimated cost_usd"},
	}
	for _, tt := range tests {
		var logs strings.Builder
		s := New(snap, slog.New(slog.NewJSONHandler(&logs, nil)))
		ri := tt.ri
		ri.snap = snap
		r := httptest.NewRequest("POST", "/v1/chat/completions", nil)
		rec := &recorder{ResponseWriter: httptest.NewRecorder(), status: 201, bytes: 42}
		start := time.Now().Add(-1500 * time.Microsecond)
		before := time.Now()
		s.accessLog(r, rec, &ri, start)
		line := strings.TrimSuffix(logs.String(), "\n")
		if strings.Count(line, "\n") != 0 {
			t.Fatalf("%s: not one line: %q", tt.name, line)
		}
		dec := json.NewDecoder(strings.NewReader(line))
		var keys []string
		vals := map[string]any{}
		if _, err := dec.Token(); err != nil {
			t.Fatal(err)
		}
		for dec.More() {
			k, _ := dec.Token()
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
			keys = append(keys, k.(string))
			vals[k.(string)] = v
		}
		if got := strings.Join(keys, " "); got != tt.keys {
			t.Errorf("%s: keys %q, want %q", tt.name, got, tt.keys)
		}
		at, err := time.Parse(time.RFC3339Nano, vals["time"].(string))
		if err != nil || at.Before(before) {
			t.Errorf("%s: time %v not the time of logging (after %v)", tt.name, vals["time"], before)
		}
		if d := vals["duration_ms"].(float64); d < 1.5 {
			t.Errorf("%s: duration_ms %v, want at least 1.5", tt.name, d)
		}
		if tt.name == "outcome" && (vals["ttft_ms"] != 1.5 || vals["cost_usd"] != 1.5e-6 || vals["attempts"] != 2.0 || vals["upstream_model"] != "um") {
			t.Errorf("%s: line %s", tt.name, line)
		}
		if vals["level"] != "INFO" || vals["msg"] != "request" || vals["request_id"] != tt.ri.id || vals["status"] != float64(201) ||
			vals["bytes"] != float64(42) || vals["method"] != "POST" || vals["path"] != "/v1/chat/completions" {
			t.Errorf("%s: line %s", tt.name, line)
		}
	}
	// A logger above INFO logs nothing.
	var logs strings.Builder
	s := New(snap, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
	s.accessLog(httptest.NewRequest("GET", "/", nil), &recorder{}, &reqInfo{snap: snap}, time.Now())
	if logs.Len() != 0 {
		t.Errorf("logged below the level: %s", logs.String())
	}
}

// BenchmarkAccessLog is the access log line of a chat request, to a
// discarding JSON handler: the gateway's own cost of a line.
func BenchmarkAccessLog(b *testing.B) {
	cfg, err := config.Parse([]byte(baseConfig), func(string) (string, bool) { return "http://upstream.invalid/v1", true })
	if err != nil {
		b.Fatal(err)
	}
	snap, err := gateway.Compile(cfg, gateway.Options{})
	if err != nil {
		b.Fatal(err)
	}
	s := New(snap, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	ri := &reqInfo{snap: snap, id: "0123456789abcdef0123456789abcdef", model: "gpt", provider: "openai", key: "bench", tenant: "t",
		upstreamModel: "gpt-4o-mini", attempts: 1, result: llm.NewSliceStream(nil),
		done: outcome{usage: llm.Usage{PromptTokens: 1200, CompletionTokens: 300, CachedTokens: 1024}, costKnown: true, costPico: 450_000_000}}
	r := httptest.NewRequest("POST", "/v1/chat/completions", nil).WithContext(context.Background())
	rec := &recorder{status: 200, bytes: 612}
	start := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		s.accessLog(r, rec, ri, start)
	}
}
