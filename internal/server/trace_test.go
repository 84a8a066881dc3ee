package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/observe/tracing"
	"github.com/llmgw/llmgw/internal/observe/tracing/tracingtest"
	"github.com/llmgw/llmgw/internal/provider/providertest"
	"github.com/llmgw/llmgw/internal/store"
)

// tracedConfig is baseConfig with a key of tenant team-a and quick
// retries.
const tracedConfig = baseConfig + `
keys:
  - name: team-a-app
    key: sk-team-a-secret-key
    tenant: team-a
`

// Trace context of a client: a sampled span and one not sampled.
const (
	clientTrace     = "4bf92f3577b34da6a3ce929d0e0e4736"
	clientSpan      = "00f067aa0ba902b7"
	clientSampled   = "00-" + clientTrace + "-" + clientSpan + "-01"
	clientUnsampled = "00-" + clientTrace + "-" + clientSpan + "-00"
)

// tracedGateway is a gateway whose tracer exports to rcv over protocol,
// with a parent-based sampling ratio.
type tracedGateway struct {
	*testGateway
	tracer *tracing.Tracer
	rcv    *tracingtest.Receiver
}

func newTracedGateway(t *testing.T, protocol string, ratio float64) *tracedGateway {
	t.Helper()
	return newTracedGatewayOf(t, protocol, ratio, tracedConfig, nil)
}

// newTracedGatewayOf is newTracedGateway with the configuration yaml, in
// which ${UPSTREAM} is the fake OpenAI upstream and other ${NAME}s come
// from vars.
func newTracedGatewayOf(t *testing.T, protocol string, ratio float64, yaml string, vars map[string]string) *tracedGateway {
	t.Helper()
	rcv := tracingtest.NewHTTP(t)
	if protocol == config.TracingGRPC {
		rcv = tracingtest.NewGRPC(t)
	}
	on := true
	s, err := tracing.Resolve(&config.Tracing{Enabled: &on, Endpoint: rcv.Endpoint, Protocol: protocol, SampleRatio: &ratio,
		Headers: map[string]config.Secret{"X-Backend-Key": "backend-secret"}}, func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	tr, err := tracing.New(s, "v-test")
	require.NoError(t, err)
	t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	up := providertest.NewOpenAI(t)
	cfg, err := config.Parse([]byte(yaml), func(k string) (string, bool) {
		if k == "UPSTREAM" {
			return up.URL, true
		}
		v, ok := vars[k]
		return v, ok
	})
	require.NoError(t, err)
	snap, err := gateway.Compile(cfg, gateway.Options{Tracer: tr})
	require.NoError(t, err)
	logs := &syncBuffer{}
	srv := New(snap, slog.New(slog.NewJSONHandler(logs, nil)))
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &tracedGateway{testGateway: &testGateway{t: t, srv: srv, http: ts, up: up, logs: logs}, tracer: tr, rcv: rcv}
}

// flush shuts the tracer down, which sends every span still queued, and
// returns the spans received: the batching processor sends nothing of its
// own in a test's time, so what is there was flushed by Shutdown.
func (g *tracedGateway) flush() []tracingtest.Span {
	g.t.Helper()
	require.NoError(g.t, g.tracer.Shutdown(context.Background()))
	return g.rcv.Spans()
}

// spansOf splits spans into the request's (server) span and the attempts'
// (client) spans, in attempt order.
func spansOf(t *testing.T, spans []tracingtest.Span) (tracingtest.Span, []tracingtest.Span) {
	t.Helper()
	var server []tracingtest.Span
	attempts := map[int64]tracingtest.Span{}
	for _, s := range spans {
		switch s.Kind {
		case tracepb.Span_SPAN_KIND_SERVER:
			server = append(server, s)
		case tracepb.Span_SPAN_KIND_CLIENT:
			attempts[s.Attrs["llmgw.attempt"].(int64)] = s
		}
	}
	require.Len(t, server, 1, "one request span: %+v", spans)
	out := make([]tracingtest.Span, 0, len(attempts))
	for i := int64(1); i <= int64(len(attempts)); i++ {
		s, ok := attempts[i]
		require.True(t, ok, "attempt %d has no span: %+v", i, spans)
		out = append(out, s)
	}
	return server[0], out
}

// parseTraceparent returns the trace and parent ids of a traceparent.
func parseTraceparent(t *testing.T, v string) (traceID, parent string) {
	t.Helper()
	parts := strings.Split(v, "-")
	require.Len(t, parts, 4, "traceparent %q", v)
	return parts[1], parts[2]
}

func TestTracingRequestAndAttemptSpans(t *testing.T) {
	for _, protocol := range []string{config.TracingHTTP, config.TracingGRPC} {
		t.Run(protocol, func(t *testing.T) {
			g := newTracedGateway(t, protocol, 1)
			g.up.Enqueue(providertest.Response{Status: 500, Body: []byte(`{"error":{"message":"boom","type":"server_error"}}`)})
			resp, body := g.do("POST", "/v1/chat/completions", fmt.Sprintf(userHello, "gpt", ""),
				"Authorization", "Bearer sk-team-a-secret-key", "traceparent", clientSampled, "tracestate", "vendor=opaque")
			require.Equal(t, 200, resp.StatusCode, body)
			require.Equal(t, "2", resp.Header.Get("X-Llmgw-Attempts"))
			spans := g.flush()
			req, attempts := spansOf(t, spans)
			require.Len(t, attempts, 2)

			// The request span continues the client's trace.
			assert.Equal(t, clientTrace, req.TraceID)
			assert.Equal(t, clientSpan, req.Parent, "the request span's parent is the client's span")
			assert.Equal(t, "chat gpt", req.Name)
			assert.Equal(t, "llmgw", req.Service)
			want := map[string]any{
				"gen_ai.operation.name":          "chat",
				"gen_ai.request.model":           "gpt",
				"gen_ai.provider.name":           "openai",
				"gen_ai.response.model":          "gpt-4o-mini",
				"gen_ai.response.id":             "chatcmpl-echo",
				"gen_ai.response.finish_reasons": []string{"stop"},
				"http.request.method":            "POST",
				"http.route":                     "/v1/chat/completions",
				"http.response.status_code":      int64(200),
				"llmgw.tenant":                   "team-a",
				"llmgw.key":                      "team-a-app",
				"llmgw.provider":                 "fake-openai",
				"llmgw.upstream_model":           "gpt-4o-mini",
				"llmgw.attempts":                 int64(2),
				"llmgw.stream":                   false,
			}
			for k, v := range want {
				assert.Equal(t, v, req.Attrs[k], k)
			}
			assert.Positive(t, req.Attrs["gen_ai.usage.input_tokens"], "input tokens")
			assert.Positive(t, req.Attrs["gen_ai.usage.output_tokens"], "output tokens")
			assert.Positive(t, req.Attrs["llmgw.cost_usd"], "cost")
			assert.NotContains(t, req.Attrs, "gen_ai.system", "the deprecated name is not emitted")

			// Each attempt is a child of the request span, numbered.
			for i, a := range attempts {
				assert.Equal(t, clientTrace, a.TraceID)
				assert.Equal(t, req.SpanID, a.Parent, "attempt %d's parent is the request span", i+1)
				assert.Equal(t, "chat gpt-4o-mini", a.Name)
				assert.Equal(t, "openai", a.Attrs["gen_ai.provider.name"])
				assert.Equal(t, "gpt-4o-mini", a.Attrs["gen_ai.request.model"])
				assert.Equal(t, "fake-openai", a.Attrs["llmgw.provider"])
				assert.Equal(t, i > 0, a.Attrs["llmgw.retry"])
			}
			assert.Equal(t, "upstream_error", attempts[0].Attrs["error.type"])
			assert.Equal(t, int64(500), attempts[0].Attrs["http.response.status_code"])
			assert.Equal(t, tracepb.Status_STATUS_CODE_ERROR, attempts[0].Status)
			assert.Equal(t, "success", attempts[1].Attrs["llmgw.outcome"])
			assert.NotContains(t, attempts[1].Attrs, "error.type")

			// The upstream got a traceparent whose parent is the attempt's
			// span, and the client's tracestate.
			reqs := g.up.Requests()
			require.Len(t, reqs, 2)
			for i, r := range reqs {
				tid, parent := parseTraceparent(t, r.Header.Get("Traceparent"))
				assert.Equal(t, clientTrace, tid)
				assert.Equal(t, attempts[i].SpanID, parent, "upstream request %d's parent", i+1)
				assert.Equal(t, "vendor=opaque", r.Header.Get("Tracestate"))
			}

			// No secret in any attribute.
			for _, s := range spans {
				for k, v := range s.Attrs {
					assert.NotContains(t, fmt.Sprint(v), "secret", "%s of span %s", k, s.Name)
				}
			}
			if protocol == config.TracingHTTP {
				assert.Equal(t, "backend-secret", g.rcv.Header("X-Backend-Key"), "the configured headers are sent with exports")
			}
			// The access log line names the trace.
			assert.Contains(t, g.logs.String(), `"trace_id":"`+clientTrace+`"`)
			assert.Contains(t, g.logs.String(), `"span_id":"`+req.SpanID+`"`)
		})
	}
}

func TestTracingStreamSpanEndsWithTheStream(t *testing.T) {
	g := newTracedGateway(t, config.TracingHTTP, 1)
	resp, body := g.do("POST", "/v1/chat/completions", fmt.Sprintf(userHello, "gpt", `,"stream":true`),
		"Authorization", "Bearer sk-team-a-secret-key")
	require.Equal(t, 200, resp.StatusCode, body)
	req, attempts := spansOf(t, g.flush())
	require.Len(t, attempts, 1)
	assert.Empty(t, req.Parent, "no client traceparent: the request span is a root")
	assert.Equal(t, req.TraceID, attempts[0].TraceID)
	assert.Equal(t, req.SpanID, attempts[0].Parent)
	assert.Equal(t, true, req.Attrs["llmgw.stream"])
	assert.Equal(t, []string{"stop"}, req.Attrs["gen_ai.response.finish_reasons"])
	assert.Equal(t, "gpt-4o-mini", req.Attrs["gen_ai.response.model"])
	// Usage comes at the stream's end: on the span, it ended after it.
	assert.Positive(t, req.Attrs["gen_ai.usage.output_tokens"])
	assert.Positive(t, attempts[0].Attrs["gen_ai.usage.output_tokens"])
	assert.Equal(t, "success", attempts[0].Attrs["llmgw.outcome"])
}

func TestTracingSamplingIsParentBased(t *testing.T) {
	cases := []struct {
		name, traceparent string
		spans             bool
	}{
		{"no parent, ratio 0: no spans", "", false},
		{"a sampled parent: spans", clientSampled, true},
		{"a parent not sampled: no spans", clientUnsampled, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := newTracedGateway(t, config.TracingHTTP, 0)
			headers := []string{"Authorization", "Bearer sk-team-a-secret-key"}
			if tc.traceparent != "" {
				headers = append(headers, "traceparent", tc.traceparent)
			}
			resp, body := g.do("POST", "/v1/chat/completions", fmt.Sprintf(userHello, "gpt", ""), headers...)
			require.Equal(t, 200, resp.StatusCode, body)
			spans := g.flush()
			if tc.spans {
				req, attempts := spansOf(t, spans)
				assert.Equal(t, clientSpan, req.Parent)
				assert.Len(t, attempts, 1)
				assert.Contains(t, g.logs.String(), `"trace_id":"`+clientTrace+`"`)
				return
			}
			assert.Empty(t, spans)
			assert.NotContains(t, g.logs.String(), `"trace_id"`, "a span not recorded is not logged")
			// The trace context still goes on, the sampled flag kept.
			if tc.traceparent != "" {
				tid, _ := parseTraceparent(t, g.up.Requests()[0].Header.Get("Traceparent"))
				assert.Equal(t, clientTrace, tid)
				assert.True(t, strings.HasSuffix(g.up.Requests()[0].Header.Get("Traceparent"), "-00"))
			}
		})
	}
}

func TestTracingOffPassesTheClientTraceparentOn(t *testing.T) {
	g := newGateway(t, baseConfig, nil)
	resp, body := g.do("POST", "/v1/chat/completions", fmt.Sprintf(userHello, "gpt", ""), "traceparent", clientSampled, "tracestate", "vendor=opaque")
	require.Equal(t, 200, resp.StatusCode, body)
	resp, body = g.do("POST", "/v1/chat/completions", fmt.Sprintf(userHello, "gpt", ""), "traceparent", "00-not-a-valid-header")
	require.Equal(t, 200, resp.StatusCode, body)
	resp, body = g.do("POST", "/v1/chat/completions", fmt.Sprintf(userHello, "gpt", ""))
	require.Equal(t, 200, resp.StatusCode, body)
	reqs := g.up.Requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, clientSampled, reqs[0].Header.Get("Traceparent"), "passed on unchanged")
	assert.Equal(t, "vendor=opaque", reqs[0].Header.Get("Tracestate"))
	assert.Empty(t, reqs[1].Header.Get("Traceparent"), "an invalid traceparent is not passed on")
	assert.Empty(t, reqs[2].Header.Get("Traceparent"))
	assert.NotContains(t, g.logs.String(), `"trace_id"`)
}

func TestTracingSkipsProbesButNotOtherRoutes(t *testing.T) {
	g := newTracedGateway(t, config.TracingHTTP, 1)
	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/v1/models"} {
		resp, body := g.do("GET", path, "", "Authorization", "Bearer sk-team-a-secret-key")
		require.Equal(t, 200, resp.StatusCode, "%s: %s", path, body)
	}
	spans := g.flush()
	require.Len(t, spans, 1, "%+v", spans)
	assert.Equal(t, "GET /v1/models", spans[0].Name)
	assert.Equal(t, "/v1/models", spans[0].Attrs["http.route"])
	assert.Equal(t, "team-a", spans[0].Attrs["llmgw.tenant"])
}

// With tracing off, a request without a traceparent costs tracing
// nothing: no allocation at the edge, and the upstream request's shared
// header is used as it is.
func TestTracingOffAllocatesNothing(t *testing.T) {
	snap := compileConfig(t, baseConfig, map[string]string{"UPSTREAM": "http://upstream.invalid/v1"}, gateway.Options{})
	ri := &reqInfo{snap: snap}
	r := httptest.NewRequest("POST", "/v1/chat/completions", nil)
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() {
		if traceContext(ctx, r, ri) != ctx {
			t.Fatal("the context changed")
		}
	})
	assert.Zero(t, allocs)
	assert.Nil(t, ri.traced)
}

// Each route's request span: its operation, its name, the provider's
// GenAI name and finish reasons, read from the canonical chunks (mock,
// a translated answer) or from the upstream's bytes (the fast path, in
// OpenAI's and Anthropic's formats); a request that fails records its
// error.
func TestTracingRoutes(t *testing.T) {
	ant := providertest.NewAnthropic(t)
	yaml := strings.Replace(tracedConfig, "models:\n", `models:
  - name: claude
    targets: [{provider: fake-anthropic, model: "claude-sonnet-4-5"}]
  - name: down
    retry: {max_attempts: 2}
    targets: [{provider: fake-openai, model: "gpt-4o-mini"}]
`, 1)
	yaml = strings.Replace(yaml, "providers:\n", "providers:\n  - name: fake-anthropic\n    type: anthropic\n    base_url: \"${ANTHROPIC}\"\n    api_key: sk-ant-test\n", 1)
	g := newTracedGatewayOf(t, config.TracingHTTP, 1, yaml, map[string]string{"ANTHROPIC": ant.URL})
	g.up.Enqueue(providertest.Response{Status: 503, Body: []byte(`{"error":{"message":"overloaded","type":"server_error"}}`)},
		providertest.Response{Status: 503, Body: []byte(`{"error":{"message":"overloaded","type":"server_error"}}`)})
	cases := []struct {
		path, body       string
		status           int
		name, op, system string
		reasons          []string
		errorType        string
	}{
		{"/v1/chat/completions", fmt.Sprintf(userHello, "down", ""), 503, "chat down", "chat", "", nil, "upstream_unavailable"},
		{"/v1/chat/completions", fmt.Sprintf(userHello, "nope", ""), 404, "chat nope", "chat", "", nil, "model_not_found"},
		{"/v1/chat/completions", fmt.Sprintf(userHello, "mock", ""), 200, "chat mock", "chat", "mock", []string{"stop"}, ""},
		{"/v1/messages", `{"model":"claude","max_tokens":50,"messages":[{"role":"user","content":"Hello there"}]}`, 200, "chat claude", "chat", "anthropic", []string{"end_turn"}, ""},
		{"/v1/messages", `{"model":"claude","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"Hello there"}]}`, 200, "chat claude", "chat", "anthropic", []string{"end_turn"}, ""},
		{"/v1/chat/completions", fmt.Sprintf(userHello, "claude", ""), 200, "chat claude", "chat", "anthropic", []string{"stop"}, ""},
		{"/v1/completions", `{"model":"gpt","prompt":"Say hi"}`, 200, "text_completion gpt", "text_completion", "openai", []string{"stop"}, ""},
		{"/v1/embeddings", `{"model":"gpt","input":"Hello"}`, 200, "embeddings gpt", "embeddings", "openai", nil, ""},
	}
	for _, tc := range cases {
		resp, body := g.do("POST", tc.path, tc.body, "Authorization", "Bearer sk-team-a-secret-key", "traceparent", clientSampled)
		require.Equal(t, tc.status, resp.StatusCode, "%s %s: %s", tc.path, tc.name, body)
	}
	var reqs []tracingtest.Span
	for _, s := range g.flush() {
		if s.Kind == tracepb.Span_SPAN_KIND_SERVER {
			reqs = append(reqs, s)
		}
	}
	require.Len(t, reqs, len(cases))
	for i, tc := range cases {
		s := reqs[i]
		t.Run(fmt.Sprintf("%d %s", i, tc.name), func(t *testing.T) {
			assert.Equal(t, tc.name, s.Name)
			assert.Equal(t, tc.op, s.Attrs["gen_ai.operation.name"])
			assert.Equal(t, int64(tc.status), s.Attrs["http.response.status_code"])
			assert.Equal(t, tc.path, s.Attrs["http.route"])
			if tc.system != "" {
				assert.Equal(t, tc.system, s.Attrs["gen_ai.provider.name"])
			}
			if tc.reasons != nil {
				assert.Equal(t, tc.reasons, s.Attrs["gen_ai.response.finish_reasons"])
			}
			switch {
			case tc.errorType != "" && tc.status >= 500:
				assert.Equal(t, tc.errorType, s.Attrs["error.type"])
				assert.Equal(t, tracepb.Status_STATUS_CODE_ERROR, s.Status)
				assert.Equal(t, int64(2), s.Attrs["llmgw.attempts"])
			case tc.errorType != "":
				assert.Equal(t, tc.errorType, s.Attrs["error.type"])
				assert.Equal(t, tracepb.Status_STATUS_CODE_UNSET, s.Status, "a client's error is not the server's")
			default:
				assert.NotContains(t, s.Attrs, "error.type")
			}
		})
	}
}

// The response cache's verdict, when a stage answered with one, is on the
// request span.
func TestTracingCacheVerdict(t *testing.T) {
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	_, span := tp.Tracer("test").Start(context.Background(), "POST")
	snap := compileConfig(t, baseConfig, map[string]string{"UPSTREAM": "http://upstream.invalid/v1"}, gateway.Options{})
	w := httptest.NewRecorder()
	w.Header().Set("X-Llmgw-Cache", "hit")
	rec := &recorder{ResponseWriter: w, status: 200}
	r := httptest.NewRequest("POST", "/v1/chat/completions", nil)
	endSpan(&traced{span: span}, r, rec, &reqInfo{snap: snap, model: "gpt", protocol: "openai"}, store.UsageRecord{}, false)
	ended := sr.Ended()
	require.Len(t, ended, 1)
	attrs := map[string]string{}
	for _, kv := range ended[0].Attributes() {
		attrs[string(kv.Key)] = kv.Value.String()
	}
	assert.Equal(t, "hit", attrs["llmgw.cache"])
	assert.Equal(t, "chat gpt", ended[0].Name())
}
