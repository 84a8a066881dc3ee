package sqlite

import (
	"database/sql"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/llmgw/llmgw/internal/store/storetest"
)

// Every migration only adds to the schema, unless marked as a contract:
// the previous version, after a rollback, runs on the schema this one
// made (docs/upgrades.md).
func TestMigrationsExpandOnly(t *testing.T) {
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("migration files: %v, %v", files, err)
	}
	for _, f := range files {
		body, err := migrations.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range storetest.ExpandOnly(f, string(body)) {
			t.Error(p)
		}
	}
}

// A file the next version has migrated (a migration this binary does not
// know, a table and columns it does not use) opens and serves: a rollback.
func TestOpensNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	openT(t, path).Close()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE next_version_things (id TEXT PRIMARY KEY)`,
		`ALTER TABLE keys ADD COLUMN next_version_owner TEXT`,
		`ALTER TABLE tenants ADD COLUMN next_version_tier TEXT NOT NULL DEFAULT 'standard'`,
		`INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	storetest.ServesKeys(t, openT(t, path))
}
