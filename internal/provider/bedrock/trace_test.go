package bedrock

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// A request made under a span carries its trace context to Bedrock, added
// to the signed request (it is not among the signed headers); without
// one, none.
func TestTraceContextReachesBedrock(t *testing.T) {
	f := providertest.NewBedrock(t)
	p := newProvider(t, f)
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	ts, _ := trace.ParseTraceState("vendor=opaque")
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled, TraceState: ts})
	for _, ctx := range []context.Context{trace.ContextWithSpanContext(context.Background(), sc), context.Background()} {
		s, err := p.Chat(ctx, &llm.ChatRequest{Model: testModel, Messages: []llm.Message{user("hello")}})
		require.NoError(t, err)
		_, err = collect(t, s)
		require.NoError(t, err)
	}
	reqs := f.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", reqs[0].Header.Get("Traceparent"))
	assert.Equal(t, "vendor=opaque", reqs[0].Header.Get("Tracestate"))
	assert.NotContains(t, reqs[0].Header.Get("Authorization"), "traceparent", "not signed")
	assert.Empty(t, reqs[1].Header.Get("Traceparent"))
}
