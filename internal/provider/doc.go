// Package provider defines how the gateway talks to an upstream LLM API: the
// small Provider interface every adapter implements, optional capabilities
// discovered by type assertion (Embedder, Forwarder), the shared upstream
// HTTP client tuned for a proxy, the transport every adapter uses (Upstream
// posts and reads bounded answers; EventStream is the transport half of an
// event stream; credentials stay in each adapter), and the mapping of
// upstream HTTP failures to llm errors. Each upstream API has its own adapter
// in a subpackage.
package provider
