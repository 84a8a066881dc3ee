// Package server is the gateway's HTTP surface: the http.Server and its
// graceful shutdown, the routes, the HTTP middleware (request ID, recovery,
// access log, authentication) and the one error writer that turns any error
// into the route's error shape.
//
// Handlers decode only what routing needs, hand the call to the pipeline of
// the current configuration snapshot, and write the Stream that comes back
// in the client's protocol. Errors before the first byte of a response
// become a proper HTTP error; after it, an in-band error event and a close,
// never a fake end of stream.
//
// The edge also decides who may be answered at all: with no key configured,
// a web page may not drive the gateway (origin.go); a request must arrive
// within server.read_timeout, and one without a valid key costs no more
// than its headers (deadline.go). A drain that reaches its deadline ends
// the requests left with an error in their protocol before closing their
// connections (server.go).
//
// Probes (health.go, docs/health.md): /healthz does no I/O and answers
// 200 while the process serves; /startupz answers 503 until the process
// has started, then 200; /readyz answers a JSON report per dependency
// (package health) with 503 only when the replica cannot serve: starting,
// draining, a required dependency down (the store; Redis when
// redis.on_failure is closed) or no model with a target that can take a
// request. A server made by NewStarting serves before it has a snapshot,
// so that main can open its listeners before the store: until Start,
// only the probes answer, every other route a 503 with Retry-After.
//
// The model routes (models.go) answer from the snapshot's routes and the
// process's cache of upstream model lists (package catalog), in OpenAI's
// shapes or, when the request carries anthropic-version, Anthropic's: the
// Models API's ModelInfo and its pages, with limit, after_id and before_id
// as Anthropic's reference defines them. A model the caller's key may not
// use is absent from the list and a 404 on its own, exactly as one that
// does not exist, and no cursor reveals it.
//
// The inference routes run behind idempotent (idempotency.go), right after
// authentication: a request with an Idempotency-Key runs once per key of
// its tenant, and its repeats join or replay it (package idempotency). It
// is HTTP middleware rather than a pipeline stage because what it records
// and replays is the response as the client's protocol wrote it, bytes and
// all; and the one leader's record in the ledger is the only one, since its
// joiners never reach a handler. Its leader is no longer ended by its
// client going away: it runs to its end, for the retry to find.
//
// Legacy completions (completions.go) go through the same pipeline as chat
// without ever being decoded: the shape check reads the prompt and the
// output bound that admission reserves (pipeline.Native), the router sends
// them only to targets that forward them, and the answer is written as the
// upstream sent it, its stream's usage event kept only when the client
// asked for it, as chat's.
//
// Every request is measured at the edge (metrics.go): its count by route,
// configured model, provider, status class and error code, its duration,
// its body sizes, and for a stream the time to its first event and the
// gaps between its events; its tokens and cost by tenant and model; a
// refusal for a limit of the caller's by tenant and reason. Labels come
// from the configuration and the store only: the model label is the
// configured model that serves the requested name (a wildcard's pattern),
// "" for an unknown one, and a path no route serves is route "other".
//
// Every request leaves one access log line once it has ended (middleware.go,
// payload.go): who, what, how it went, and the usage and cost its answer's
// stream counted, computed once (reqInfo.finish) for the line and the usage
// record alike. Adding fields costs the line slog's own: one allocation for
// the attributes past the fifth and one per float (BenchmarkAccessLog).
// The bodies of a tenant listed in logging.payloads are logged too, in a
// line of their own just before it (package payloadlog redacts them): the
// recorder keeps the first bytes of the response only for such a request,
// and a stream of one keeps what it delivered (delivered.go) as with a
// ledger, to log its text.
//
// Every request that names a model leaves one usage record once it has
// ended (usage.go). A stream that ends early, its client gone or its
// upstream cut, has usually not received the upstream's usage, which
// comes at the end: it is billed for what it delivered (delivered.go), the
// prompt counted as admission counts it and the output counted from the
// text the client was sent, and its record says so (usage_estimated).
// Counts the upstream reported are never lowered. Keeping the delivered
// output costs a stream a copy of each event (BenchmarkDeliveredRelay:
// about 15 to 25 ns an event beside some 600 ns the gateway spends on it)
// and no allocation; it is decoded only when the stream was cut.
//
// The Responses API (responses*.go) is served to every model: forwarded
// as it is to an OpenAI upstream, translated (package responses) for any
// other. Its state is the gateway's own, kept per tenant in the store
// (store.Responses): a response created with store true (the default) is
// kept, as sent to the client, with its turn's input items, for
// responses.retention. A request that continues one (previous_response_id)
// has the conversation expanded into its input before it is routed (every
// stored turn's input items, then its output items, then the new input)
// and previous_response_id removed, so that the body is self-contained
// and any target can serve it, another upstream account included; the
// answer's previous_response_id is set back to what the client sent.
// Instructions are not carried over, as in OpenAI's API. Reasoning items
// are left out of an expanded history and the other items lose their ids:
// OpenAI's encrypted reasoning can be decrypted only by the organization
// that produced it (another account answers invalid_encrypted_content),
// and item ids refer to an account's own storage, so carrying them would
// tie a conversation to one account. A client that wants reasoning carried
// across turns sends the history itself with store false and include
// reasoning.encrypted_content (the stateless agent shape), which is
// forwarded untouched. A stored response is written before the client is
// sent it (a stream: before its terminal event), so that the next turn
// finds it.
//
// Tracing (trace.go, docs/tracing.md): when the snapshot has a tracer,
// the edge starts each request's span (kind server, child of a valid
// client traceparent) and ends it after the access log and the usage
// record, that is after the whole answer, a stream to its end, with what
// the request came to (the GenAI attributes, usage, cost, tenant and key
// name). Without a tracer, the edge only passes a client's valid
// traceparent on to the upstream requests, and a request without one
// costs tracing nothing.
//
// TLS (tls.go, docs/tls.md): with server.tls the main listener serves
// HTTPS, HTTP/2 and HTTP/1.1 by ALPN, with HTTP/2 limits of its own. Its
// certificate comes from a certReloader, process state made when the
// listener starts and living as long as it: on a handshake at least a
// second after its last look it stats the files and loads a changed pair,
// keeping the one before when the new one does not load. The TLS settings
// themselves are read at start (config.RestartOnly); the mapping of client
// certificates to callers (server.tls.client_identities) is snapshot state,
// auth.Certs, consulted by the edge's authentication when a request carries
// no key.
//
// Overload (overload.go, docs/capacity.md): the inference routes run
// within the replica's concurrency ceilings, server.max_concurrent_requests
// counted at the edge before authentication and server.max_open_streams
// once a body says it is a stream, before any upstream call. Over a
// ceiling a request waits in a short queue (server.overload_queue), first
// come first served, then gets 503 overloaded with Retry-After. The
// ceilings are process state, applied from each snapshot installed: a
// reload changes them for the requests that arrive after it. No other
// route is ever queued or refused by them.
package server
