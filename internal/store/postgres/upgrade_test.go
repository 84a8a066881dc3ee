package postgres_test

import (
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/llmgw/llmgw/internal/store"
	"github.com/llmgw/llmgw/internal/store/pgtest"
)

// A database made before limits existed opens with its tenants and keys
// unlimited, and takes limits afterwards.
func TestUpgradeToLimits(t *testing.T) {
	dsn := pgtest.FreshSchema(t)
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	if _, err := conn.Exec(t.Context(), `CREATE TABLE schema_migrations (
		version integer PRIMARY KEY, applied_at timestamptz NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for v, f := range []string{"migrations/0001_init.sql", "migrations/0002_audit.sql"} {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(t.Context(), string(body)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if _, err := conn.Exec(t.Context(), `INSERT INTO schema_migrations VALUES ($1, now())`, v+1); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := conn.Exec(t.Context(), `INSERT INTO tenants (id, name, created_at) VALUES ('tnt_old', 'old', now())`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(t.Context(), `INSERT INTO keys (id, tenant_id, name, hash, prefix, created_at)
		VALUES ('key_old', 'tnt_old', 'k', '\x01020304050607080910'::bytea, 'sk-llmgw-old', now())`); err != nil {
		t.Fatal(err)
	}

	s := openDSN(t, dsn)
	tn, err := s.Tenants().Get(t.Context(), "old")
	if err != nil || !tn.Limits.IsZero() {
		t.Fatalf("old tenant after the upgrade: %+v, %v", tn, err)
	}
	k, err := s.Keys().Get(t.Context(), "key_old")
	if err != nil || !k.Limits.IsZero() {
		t.Fatalf("old key after the upgrade: %+v, %v", k, err)
	}
	l := store.Limits{TPM: 9}
	if k, err = s.Keys().Update(t.Context(), k.ID, store.KeyPatch{Limits: &l}); err != nil || k.Limits != l {
		t.Fatalf("limits on an old key: %+v, %v", k.Limits, err)
	}
	if tn, err = s.Tenants().Update(t.Context(), tn.ID, store.TenantPatch{Limits: &l}); err != nil || tn.Limits != l {
		t.Fatalf("limits on an old tenant: %+v, %v", tn.Limits, err)
	}
	// The columns refuse what the store would: no negative limit gets in
	// even by hand.
	if _, err := conn.Exec(t.Context(), `UPDATE tenants SET limit_tpm = -1 WHERE id = 'tnt_old'`); err == nil {
		t.Fatal("a negative limit was stored")
	}
}
