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
package server
