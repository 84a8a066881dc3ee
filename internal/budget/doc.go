// Package budget holds spending to budgets in US dollars — per key, team
// or tenant, per day, week, month or in total — across every replica.
//
// # Reserve, then settle
//
// Before a call, Reserve takes the call's upper-bound cost (its prompt and
// the largest answer allowed, at the model's price) from every budget that
// applies, in one atomic step: the call is admitted only if, for each
// budget, what was spent plus what is reserved by calls in flight plus
// this estimate stays within the limit. After the call, Settle adds the
// actual cost to what was spent and releases the reservation. So however
// many calls run at once on however many replicas, settled spending
// exceeds a budget by at most what one call's actual cost exceeded its
// estimate, and the estimate is an upper bound.
//
// A reservation carries an expiry (the request timeout and a margin): the
// reservations of a replica that dies are released when they expire, and
// their spending, never settled, is not counted (the usage ledger still
// has whatever the upstream billed).
//
// # Periods
//
// Periods are calendar periods in UTC: a day from midnight, an ISO week
// from Monday, a month from its first day; total never resets. A budget's
// counts are kept per period, so a new period starts at zero.
//
// # Where the counts live
//
// Redis (NewRedis): one Lua script per Reserve and per Settle, on Redis's
// clock, keys under the hash tag {llmgw}. Settles go with group commit
// (Batch): those that arrive while one is on the wire are sent together,
// one pipeline, when it returns; the limits' acquires, which reserve
// budgets, go the same way. The database (NewStore), for
// replicas that share no Redis: one transaction per Reserve and per
// Settle (store.Budgets), on the replica's clock, so replicas' clocks
// should agree to within much less than the reservation TTL. Memory
// (NewMemory): the same semantics in this process, for one replica only.
//
// # Counts that start mid-period
//
// A count Redis does not have (a new period, or Redis restarted empty) or
// the database has not yet stored starts from what the usage ledger has
// of its period: the database's counts from the store's own ledger, as
// the store creates them (once: a count two replicas create at once is
// created by one); Redis's from RedisOptions.Seeder
// (LedgerSeeder), once: the reserve script answers which counts are not
// seeded, the seeder's sum is set by a script that only the first replica
// to get there applies, and the reservation runs again. Spending settled
// on a count Redis lost before it was seeded again is replaced by the
// seed, since the ledger counts those calls (less what its writer has
// not yet flushed).
//
// # Alerts
//
// Settle answers each budget's spending after the call, so that the
// caller can tell which thresholds the call crossed.
//
// # Lifetime
//
// A Budgeter is process state; a budget's limit comes with each request,
// so a changed limit applies at once to the period's counts.
package budget
