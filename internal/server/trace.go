package server

import (
	"context"
	"net/http"
	"strconv"

	"github.com/tidwall/gjson"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/observe/tracing"
	"github.com/llmgw/llmgw/internal/protocol/anthropic"
	"github.com/llmgw/llmgw/internal/protocol/openai"
	"github.com/llmgw/llmgw/internal/store"
)

// traced is a traced request's span, and what its answer said.
type traced struct {
	span     trace.Span
	observed observed
	attempts int // the upstream attempts made, failed or not
}

// traceContext returns ctx with the request's span started, recorded in
// ri, when tracing is on: kind server, the child of the client's
// traceparent when it sent a valid one. With tracing off, a valid
// traceparent the client sent is put in ctx as it is, so that the
// upstream requests pass it on unchanged (provider.SetTraceContext); a
// request without one costs nothing. The probes' routes (/healthz,
// /readyz, /metrics) are not traced.
func traceContext(ctx context.Context, r *http.Request, ri *reqInfo) context.Context {
	tr := ri.snap.Tracer
	if tr == nil {
		if len(r.Header["Traceparent"]) > 0 {
			ctx = tracing.Extract(ctx, r.Header)
		}
		return ctx
	}
	if probe(r.URL.Path) {
		return ctx
	}
	ctx = tracing.Extract(ctx, r.Header)
	ri.traced = &traced{}
	ctx, ri.traced.span = tr.Tracer().Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(tracing.HTTPMethod.String(llm.Clip(r.Method))))
	return ctx
}

// probe reports whether path is one of the routes that load balancers
// and scrapers poll, which are not traced: a root trace every few
// seconds per prober would bury the requests.
func probe(path string) bool {
	return path == "/healthz" || path == "/readyz" || path == "/metrics"
}

// endSpan ends the request's span, once its answer (the whole stream) is
// written, with what the request came to: the GenAI attributes of the
// call and the answer (u is the request's usage record, when one was
// made: ok), the gateway's own, the HTTP status and, on failure, error.type.
// Its name becomes "{operation} {model}" (the GenAI convention) once a
// model is known, else the route ("POST /v1/models").
func endSpan(t *traced, r *http.Request, rec *recorder, ri *reqInfo, u store.UsageRecord, ok bool) {
	span := t.span
	status := rec.status
	if status == 0 {
		status = 499
	}
	attrs := make([]attribute.KeyValue, 0, 20)
	attrs = append(attrs, tracing.HTTPStatus.Int(status))
	if r.Pattern != "" {
		attrs = append(attrs, tracing.HTTPRoute.String(routeOf(r.Pattern)))
	}
	switch {
	case ri.model != "":
		op := tracing.Operation(r.Pattern == "POST /v1/embeddings", ri.protocol)
		span.SetName(op + " " + llm.Clip(ri.model))
		attrs = append(attrs, tracing.GenAIOperation.String(op), tracing.GenAIRequestModel.String(llm.Clip(ri.model)), tracing.Stream.Bool(ri.stream))
	case r.Pattern != "":
		span.SetName(r.Pattern)
	}
	if ri.key != "" {
		attrs = append(attrs, tracing.Key.String(ri.key), tracing.Tenant.String(ri.tenant))
	}
	if ri.provider != "" {
		attrs = append(attrs, tracing.Provider.String(ri.provider), tracing.UpstreamModel.String(ri.upstreamModel))
		if ri.routeRule != "" {
			attrs = append(attrs, tracing.RouteRule.String(ri.routeRule))
		}
		if typ := providerType(ri.snap.Config, ri.provider); typ != "" {
			attrs = append(attrs, tracing.GenAIProvider.String(tracing.ProviderName(typ)))
		}
	}
	if t.attempts > 0 {
		attrs = append(attrs, tracing.Attempts.Int(t.attempts))
	}
	if c := rec.Header().Get("X-Llmgw-Cache"); c != "" {
		attrs = append(attrs, tracing.Cache.String(llm.Clip(c)))
	}
	if ok && ri.result != nil {
		attrs = append(attrs, tracing.GenAIInputTokens.Int64(u.InputTokens), tracing.GenAIOutputTokens.Int64(u.OutputTokens))
		if u.CostKnown {
			attrs = append(attrs, tracing.CostUSD.Float64(float64(u.CostPico)/1e12))
		}
	}
	if o := &t.observed; o.Stream != nil {
		if o.model != "" {
			attrs = append(attrs, tracing.GenAIResponseModel.String(o.model))
		}
		if o.id != "" {
			attrs = append(attrs, tracing.GenAIResponseID.String(o.id))
		}
		if len(o.reasons) > 0 {
			attrs = append(attrs, tracing.GenAIFinishReasons.StringSlice(o.reasons))
		}
	}
	// error.type names every failure; the span's status is an error only
	// for the gateway's own (5xx), as HTTP server spans have it: a 4xx is
	// the client's.
	if ri.errCode != "" || status >= 500 {
		code := ri.errCode
		if code == "" {
			code = strconv.Itoa(status)
		}
		attrs = append(attrs, tracing.ErrorType.String(code))
		if status >= 500 && status != 499 {
			span.SetStatus(codes.Error, code)
		}
	}
	span.SetAttributes(attrs...)
	span.End()
}

// routeOf returns the path of a ServeMux pattern ("POST /v1/models").
func routeOf(pattern string) string {
	for i := 0; i < len(pattern); i++ {
		if pattern[i] == ' ' {
			return pattern[i+1:]
		}
	}
	return pattern
}

// maxReasons bounds the finish reasons kept of one answer.
const maxReasons = 8

// observed watches the chunks of a traced request's answer for what the
// GenAI conventions record of a response: its model, its id and the
// reasons its choices finished. Chunks the fast path forwards as the
// upstream sent them are read with gjson, for the OpenAI and Anthropic
// formats.
type observed struct {
	llm.Stream
	model, id string
	reasons   []string
}

// Recv implements llm.Stream.
func (o *observed) Recv() (*llm.Chunk, error) {
	c, err := o.Stream.Recv()
	if err == nil && c != nil {
		o.see(c)
	}
	return c, err
}

// Buffered passes on whether the next chunk is in hand.
func (o *observed) Buffered() bool { return llm.NextBuffered(o.Stream) }

func (o *observed) see(c *llm.Chunk) {
	if c.Raw != nil {
		o.seeRaw(c.Raw, c.RawProtocol)
		return
	}
	o.setModel(c.Model, c.ID)
	for i := range c.Choices {
		if r := c.Choices[i].FinishReason; r != "" {
			o.addReason(string(r))
		}
	}
}

func (o *observed) seeRaw(raw []byte, protocol string) {
	switch protocol {
	case openai.Protocol, openai.CompletionsProtocol:
		res := gjson.GetManyBytes(raw, "model", "id", "choices.#.finish_reason")
		o.setModel(res[0].Str, res[1].Str)
		for _, r := range res[2].Array() {
			if r.Str != "" {
				o.addReason(r.Str)
			}
		}
	case anthropic.Protocol:
		res := gjson.GetManyBytes(raw, "model", "id", "message.model", "message.id", "stop_reason", "delta.stop_reason")
		o.setModel(res[0].Str, res[1].Str)
		o.setModel(res[2].Str, res[3].Str)
		for _, r := range res[4:] {
			if r.Str != "" {
				o.addReason(r.Str)
			}
		}
	}
}

func (o *observed) setModel(model, id string) {
	if o.model == "" && model != "" {
		o.model = llm.Clip(model)
	}
	if o.id == "" && id != "" {
		o.id = llm.Clip(id)
	}
}

func (o *observed) addReason(r string) {
	if len(o.reasons) < maxReasons {
		o.reasons = append(o.reasons, llm.Clip(r))
	}
}
