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
//   - the tracer provider (Options.Tracer, package observe/tracing), with
//     its queue of spans to export, shut down after the drain;
//   - the health of the upstream targets (Options.Health, a
//     router.Health): breakers, Retry-After cool-downs, latency averages,
//     headroom and counters, kept for every target a new configuration
//     keeps (same model, provider name, upstream model and provider
//     identity: type, address and credentials) and forgotten for the
//     others when the new snapshot is activated;
//   - the upstream HTTP clients and their connections (Options.Clients):
//     a provider whose name, address and connection settings are
//     unchanged keeps its client; the others' idle connections are
//     closed on activation, and again once the requests still using them
//     have had server.request_timeout to end;
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
// providers (built anew, over the process's clients), the compiled models
// and targets, the static keys' hashes, the admin token's hash and the
// stage chain.
//
// A reload (package reload) compiles a new snapshot on the same Options and
// swaps it in with server.Server.Swap, which then calls Snapshot.Activate:
// the router built last reports the breaker gauge, the health of removed
// targets and the metric series of removed models are let go, and unused
// clients are retired. Requests in flight keep the snapshot they began
// with, and with it the providers, targets and clients it refers to.
//
// A snapshot's connection pools are reported in the process's registry
// (llmgw_upstream_connections, provider.Pools) beside those of the
// snapshots still serving requests, summed per provider (a client kept
// across snapshots counted once). A client a new snapshot no longer uses
// is retired on activation (provider.Retire, through Clients.Retain): its
// pool closes its idle connections, then each busy one as its request
// ends, and leaves the metric with its last connection. Without Clients
// (tests, the harness), Snapshot.Close retires a snapshot's own.
//
// # Metrics of the dependencies
//
// The store OpenState opens is measured (store.Instrument:
// llmgw_store_operation_duration_seconds and llmgw_store_errors_total), and
// so is every command of the Redis clients OpenLimiter and OpenIdempotency
// open, through a go-redis hook: llmgw_redis_command_duration_seconds and
// llmgw_redis_errors_total, with client "limits" (rate limits and
// budgets, which share one client) or "idempotency", and command the
// command's lower-case name (evalsha or eval for the Lua scripts,
// "pipeline" and "multi" for pipelines and transactions, each measured as
// a whole). A missing key (redis.Nil), NOSCRIPT (go-redis then sends the
// script) and a cancelled call are not errors; a timeout is. The commands
// go-redis sends to set up a new connection (HELLO, CLIENT SETINFO...)
// are measured within the command that needed the connection, not on
// their own: an older Redis refuses CLIENT SETINFO, which go-redis
// ignores, and that is no error of the gateway's. The hook costs 160 to
// 230 ns per command, no allocation, against about 21 µs for a GET on the
// local Redis (BenchmarkRedisHook; go test -run X -bench RedisHook
// -count=3 ./internal/gateway/).
package gateway
