package router

import (
	"context"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/observe/tracing"
	"github.com/llmgw/llmgw/internal/pipeline"
)

// startAttempt starts the span of attempt a, the call's n-th, as a child
// of ctx's span (the request's): kind client, named after the GenAI
// convention "{operation} {upstream model}". The upstream request made
// with the context returned carries it in its traceparent. With tracing
// off it returns ctx and nil, and costs nothing.
func (r *Router) startAttempt(ctx context.Context, a *attempt, n int) (context.Context, trace.Span) {
	if r.tracer == nil {
		return ctx, nil
	}
	op := tracing.Operation(a.call.Op == pipeline.OpEmbed, a.call.Protocol)
	return r.tracer.Start(ctx, op+" "+a.model, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		tracing.GenAIOperation.String(op),
		tracing.GenAIProvider.String(a.t.System),
		tracing.GenAIRequestModel.String(a.model),
		tracing.Provider.String(a.t.Provider.Name()),
		tracing.Model.String(a.m.Name),
		tracing.Attempt.Int(n),
		tracing.Retry.Bool(n > 1),
	))
}

// failAttempt ends the span of a failed attempt with its error's kind
// (error.type), the router's class of the failure and the upstream's
// status, when it answered.
func failAttempt(span trace.Span, err error) {
	if span == nil {
		return
	}
	e := llm.AsError(err)
	span.SetAttributes(tracing.Outcome.String(classify(err).outcome), tracing.ErrorType.String(e.Kind.Code()))
	if e.UpstreamStatus != 0 {
		span.SetAttributes(tracing.HTTPStatus.Int(e.UpstreamStatus))
	}
	span.SetStatus(codes.Error, e.Kind.Code())
	span.End()
}

// endAttempt ends the span of a successful attempt when its stream ends,
// with the usage the upstream reported and, when the stream failed after
// its first chunk, the error.
func endAttempt(span trace.Span, u llm.Usage, err error) {
	if span == nil {
		return
	}
	span.SetAttributes(tracing.Outcome.String("success"),
		tracing.GenAIInputTokens.Int(u.PromptTokens), tracing.GenAIOutputTokens.Int(u.CompletionTokens))
	if err != nil {
		e := llm.AsError(err)
		span.SetAttributes(tracing.ErrorType.String(e.Kind.Code()))
		span.SetStatus(codes.Error, e.Kind.Code())
	}
	span.End()
}
