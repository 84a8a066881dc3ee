// Package alert tells an operator, by webhook, that a budget's spending
// has crossed one of its thresholds (by default 50, 80 and 100 percent
// of the limit).
//
// # Messages
//
// Each alert is one message of type "budget.threshold_crossed", a JSON
// body signed as the Standard Webhooks specification says
// (https://www.standardwebhooks.com): the headers webhook-id (the
// message's ID, the same on every attempt, for the receiver to drop a
// message seen twice), webhook-timestamp (the attempt's Unix time in
// seconds) and webhook-signature, "v1," and the base64 HMAC-SHA256 of
// "id.timestamp.body" under the secret ("whsec_" and the base64 of 24 to
// 64 random bytes). Amounts are exact decimal strings of dollars.
//
// # Fired once, delivered from the database
//
// BudgetCrossed is called on the request's path by whoever saw the
// spending cross a threshold. It writes once to the store: the alert is
// claimed (one per budget, window and threshold, so that of many replicas
// seeing the crossing exactly one fires it) and its delivery queued in
// the same transaction. It never waits for the receiver. A failure to
// write is logged; the alert is then lost, which is preferred to holding
// up the request.
//
// A worker goroutine takes due deliveries from the store one at a time,
// each leased to it for Lease (longer than an attempt may take) so that no
// other replica attempts it meanwhile, posts it with a bounded time
// (AttemptTimeout), reads at most a few KB of the answer and records the
// attempt, which ends the lease: 2xx is done; 410 Gone is failed at
// once (the receiver asks for no more); anything else, an error or a
// timeout is tried again after a backoff that grows (5s, 30s, 2m, 10m,
// then every hour), with jitter, until MaxAttempts have been made. Since
// the queue is in the database, a restart or another replica carries on
// with what is pending. An attempt cut short by shutdown is not recorded
// and is made again once its lease lapses: a receiver may then get a
// message twice, which its webhook-id tells.
//
// Redirects are not followed, and the URL is never logged or recorded:
// it may hold a credential.
//
// # Lifetime
//
// A Sender is process state: created once at start when a webhook URL
// is configured, closed at shutdown before the store.
package alert
