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
// that chunk and goes on. A chunk that arrives as the first-token or total
// timer fires does not count: the attempt fails and is retried. A failure before it (a connection error, a
// timeout, 408, 409, 429, 5xx or Anthropic's 529, an error event) has sent
// nothing to the client and is retried, on another target where there is
// one, after a full-jitter exponential backoff, at most Retry.MaxAttempts
// times per model and never past the request's deadline. A target's
// Retry-After (retry-after-ms, x-ratelimit-reset-*) is honoured up to the
// model's Retry.MaxRetryAfter (60s by default): no attempt goes to it
// before then, Status shows it cooling_down with the time it ends, Reset
// ends it early, and the Retry-After passed on to the client is cut to the
// same cap, so that one upstream answer cannot take a target out of
// rotation, or keep clients away, for a day. After the first chunk the stream belongs to the
// client and nothing is retried; the stream idle timeout is enforced here,
// uniformly for every provider, by a timer reset on every chunk.
//
// A 401 or 403 from a target means its credentials are wrong or revoked:
// a fault of the target, not of the client. It counts against the target's
// breaker and the request goes on to another target of the model, never to
// the same one again; with none left, to the model's fallbacks.
//
// # Timeouts
//
// First token, stream idle and total are set per model and overridden per
// target; each attempt's context carries them. The connect timeout is set
// per provider (providers[].connect_timeout) and applies to every target
// of that provider: dialing belongs to the provider's HTTP transport, whose
// pool of connections all its targets share, and a dial deadline per model
// would have to give up that reuse (a connection opened within one model's
// deadline serves another's requests). A connection that opens but never
// answers is bounded by the first-token timeout, so a per-model bound on
// the whole wait still holds.
//
// The total timeout needs a timer of the attempt's own only when it ends
// before the request's deadline: when the request's deadline comes first,
// the attempt ends with the request's context and is reported as the
// request deadline passing, never as a total timeout racing it.
//
// When every target has failed, the model's fallbacks are tried in order
// (each with its own policy; fallbacks of fallbacks are not followed), or
// its context-window or content-policy list for those rejections, or the
// list named by the x-llmgw-fallbacks header. A fallback the caller's key
// may not use is skipped (a header naming one is refused): the key's model
// list bounds every model its requests reach. The router learns what the
// caller may use from call.Caller, which the access stage sets; it knows
// nothing of keys or how callers are authenticated (a test in internal
// keeps it from importing internal/auth). call.Attempts counts every
// attempt made.
//
// Each failed attempt is logged once, at WARN, with the request ID, the
// provider, the model and target model, the attempt's number, the
// upstream's status and a short reason sanitized with the provider's
// secrets; never the prompt. A client's cancellation is not logged.
//
// # Balancing and health
//
// Each model spreads requests by its Balancing strategy over the targets
// that are ready: weight above 0, breaker not open, no Retry-After pending.
// A target whose upstream reports little rate-limit headroom left
// (x-ratelimit-remaining-* against x-ratelimit-limit-*, or Anthropic's
// anthropic-ratelimit-*, through provider.WithHeadroomFunc) sees its effective weight lowered before it
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
// Active health checks (providers[].health_check, package health) feed the
// same breakers through ObserveCheck: a failed check counts against every
// target of its provider as a failed attempt would, and a successful one
// closes only a half-open breaker that checks alone opened; one that
// attempts opened waits for its half-open probes, since a model list that
// answers says nothing of a model that fails (check.go).
//
// # Routing rules
//
// A model's Routes (route.go) send some of its requests to targets of
// their own, for A/B tests and canaries: the first route whose Match holds
// (a request header, labels of the caller's key, its tenant; all of them)
// and whose Percent takes the call chooses the targets, else the model's
// own serve. The percent is a stable hash of the model, the route's name
// and the caller's key (call.Caller as a Subject), or of the
// x-llmgw-sticky header without a key, at random without either. The
// router reads the request's headers from call.Header and never lets
// them name an upstream: routes choose among configured targets only.
// A route is built as a model of its own that shares the model's name
// and policy (balancing, retries, timeouts, breaker policy, fallbacks),
// so everything above holds for its targets; their health is kept under
// the route's name (Health), apart from the model's own targets, and
// call.Route names the route that served. llmgw_route_rule_matches_total
// counts each route's calls; a route's targets appear in the breaker
// gauge and in Status under the route.
//
// # Calls with no canonical request
//
// A call marked pipeline.Call.Native (OpenAI's legacy completions) can only
// be forwarded as it is, so only targets whose provider forwards its
// protocol (provider.EndpointForwarder) serve it: the others are passed
// over as if the request avoided them. A model with none is refused with
// 400 invalid_request_error before any upstream call, whatever its
// fallbacks; a model with some is balanced, retried and failed over among
// them alone; a fallback model with none is skipped.
//
// Health (breakers, Retry-After, latency averages, headroom and the
// counters of Status) lives in a Health that the process creates once and
// hands to every router (Options.Health), so that a configuration reload
// keeps it for every target it keeps: same configured model, provider
// name, upstream model id and provider identity (Target.Identity, a digest
// of the provider's type, address and credentials: a provider pointed at
// another upstream or account is a new target). A kept target takes its
// new weight, timeouts, limits and breaker policy at once and keeps its
// breaker's state; a removed one loses its health when the new router is
// activated (Router.Activate, after the swap). A router built without a
// Health keeps its own. Counters and histograms live in the
// observe.Registry; activation deletes the series of models and
// provider-model pairs the new router does not serve. The
// llmgw_breaker_state gauge is computed at each scrape from the router
// activated last (or built last) on the registry, so an open breaker shows
// half-open once its cooldown is over even without traffic, and the
// targets of a replaced configuration disappear from it.
//
// With a tracer (Options.Tracer, the process's), each attempt is a span of
// kind client, child of the request's, from the attempt's start to the end
// of its answer (a failed attempt's ends with its failure): the GenAI
// attributes of the call, the attempt's number and whether it is a retry,
// its outcome (the class of its failure, as in the attempts metric) and
// error.type. The upstream request made in it carries its traceparent.
// Without one, no span and no cost (docs/tracing.md).
package router
