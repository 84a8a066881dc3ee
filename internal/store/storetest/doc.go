// Package storetest is the conformance suite every store driver runs:
// the same cases, so that the embedded and the shared store cannot drift
// apart in what callers see (errors, ordering, nil versus empty model
// lists, rotation and revocation, change numbers).
package storetest
