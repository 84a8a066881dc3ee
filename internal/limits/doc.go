// Package limits enforces rate limits — requests per minute, tokens per
// minute and concurrent requests — on any number of subjects at once (a
// key, its tenant, the model, the upstream target), all or nothing: a
// request is admitted only when every limit that applies admits it, and
// then counted against all of them.
//
// # Algorithm
//
// Requests and tokens per minute are GCRA (the generic cell rate
// algorithm, a token bucket kept as one timestamp): a limit of L per
// minute refills one unit every minute/L and holds at most L, so a client
// idle for a minute may spend its whole minute's worth at once, and never
// more than L in any window of a minute plus what refilled during it. No
// fixed window resets at the top of the minute, so there is no double
// burst at its edge. Tokens are reserved before the call (the prompt plus
// the largest answer allowed) and reconciled with the real usage after
// it: Lease.Release gives back what was not used, or takes what was used
// beyond the reservation. Concurrency is a count of open leases.
//
// # Where the counts live
//
// Memory (NewMemory) counts for one replica: N replicas allow N times
// each limit. Redis (NewRedis) counts for every replica sharing it: each
// Acquire is one round trip running one Lua script that checks every
// limit and then applies them all, atomically, on Redis's clock (replicas'
// clocks do not matter). A concurrency lease in Redis carries an expiry,
// so the slots of a replica that dies free themselves. Keys share the
// hash tag {llmgw}, so a Redis Cluster keeps them on one shard and the
// script may touch them all.
//
// # Budgets in the same step
//
// A Request may carry budgets (Request.Spend, package budget): it is
// admitted only when its limits and its budgets all admit it. The Redis
// limiter reserves them inside its own script (budget.ReserveLua): one
// round trip for every limit and budget of a request, and a request
// refused by either takes nothing from the other. Memory counts only
// limits; WithBudgets puts a budgeter beside it (the database's, where
// budgets must hold across replicas without Redis), in two steps: the
// limits, then the budgets, whose refusal gives the limits back (but for
// the request per minute it counted). The lease carries the reservation
// (Lease.Spend), settled with the call's cost when it is known.
//
// # Lifetime
//
// A Limiter is process state: counts must survive configuration reloads.
// A limit's value comes with each request, so a changed limit applies at
// once to the counts already there.
package limits
