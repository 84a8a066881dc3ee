// Package postgres is the store for many replicas sharing one PostgreSQL
// database, through pgx and its connection pool.
//
// # Lifetime
//
// A Store, and its pool, is process state: main opens it once, every
// configuration snapshot refers to it, and it is closed on shutdown
// after the usage ledger has been flushed. A reload never reopens it.
// Listen holds one connection of the pool for as long as it runs.
//
// # Schema
//
// Migrations are the numbered files in migrations/, embedded in the
// binary and applied at Open, each in its own transaction, recorded in
// schema_migrations. Open holds an advisory lock (pg_advisory_lock, on its connection)
// while it migrates, so replicas starting together apply each migration
// once; the others wait, then find nothing to do. The schema is the first
// of the connection's search_path (set it in the DSN, e.g.
// ?search_path=llmgw, to keep the gateway's tables apart).
//
//   - tenants: unique name, because the API and the config file name
//     tenants by it.
//   - teams: unique (tenant_id, name); unique (tenant_id, id) only so that
//     keys can refer to (tenant, team) and never to another tenant's team.
//   - keys: the unique index on hash serves the per-request lookup; the
//     partial index on prev_hash the lookup of a rotated key during its
//     grace (the query is one statement, a BitmapOr over both); (tenant_id,
//     id) and (team_id, id) the filtered, ordered lists. models is a text[]:
//     NULL for every model, '{}' for none.
//   - change_counter and changes: every write to a tenant, team or key,
//     with the key's hashes before and after. The number comes from the
//     single change_counter row, updated in the writing transaction: its
//     row lock serializes writers until commit, so numbers become visible
//     in order and a poller at N never later finds a smaller one appear
//     (a sequence hands numbers out before commit, out of order). Writes to
//     these tables are admin operations, rare enough to serialize.
//   - usage: the ledger; (tenant_id, at), (team_id, at) and (key_id, at)
//     serve the sums of Ledger.Spend by range scan.
//   - budget_counts and budget_reservations: budgets without Redis.
//     Reserve takes one transaction of four round trips: it locks the
//     counts with SELECT ... FOR UPDATE ordered by (subject, period, win)
//     in the "C" collation, whatever the items' order, so that two
//     reservations on overlapping counts never deadlock; releases their
//     expired reservations; decides; holds. A count missing is first
//     created on its own (INSERT ... ON CONFLICT DO NOTHING, holding no
//     other lock, so no creator waits on another in a cycle), seeded from
//     the ledger, and the transaction runs again. Settle locks the same
//     way, then releases and adds in one statement.
//
// # Compatibility one version back
//
// During a rolling upgrade the replicas of the previous version run on
// the schema the new version has migrated, and after a rollback the
// previous version runs on it alone; the migrator applies only the
// migrations it knows and ignores newer ones. So a migration only adds:
// tables, nullable or defaulted columns, non-unique indexes, constraints
// on its own new columns (storetest.ExpandOnly checks every file). What is
// removed is removed by a migration marked "-- contract:", in a release
// after the one that stopped using it. testdata/previous-statements.sql
// holds every statement the previous version issues, recorded from its
// test suite; each must still prepare on the current schema
// (compat_test.go, docs/upgrades.md).
//
// # Notifications
//
// Each change is also announced with NOTIFY on Channel, payload
// "schema:number", sent by PostgreSQL at commit. Listen delivers the
// numbers of its own schema's changes. A notification is a hint to poll
// Changes.Since now rather than later; it is lost when no listener is
// connected, so polling remains the source of truth.
package postgres
