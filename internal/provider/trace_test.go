package provider

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/otel/trace"
)

// The trace context of a request's context goes into a copy of the shared
// upstream header, which is left as it is; without one the shared header
// is used, unchanged and not copied.
func TestRequestHeaderCarriesTheTraceContext(t *testing.T) {
	base := http.Header{"Accept": {"application/json"}, "Traceparent": {"00-stale"}}
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid}))
	h := requestHeader(ctx, base, nil)
	assert.Equal(t, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", h.Get("Traceparent"), "replaced, flags kept (not sampled)")
	assert.Equal(t, "00-stale", base.Get("Traceparent"), "the shared header is not modified")
	plain := http.Header{"Accept": {"application/json"}}
	h = requestHeader(context.Background(), plain, nil)
	assert.Empty(t, h.Get("Traceparent"))
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = requestHeader(context.Background(), plain, nil) }))
}
