// Package ledgerkill proves, with real llmgw processes on PostgreSQL, what
// the usage ledger promises across a kill -9: a gateway under a steady load
// of requests is killed mid-load, a while after its database stopped taking
// usage records (so that part of them waits in the spool on disk), then
// started again on the same data directory. Every request answered more
// than a second before the kill (the writer's 200 ms flush interval and a
// margin) is in the ledger, once; the spool's replay adds no record twice,
// even when it holds records already inserted (as it does after a crash
// between a replay and the emptying of the spool); and the test reports
// how many of the last second's requests were lost. The test needs
// LLMGW_TEST_POSTGRES_DSN (a postgres:// URL) and uses a schema of its own.
package ledgerkill
