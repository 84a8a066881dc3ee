// Package tracing is the gateway's OpenTelemetry tracing: the process's
// tracer provider, built from the tracing section over the standard OTEL_*
// environment variables, and the names of the attributes its spans carry.
//
// # Configuration
//
// Resolve merges the tracing section with the environment. The variables
// are defaults and what the file sets wins, as the OpenTelemetry
// specification has a programmatic setting win over its variable:
// OTEL_EXPORTER_OTLP_ENDPOINT (a base URL; /v1/traces is appended for
// http/protobuf), OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as it is),
// OTEL_EXPORTER_OTLP_PROTOCOL and its _TRACES_ form (grpc or
// http/protobuf, the default), OTEL_EXPORTER_OTLP_HEADERS and its
// _TRACES_ form, OTEL_EXPORTER_OTLP_CERTIFICATE and its _TRACES_ form,
// OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG. An
// endpoint alone, from either place, turns tracing on. Two variables are
// the operator's switch and win over the file: OTEL_SDK_DISABLED=true and
// OTEL_TRACES_EXPORTER=none turn tracing off. A variable that cannot be
// read stops the start with its name, rather than leaving tracing
// silently off. The exporter still reads the variables it is given no
// option for (OTEL_EXPORTER_OTLP_TIMEOUT, _COMPRESSION).
//
// # What lives how long
//
// A Tracer is process state, like the metrics registry: built once in
// main, handed to every snapshot, and shut down after the server has
// drained and before the stores close, which sends the spans still
// queued. The configuration is read once, at start. A nil *Tracer is
// tracing off: the request path then tests one pointer and starts no
// span, allocating nothing for tracing.
//
// # Spans
//
// Each request has a span of kind server, the child of the client's
// traceparent when it sent a valid one (W3C trace context), named
// "{gen_ai.operation.name} {model}" once the model is known, as the GenAI
// conventions name an inference span that covers every retry, or after
// its route otherwise ("GET /v1/models"). It ends when the answer does,
// the end of a stream included, and carries the GenAI attributes
// (gen_ai.operation.name, gen_ai.provider.name, gen_ai.request.model,
// gen_ai.response.model, gen_ai.response.id, gen_ai.usage.input_tokens,
// gen_ai.usage.output_tokens, gen_ai.response.finish_reasons), HTTP ones
// and the gateway's own (llmgw.*: tenant, key name, attempts, cache, cost).
// Each upstream attempt is a child span of kind client, "{operation}
// {upstream model}", with the provider, attempt number, outcome and, on
// failure, error.type; the upstream request carries its traceparent.
//
// The GenAI conventions are at development stability; the gateway
// follows their current release, which names the provider
// gen_ai.provider.name ("openai", "anthropic", "aws.bedrock",
// "azure.ai.openai", "gcp.gemini", "gcp.vertex_ai", "mistral_ai",
// "cohere"; other types by their type name) and no longer gen_ai.system,
// which is not emitted. Prompts and completions are never recorded.
//
// With tracing off, a valid traceparent (and tracestate) a client sent is
// passed on to the upstream unchanged, as a proxy that is not traced
// would: the upstream's spans join the client's trace.
package tracing
