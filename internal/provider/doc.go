// Package provider defines how the gateway talks to an upstream LLM API: the
// small Provider interface every adapter implements, optional capabilities
// discovered by type assertion (Embedder, Forwarder, TokenCounter,
// ModelLister), the shared upstream
// HTTP client tuned for a proxy, the transport every adapter uses (Upstream
// posts and reads bounded answers; EventStream is the transport half of an
// event stream; credentials stay in each adapter), and the mapping of
// upstream HTTP failures to llm errors. Each upstream API has its own adapter
// in a subpackage.
//
// An upstream is not trusted with what reaches a client. Every answer body
// Upstream reads and every stream event EventStream returns has the
// provider's secrets (its key, its configured header values) redacted, in
// the forms JSON may write them in: some proxies and self-hosted servers
// echo their request headers, in an error or anywhere else. The search is
// bytes.Contains per secret, and a body is copied only when one is found.
// A stream request answered with JSON or HTML fails at once, and a request
// for JSON answered with an event stream fails too.
//
// Deviation from "never write by hand what a library does": the check the
// adapters run on a 200 body before relaying it, jsonwire.CheckAnswer, is a
// small JSON scanner of the protocol layer (the same walk that checks
// request bodies). gjson's Valid recurses once per level of nesting, so that
// a body of ten million '[' overflows the goroutine stack, a fatal error no
// recover catches; encoding/json's Valid bounds depth without recursion but
// took 4.3 µs on a 700-byte chat completion where CheckAnswer takes about
// 0.8 µs (gjson's 1.2 µs), and CheckAnswer also reports the top-level
// members, which the adapters need, in the same pass
// (jsonwire's BenchmarkCheckAnswer).
//
// Deviation from "standard library first": cleartext (http://) upstreams do
// not go through net/http's Transport but through h1Transport, a keep-alive
// pool of HTTP/1.1 connections whose exchanges run in the calling goroutine.
// The wire format stays net/http's (http.ReadResponse; the request head is
// written as Request.Write writes it, checked by a test), only the pooling
// and the goroutine that does the work are ours. net/http's Transport runs a
// read and a write goroutine per connection and hands every request and
// response between them and the caller; on the two-core benchmark machine
// those hand-offs cost about as much CPU as the rest of a small request's
// proxying, and dropping them took the gateway's CPU per request from above
// the bare httputil.ReverseProxy's to below it (docs/performance.md, change
// 4). TLS upstreams and proxied requests keep net/http's Transport, with
// HTTP/2 where offered.
//
// # Connection metrics
//
// Pools reports llmgw_upstream_connections{provider,state} from counters
// the clients of NewHTTPClient keep (an atomic add when a connection opens
// and one when it closes; nothing per request), read when the registry is
// scraped. Every provider type but the mock sends its upstream calls
// through such a client (bedrock through the AWS SDK's HTTPClient option;
// vertex and azure with Entra also reach their token endpoints through
// it, and those connections count too), so every configured provider's
// calls are covered. Not covered: bedrock's credential fetches (STS, SSO,
// instance metadata), which the AWS SDK makes with its own client when
// the credentials are not static.
// state="open" counts every connection; "idle" and "in_use" are known only
// for the cleartext pool above (net/http's Transport exposes no pool
// state, and an HTTP/2 connection serves many requests at once), so they
// appear only for providers reached over http://. No limit on connections
// per host exists in either transport, so no request ever waits for a
// connection, and waits are not reported.
//
// A client's pool lives as long as the configuration snapshot that built
// it. Retire ends one whose snapshot no longer serves: idle connections
// close at once, busy ones when their request ends. Pools sums, per
// provider name, the pools still alive (held weakly, forgotten once
// retired with no connection left or garbage collected), so a reload
// neither registers twice nor leaves stale series.
package provider
