// Package pipeline composes the domain stages an inference call passes
// through between the HTTP surface and the upstream provider.
//
// A Stage wraps an Invoke, the way HTTP middleware wraps a handler. order.go
// holds the only list of stages and their order; the chain is built once per
// configuration snapshot, never per request. Every stage sees the same Call
// and the Stream that comes back, so streaming and non-streaming requests
// share one path, and a stage that meters usage wraps the returned Stream.
//
// A Call carries the client's body undecoded until something needs the
// canonical request (Call.Decoded). When nothing does and the upstream speaks
// the client's protocol, the router forwards the bytes as they are: the fast
// path.
package pipeline
