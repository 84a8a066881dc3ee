// Package identity resolves the virtual keys created through the admin
// API (kept in the store) into principals, on the data plane's hot path,
// without a store round trip per request in steady state.
//
// # Lifetime
//
// A Directory is process state: main opens one after the store, every
// configuration snapshot refers to it (gateway.Options.Directory), and it
// is closed on shutdown after the server has drained and before the
// store. A reload never reopens it, so its caches and its place in the
// store's change log survive any number of snapshots. Static keys from
// the configuration file are snapshot state and live in auth.Keys.
//
// # Caches and their bounds
//
// A presented key is first checked for its shape ("sk-llmgw-" and 43
// base64url characters): anything else is unknown without being hashed.
// Then its keyed hash (auth.Hasher, HMAC-SHA256 under a key derived from
// the server secret) is looked up, in order:
//
//   - in the positive cache, hash -> key, tenant and team names and
//     principal, at most Options.MaxKeys entries. Expiry and the end of a
//     rotation grace are checked here, at each lookup, with Options.Now:
//     they need no change to take effect;
//   - in the negative cache, the hashes the store answered unknown,
//     revoked or expired for: at most Options.NegativeSize entries, each
//     kept Options.NegativeTTL at most (the oldest is evicted first);
//   - in the hash index, the first 8 bytes of every hash the store has
//     held (loaded at Open, extended by every change followed). A hash
//     outside it cannot be in the store, and is unknown without a store
//     lookup: a flood of random keys, each different, never reaches the
//     database (only a 64-bit prefix collision would). It holds one
//     entry per current and previous hash of every key, and one per
//     hash rotated out while the process ran.
//
// Only then is the store asked (Keys.GetByHash), once for any number of
// concurrent requests presenting the same key (singleflight), within
// Options.LookupTimeout. The answer is cached, unless a change was
// applied while it was being fetched (it might predate that change).
//
// # Following changes
//
// Every write to a tenant, team or key appends a numbered change to the
// store, carrying the hashes of the key it touched. The Directory reads
// Changes.Head at Open, then reads Changes.Since every
// Options.PollInterval (250ms by default), and at once when
// Options.Notify (PostgreSQL's LISTEN/NOTIFY, Store.Listen) announces a
// change. For a key change it drops the hashes carried from both caches
// and adds them to the index; for a tenant or team change it refreshes
// the names of the cached keys concerned, and for a tenant their
// principals' TenantLimits. A key revoked or rotated on
// any replica is thus refused by every other within the poll interval,
// and within a few milliseconds when NOTIFY works; NOTIFY is only a hint,
// and the polling is what keeps the promise when notifications are lost.
// Sync applies pending changes at once, so that the replica that wrote a
// change sees it before it answers.
//
// # Rate limits
//
// A principal carries its key's rate limits (Principal.Limits) and its
// tenant's (Principal.TenantLimits), so that checking them needs no store
// round trip. A change to either, made on any replica, reaches this one's
// cached keys like any other change: at once on the replica that made it
// (Sync), within the poll interval on the others. A tenant read from the
// store while a change was applied is not cached, as a key is not.
//
// # Store down
//
// A cached key keeps working while the store does not answer; only a
// lookup that needs the store fails, with ErrUnavailable (a 503 on the
// data plane), never with ErrUnknown (a 401). Changes made meanwhile are
// applied once the store answers again.
//
// # Last used
//
// A lookup records the time of use in memory; a flusher writes the times
// of every key used to the store in one Keys.Touch every
// Options.TouchInterval (10s by default) and on Close.
package identity
