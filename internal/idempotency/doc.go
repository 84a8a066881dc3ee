// Package idempotency runs a request that carries an Idempotency-Key header
// at most once per key of a tenant, and answers its repeats with the same
// response.
//
// # Semantics
//
// A key is scoped to the caller's tenant: two tenants using the same key
// never meet. It is 1 to 255 printable ASCII characters (ValidKey); any
// other value is a 400 naming the header. The request it names is its
// method, path and body, compared by SHA-256 (FingerprintOf).
//
//   - The first request with a key leads: it runs, and its response
//     (status, the headers worth replaying, body; for a stream, the
//     Server-Sent Events bytes as they are written) is recorded.
//   - A repeat while the leader runs joins it: it gets the bytes written
//     so far, then the rest as they are written, so a streamed answer is
//     the same well-formed stream. On another replica (Redis), it waits
//     for the result to be kept, polling with a backoff, then replays it.
//   - A repeat after the leader finished replays the kept response.
//   - A repeat with another body or route is a 409,
//     idempotency_key_conflict.
//
// The upstream is called once and the usage ledger gets one record:
// joiners and replays do not reach the pipeline. Their responses carry
// "Idempotent-Replayed: true", the response header Stripe's API uses for a
// replayed idempotent request (https://docs.stripe.com/api/idempotent_requests).
//
// # What is kept
//
// A response is kept, for a replay, only when it is a final answer the
// client should get again: a success (2xx) that did not end in an error
// event, or a refusal of the request's own body (400, 413, 422). Anything
// a retry may cure (401, 403, 404, 408, 409, 429, 499, every 5xx, a stream
// cut short by its upstream or by a timeout) frees the key: the next
// request with it runs anew. Requests that joined a leader get its
// response whatever it was, as its own client does. A leader that ends
// with nothing to give (it wrote nothing), or a flight abandoned because
// the key turned out to be held or kept already, sends its joiners to
// begin again; a request that finds such a flight still in place waits
// for it to be removed rather than join it again.
//
// A response larger than the largest record (Options.MaxRecordBytes) is
// not kept. The key is freed as soon as the response outgrows it, so a
// retry runs the request again (a second upstream call); a joiner that had
// begun to copy it is cut (ErrTruncated), and sees a broken response,
// never a complete-looking one.
//
// # Where records live
//
// Without Redis, in this process's memory: results expire TTL after they
// are kept (by Options.Now, injectable), and their total size stays within
// Options.MaxBytes, the oldest dropped first.
//
// With Redis (Options.Redis), every replica shares them. The leader takes
// the key with SET NX and a lease (Options.Lease, 10 s by default),
// renewed every third of its length while the request runs; the result
// replaces the lease, with the TTL. Every change is a script that checks
// the lease is still the caller's, so a leader whose lease passed to
// another never overwrites it. A leader whose replica died stops renewing:
// its lease expires and the next request with the key leads. Within one
// replica, joiners follow the leader's bytes live, as without Redis.
//
// While Redis does not answer, the store follows redis.on_failure: open
// (the default) serves keyed requests without it, logging a warning: a
// request leads, joined only by repeats on its own replica, and nothing is
// kept; closed refuses them with 503.
//
// # Standards
//
// The header is the one of the IETF HTTPAPI draft "The Idempotency-Key
// HTTP Header Field" (draft-ietf-httpapi-idempotency-key-header), which
// makes the key a structured-field string: the gateway takes the header's
// value as it comes, quotes included, so both Stripe-style bare keys and
// the draft's quoted ones work. Where the draft answers a concurrent
// repeat with 409 and a reused key with 422, the gateway joins the
// concurrent one (an LLM call is long, and its retries come while it
// runs) and answers a reused key with 409, as its contract fixes.
//
// # What lives how long
//
// A Store is process state, created once (gateway.OpenIdempotency) and
// handed to every configuration snapshot: a reload keeps its flights and
// results.
package idempotency
