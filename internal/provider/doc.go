// Package provider defines how the gateway talks to an upstream LLM API: the
// small Provider interface every adapter implements, optional capabilities
// discovered by type assertion (Embedder, Forwarder), the shared upstream
// HTTP client tuned for a proxy, the transport every adapter uses (Upstream
// posts and reads bounded answers; EventStream is the transport half of an
// event stream; credentials stay in each adapter), and the mapping of
// upstream HTTP failures to llm errors. Each upstream API has its own adapter
// in a subpackage.
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
package provider
