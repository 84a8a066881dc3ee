// Package store defines the gateway's persistent state — tenants, teams
// and virtual keys, with room for budgets, the usage ledger and the audit
// log — as small interfaces by concern, and the types and errors every
// driver shares. The drivers are store/sqlite (embedded, the default) and
// store/postgres (shared by many replicas); storetest is the conformance
// suite both run.
//
// # Lifetime
//
// A Store is process state: main opens it once, every configuration
// snapshot refers to it, and it is closed on shutdown, after the usage
// ledger has been flushed. A reload never reopens it.
//
// # Semantics every driver keeps
//
//   - The store never sees a key's plaintext: Key.Hash is a keyed hash the
//     caller computes, and the hot path is Keys.GetByHash, one indexed
//     query. It also matches a previous hash during its rotation grace, and
//     returns revoked and expired keys so that the caller can tell them
//     from unknown ones (Key.Usable).
//   - Key.Models nil means every model, empty means none, and the
//     difference survives storage.
//   - Key.Limits and Tenant.Limits (requests and tokens per minute,
//     requests in flight) are 0 for "no limit", stored as NULL, never
//     negative (ErrInvalid). A patch replaces the three together. Changing
//     them is a change like any other, so replicas refresh their caches.
//   - Names are unique: a tenant's globally, a team's and a key's within
//     their tenant (ErrConflict). A tenant or team that still owns
//     something is not deleted (ErrConflict): nothing disappears as a side
//     effect.
//   - Lists are ordered by ID, which begins with the creation time in
//     nanoseconds, and paged with an opaque cursor (the last ID seen), so
//     that rows created while a client pages never make it see one twice.
//   - Every write to a tenant, team or key appends a numbered change in the
//     same transaction; replicas that cache keys poll Changes.Since with
//     the last number they saw, and numbers become visible in order, so a
//     poller misses none. Keys.Touch (last-used times) is deliberately not
//     a change: it is frequent, batched and of no interest to a cache.
//   - Budgets (store.Budgets) are counts per subject, period and window
//     with the reservations of calls in flight: Reserve holds an estimate
//     on every count or on none, in one transaction, so that replicas
//     sharing the database admit a budget's spending once; a count is
//     created seeded with its window's spending in the ledger; expired
//     reservations are released by the next Reserve on their count and
//     not counted by Spent.
//   - An alert (a budget's threshold crossed in one window) is claimed
//     once, whatever the number of replicas that see the crossing, and its
//     webhook delivery is queued in the same transaction. The queue is in
//     the database: Alerts.Due leases due deliveries to one taker
//     (PostgreSQL: FOR UPDATE SKIP LOCKED, then a lease time), so replicas
//     share the sending and a restart carries on; every attempt is kept.
//   - Stored responses of the Responses API (store.Responses) belong to a
//     tenant: the key of a row is (tenant, response id), and no read,
//     chain or deletion crosses tenants. Input items and response object
//     are kept as JSON text, byte for byte (CheckResponse bounds them to
//     MaxStoredResponse together). Chain follows previous ids back with
//     one recursive query (WITH RECURSIVE, in both databases), at most
//     MaxChain rows, stopping at a deleted or expired link. Every row has
//     its expiry, fixed when stored; expired rows are never returned and
//     Purge removes them in batches.
//   - Times are kept to the microsecond, in UTC.
//
// # Metrics
//
// Instrument wraps a Store so that every call of its interfaces is
// measured, whatever the driver, at this one point rather than in each
// query: llmgw_store_operation_duration_seconds{driver,op} and
// llmgw_store_errors_total{driver,op}, driver "sqlite" or "postgres", op
// the interface and method in lower case ("keys.get_by_hash",
// "ledger.insert", "ping"), so the labels are bounded by the code; every
// operation's series exist from the start, at zero. The process's store is
// wrapped when it is opened (gateway.OpenState); a PostgreSQL store's
// LISTEN connection (postgres.Store.Listen), held open for notifications,
// is not a call and is not measured. Close is not measured.
//
// What counts as an error (Failure): anything but the answers a caller
// expects and handles — ErrNotFound (an unknown key on the hot path is a
// client's mistake, not the database's), ErrConflict, ErrInvalid — and
// context.Canceled (the caller gave up: a client that went away). A
// context deadline that ran out counts: the store was too slow.
//
// Cost (BenchmarkOpDone, BenchmarkInstrument; go test -run X -bench
// 'Instrument|OpDone' -count=3 ./internal/store/ on the two-core
// benchmark machine): the observation itself takes 145 to 180 ns, no
// allocation; Keys.GetByHash, the per-request lookup, takes about 40 to
// 50 µs on either driver with or without it, the difference lost in the
// noise of the query (under 1%).
package store
