// Package router maps the model name a client sends to the upstream targets
// that serve it and dispatches a call to one of them.
//
// A model has one or more targets (a provider and the upstream's own model
// id), chosen by weighted random. A model named "prefix/*" is a wildcard: a
// request for "prefix/x" goes to its targets with every target model "*"
// replaced by "x".
//
// The router is the pipeline's terminal stage. When the call is on the fast
// path and the chosen provider speaks the client's protocol, the body is
// forwarded as it is; otherwise the canonical request is sent.
package router
