// Package conformance is the protocol conformance suite: the same scenarios
// (text, system prompt, multi-turn with tool results, tool calls unary and
// streamed with arguments in many pieces, parallel tools, images, every stop
// reason, upstream errors, an error inside a stream, a truncated stream, a
// cancel mid-stream, usage with cache tokens, ...) run through the real
// gateway, in process, for every pair of inbound protocol (what the client
// speaks) and upstream protocol (what the provider speaks), against the fake
// upstreams of package providertest replaying captures written from the
// official API references.
//
// Each scenario records, per pair and mode (unary or streamed), pass, fail or
// n/a with the reason a protocol cannot express it. docs/compatibility.md is
// generated from those results (go test ./internal/conformance
// -run Conformance -update) and the suite fails when the committed file
// differs from what it produced, so the page never drifts from the code.
//
// A new upstream protocol joins by adding its fake to the Harness, a model
// routed to it, and its column to Upstreams; a new inbound protocol by adding
// its request bodies to the scenarios and a Client parser.
//
// It lives apart from providertest because it runs the whole gateway
// (server, gateway, config), which providertest itself must not import.
package conformance
