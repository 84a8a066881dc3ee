// Package sqlite is the embedded store, the default: one file on local
// disk, through modernc.org/sqlite (pure Go, no cgo).
//
// # Lifetime
//
// A Store is process state: main opens it once, every configuration
// snapshot refers to it, and it is closed on shutdown after the usage
// ledger has been flushed. A reload never reopens it.
//
// # Connection settings
//
// Every connection runs in WAL mode (readers never wait for the writer),
// with a busy timeout of BusyTimeout (a writer waits for another instead
// of failing) and foreign keys on (SQLite's default is off). Write
// transactions begin IMMEDIATE, taking the write lock at once, so that a
// transaction never fails half-way trying to upgrade a read lock.
//
// # Schema
//
// Migrations are the numbered files in migrations/, embedded in the
// binary and applied at Open in one immediate transaction, recorded in
// schema_migrations; a second process opening the same file waits on the
// lock and finds them applied. Times are Unix microseconds, the
// precision PostgreSQL keeps.
//
//   - tenants: unique name, because the API and the config file name
//     tenants by it.
//   - teams: unique (tenant_id, name); unique (tenant_id, id) only so that
//     keys can refer to (tenant, team) and never to another tenant's team.
//   - keys: the unique index on hash serves the per-request lookup; the
//     partial index on prev_hash the lookup of a rotated key during its
//     grace; (tenant_id, id) and (team_id, id) the filtered, ordered lists.
//     models is NULL for every model and '[]' for none.
//   - changes: every write to a tenant, team or key, with the key's hashes
//     before and after, for replicas that poll for what changed. Touch
//     writes none. SQLite has one writer at a time, so sequence numbers
//     become visible in order.
//   - usage: the ledger; (tenant_id, at), (team_id, at) and (key_id, at)
//     serve the sums of Ledger.Spend by range search.
//   - budget_counts and budget_reservations: budgets without Redis. Each
//     Reserve and Settle is one immediate transaction, serialized with
//     every other writer of the file (processes included) by the write
//     lock: the counts read are the counts written.
//
// # Compatibility one version back
//
// One gateway writes a SQLite file, so there is no rolling upgrade; a
// rollback runs the previous version on the file this one migrated, and
// the migrator ignores migrations it does not know. Migrations only add,
// as PostgreSQL's do (storetest.ExpandOnly checks every file;
// docs/upgrades.md).
package sqlite
