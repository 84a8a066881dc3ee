// Package auth authenticates callers by virtual key and decides which models
// they may use.
//
// Keys are never held in plaintext: each is stored as an HMAC-SHA256 of the
// key under a secret (a keyed hash), looked up by that hash and confirmed with
// a constant-time comparison. The caller's Principal travels in the request
// context; other sources of principals (JWTs, keys created through the admin
// API) produce the same type.
//
// JWTs (jwt.go) are verified with golang-jwt against the key sets of their
// issuers, found by OIDC discovery (go-oidc) and fetched, cached and
// refreshed by keyfunc. Those key sets are process state (Verifiers), shared
// by every configuration snapshot; a snapshot holds only a JWT, its issuers'
// settings over them.
//
// Client certificates (certs.go): the leaf of a chain the TLS handshake
// verified is mapped by its subject to a principal (Certs), immutable
// snapshot state built from server.tls.client_identities.
//
// Deviation from the pipeline-only layout: authentication runs as HTTP
// middleware, before the request body is read, so an unauthenticated caller
// costs no body read or decode; the per-model check needs the model name and
// runs as the Access pipeline stage.
package auth
