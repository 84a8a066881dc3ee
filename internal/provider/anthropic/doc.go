// Package anthropic is the upstream adapter for Anthropic's Messages API
// (provider type anthropic).
//
// Requests go to BaseURL + "/v1/messages" (and "/v1/messages/count_tokens"),
// BaseURL being the API root as Anthropic's SDKs take it
// ("https://api.anthropic.com"), with the x-api-key and anthropic-version
// headers. Translation to and from the wire format lives in
// internal/protocol/anthropic; this package is transport only.
//
// A stream is complete only once message_stop has arrived: a body that ends
// before it is a failed stream (KindUpstream), never a short success. An
// in-stream `error` event is a failure classified like the HTTP status it
// stands for: overloaded_error like 529 (upstream unavailable) and
// rate_limit_error like 429 (an upstream rate limit), both retryable before
// the first byte has reached the client.
//
// The provider is also a Forwarder: an Anthropic client's body is forwarded
// with only the model swapped (and max_tokens defaulted when absent), and
// every stream event is handed back as it came, its usage scanned on the way.
// A forwarded 200 body must be one JSON object of type "message" with a
// "content" array; an error object is that error, anything else an upstream
// error (502, retried). Bodies and events have the provider's key and header
// values redacted (provider.Upstream.Redact).
//
// A cloud that serves the Messages API under its own URLs and
// authentication reuses the adapter whole through Config.URL (the URL of
// each operation for a model), Config.Body (a rewrite of each body before
// it is sent) and Config.RequestHeader (a bearer token per request): Claude
// on Vertex AI (package vertex) takes the model in the URL and
// anthropic_version in the body.
package anthropic
