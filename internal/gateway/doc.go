// Package gateway compiles a validated configuration into the immutable
// runtime Snapshot the HTTP server serves from: providers with their upstream
// clients, the router, the virtual keys as keyed hashes, and the pipeline
// chain, built once.
//
// A Snapshot is never changed after Compile; a configuration reload compiles
// a new one and swaps it in atomically, while requests in flight keep the
// snapshot they started with. What outlives snapshots comes in through
// Options, created once by the process: the metrics registry and the cache
// of upstream model lists (package catalog), which every snapshot refers to
// and none recreates.
package gateway
