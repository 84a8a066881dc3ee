// Package admintest builds the admin API's process state for tests: a
// real store, the keyed hasher and the audit log over it.
package admintest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/llmgw/llmgw/internal/admin"
	"github.com/llmgw/llmgw/internal/audit"
	"github.com/llmgw/llmgw/internal/auth"
	"github.com/llmgw/llmgw/internal/store"
	"github.com/llmgw/llmgw/internal/store/sqlite"
)

// Secret is the server secret test state derives its keys from.
const Secret = "admintest-server-secret-0123456789abcdef"

// StoreKeys resolves a presented key by its keyed hash, straight from the
// store.
type StoreKeys struct {
	Keys   store.Keys
	Hasher *auth.Hasher
}

// Resolve implements admin.Keys.
func (k StoreKeys) Resolve(ctx context.Context, plaintext string) (store.Key, error) {
	h := k.Hasher.Sum(plaintext)
	return k.Keys.GetByHash(ctx, h[:])
}

// SQLite opens a store in a temporary directory, closed with the test.
func SQLite(t testing.TB) store.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "llmgw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Backend is the admin API's process state over st; the audit log is
// closed with the test.
func Backend(t testing.TB, st store.Store) (admin.Backend, *audit.Log) {
	t.Helper()
	h := auth.NewHasher(auth.Derive([]byte(Secret), auth.PurposeKeyHash))
	log := audit.New(st.Audit(), auth.Derive([]byte(Secret), auth.PurposeAuditChain), audit.Options{})
	t.Cleanup(func() { log.Close() })
	return admin.Backend{Store: st, Keys: StoreKeys{Keys: st.Keys(), Hasher: h}, Hasher: h, Audit: log}, log
}
