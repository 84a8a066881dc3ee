// Package replicas runs real llmgw processes on one PostgreSQL database:
// a key created or revoked in the store reaches every replica within a
// second (with LISTEN/NOTIFY, and by polling alone), and a replica cut
// from its database keeps serving the keys it has cached. The tests need
// LLMGW_TEST_POSTGRES_DSN (a postgres:// URL); each uses a schema of its
// own.
package replicas
