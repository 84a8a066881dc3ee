package server

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkIdempotency measures the Idempotency-Key middleware: "bare" is
// the middleware alone in front of a handler that does nothing, for a
// request without the header (its whole cost on the path of every
// request); the others are whole chat requests through the in-memory
// gateway (compare BenchmarkChatFastPathInMemory): without the header, as
// the leader of a new key each time, and as the replay of one key.
func BenchmarkIdempotency(b *testing.B) {
	b.Run("bare", func(b *testing.B) {
		s := benchGateway(b, false, true).(*Server)
		h := s.idempotent(func(http.ResponseWriter, *http.Request) {})
		req := httptest.NewRequest("POST", "/v1/chat/completions", strings.NewReader(benchRequest))
		rec := httptest.NewRecorder()
		b.ReportAllocs()
		for b.Loop() {
			h(rec, req)
		}
	})
	for _, mode := range []string{"none", "lead", "replay"} {
		b.Run(mode, func(b *testing.B) {
			h := benchGateway(b, false, true)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				req := httptest.NewRequest("POST", "/v1/chat/completions", strings.NewReader(benchRequest))
				req.Header.Set("Authorization", "Bearer sk-bench")
				switch mode {
				case "lead":
					i++
					req.Header.Set("Idempotency-Key", "bench-"+strconv.Itoa(i))
				case "replay":
					req.Header.Set("Idempotency-Key", "bench-replayed")
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
