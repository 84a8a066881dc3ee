// Package gateway compiles a validated configuration into the immutable
// runtime Snapshot the HTTP server serves from: providers with their upstream
// clients, the router, the virtual keys as keyed hashes, and the pipeline
// chain, built once.
//
// A Snapshot is never changed after Compile; a configuration reload compiles
// a new one and swaps it in atomically, while requests in flight keep the
// snapshot they started with.
//
// # What lives how long
//
// Process state is created once in main, handed to every snapshot through
// Options, and closed on shutdown after the drain; a snapshot refers to it
// and never recreates it:
//
//   - the metrics registry (Options.Metrics), so counters carry across
//     snapshots;
//   - the cache of upstream model lists (Options.ModelLists, package
//     catalog) and its background fetches;
//   - the JWT issuers' key sets (Options.JWT), with their refresh timers;
//   - the identity state (State, opened by OpenState): the store (package
//     store) and its connections, the hasher keyed from the server
//     secret, and the audit log (package audit) with its counts of
//     authentication failures not yet written;
//   - the key directory over the store (Options.Directory, package
//     identity) with its caches and its place in the store's change log:
//     a new snapshot neither reopens nor forgets them;
//   - the rate limit counts (Options.Limiter, package limits; OpenLimiter),
//     in memory or behind the Redis connections;
//   - the usage ledger's writer (Options.Ledger, package ledger) with its
//     queue and its spool file;
//   - the sender of budget alerts (Options.Alerts, package alert;
//     OpenAlerts) with its delivery worker;
//   - the Idempotency-Key store (Options.Idempotency, package
//     idempotency; OpenIdempotency): the requests under way per key and
//     the responses kept, in memory or behind its Redis connections;
//   - the active checks of providers (NewChecker, package health): one
//     loop that reads the probes of the snapshot in force at each round
//     and feeds that snapshot's router, stopped after the drain; and the
//     Redis connection readiness pings (Dependencies);
//   - the logger.
//
// Budget reservations (package budget) and response caches follow the
// same rule as they are wired in.
//
// Snapshot state is what the configuration file says and nothing else: the
// providers and their connection pools, the compiled models and targets,
// the static keys' hashes, the admin token's hash and the stage chain.
// The router's breakers, latency averages and headroom are still built
// with the router and so restart with a snapshot (only their counters,
// in the registry, carry over); keeping a kept target's breaker across a
// reload is part of hot reload, which does not exist yet.
package gateway
