// Package router maps the model name a client sends to the upstream targets
// that serve it and keeps answering while some of them fail, without making
// things worse for them.
//
// A model has one or more targets (a provider and the upstream's own model
// id). A model named "prefix/*" is a wildcard: a request for "prefix/x" goes
// to its targets with every target model "*" replaced by "x". The router is
// the pipeline's terminal stage; on the fast path (the provider speaks the
// client's protocol and no stage needs the body) the body is forwarded as
// it is, otherwise the canonical request is sent.
//
// # Attempts
//
// An attempt succeeds only once the first chunk of the answer has arrived,
// within the first-token timeout for a stream; the stream returned replays
// that chunk and goes on. A failure before it (a connection error, a
// timeout, 408, 409, 429, 5xx or Anthropic's 529, an error event) has sent
// nothing to the client and is retried, on another target where there is
// one, after a full-jitter exponential backoff, at most Retry.MaxAttempts
// times per model and never past the request's deadline. A target's
// Retry-After (retry-after-ms, x-ratelimit-reset-*) is honoured: no attempt
// goes to it before then. After the first chunk the stream belongs to the
// client and nothing is retried; the stream idle timeout is enforced here,
// uniformly for every provider, by a timer reset on every chunk.
//
// When every target has failed, the model's fallbacks are tried in order
// (each with its own policy; fallbacks of fallbacks are not followed), or
// its context-window or content-policy list for those rejections, or the
// list named by the x-llmgw-fallbacks header. call.Attempts counts every
// attempt made.
//
// # Balancing and health
//
// Each model spreads requests by its Balancing strategy over the targets
// that are ready: weight above 0, breaker not open, no Retry-After pending.
// A target whose upstream reports little rate-limit headroom left
// (x-ratelimit-remaining-* against x-ratelimit-limit-*, through
// provider.WithHeadroomFunc) sees its effective weight lowered before it
// starts answering 429. When no target is ready a request waits up to
// AllOpenWait for the first to recover, then gets 503 upstream_unavailable.
//
// Each target has a circuit breaker. It is written here rather than taken
// from sony/gobreaker because its cooldown must honour the Retry-After of
// the failure that tripped it, which gobreaker's fixed Timeout cannot, and
// the router needs to know when an open breaker will be ready (to wait for
// the first target to recover rather than fail at once); the state machine
// is small and tested against an injected clock. Only failures that say
// something of the target count: not a client's invalid request or
// cancellation. A failure after the first chunk does not count either: the
// attempt already succeeded.
//
// Health lives in the router, so it starts afresh with each configuration
// snapshot; metrics live in the observe.Registry and survive it.
package router
