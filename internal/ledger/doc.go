// Package ledger writes the usage ledger — one record per request — to
// the store without a write on the request's path and without losing a
// record.
//
// # How a record travels
//
// Add puts the record on a bounded in-memory queue and returns at once. A
// writer goroutine takes records off in batches (up to BatchSize, or
// whatever arrived within FlushInterval) and inserts each batch in one
// transaction. The ledger is idempotent by request ID, so a batch written
// twice counts once.
//
// When the store fails or does not answer within StoreTimeout, the batch
// is appended to the spool, a file of JSON lines in the data directory,
// synced to disk before the writer moves on; for Cooldown after a failure
// batches go to the spool without trying the store. Once the store answers
// again the spool is replayed in batches and then emptied. A crash during
// the replay replays it again: nothing counts twice. A line cut short by a
// crash while it was written is skipped and logged.
//
// When the queue is full (the writer cannot keep up), Add writes the
// record to the spool itself: the caller waits for the disk rather than
// the record being lost. When the spool has reached SpoolMaxBytes, or the
// disk refuses a write (full), the batch is dropped: counted in Stats and
// logged at ERROR with how many records were lost. That is the one case
// where records are lost, bounded by the operator's choice of size.
//
// # What a crash loses
//
// Close (on graceful shutdown) writes everything queued, to the store or
// the spool. A kill -9 loses what was queued and not yet written: at most
// FlushInterval plus one insert's worth of records (well under a second
// at the defaults).
//
// # Lifetime
//
// A Writer is process state, opened once after the store and closed after
// the server has drained and before the store.
package ledger
