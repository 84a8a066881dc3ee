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
// clock, keys under the hash tag {llmgw}. Memory (NewMemory): the same
// semantics in this process, for one replica only.
//
// # Lifetime
//
// A Budgeter is process state; a budget's limit comes with each request,
// so a changed limit applies at once to the period's counts.
package budget
