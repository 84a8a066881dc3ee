package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/llmgw/llmgw/internal/store"
)

// A database made before limits existed opens with its tenants and keys
// unlimited, and takes limits afterwards.
func TestUpgradeToLimits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for v, f := range []string{"migrations/0001_init.sql", "migrations/0002_audit.sql"} {
		body, err := migrations.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(string(body)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if _, err := db.Exec(`INSERT INTO schema_migrations VALUES (?, 0)`, v+1); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(`INSERT INTO tenants (id, name, created_at) VALUES ('tnt_old', 'old', 1)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO keys (id, tenant_id, name, hash, prefix, created_at)
		VALUES ('key_old', 'tnt_old', 'k', x'01020304050607080910', 'sk-llmgw-old', 1)`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s := openT(t, path)
	tn, err := s.Tenants().Get(t.Context(), "old")
	if err != nil || !tn.Limits.IsZero() {
		t.Fatalf("old tenant after the upgrade: %+v, %v", tn, err)
	}
	k, err := s.Keys().Get(t.Context(), "key_old")
	if err != nil || !k.Limits.IsZero() {
		t.Fatalf("old key after the upgrade: %+v, %v", k, err)
	}
	l := store.Limits{RPM: 5}
	if k, err = s.Keys().Update(t.Context(), k.ID, store.KeyPatch{Limits: &l}); err != nil || k.Limits != l {
		t.Fatalf("limits on an old key: %+v, %v", k.Limits, err)
	}
	if tn, err = s.Tenants().Update(t.Context(), tn.ID, store.TenantPatch{Limits: &l}); err != nil || tn.Limits != l {
		t.Fatalf("limits on an old tenant: %+v, %v", tn.Limits, err)
	}
	// The columns refuse what the store would: no negative limit gets in
	// even by hand.
	if _, err := s.db.Exec(`UPDATE keys SET limit_rpm = -1 WHERE id = 'key_old'`); err == nil {
		t.Fatal("a negative limit was stored")
	}
}
