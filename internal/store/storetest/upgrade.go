package storetest

import (
	"testing"

	"github.com/llmgw/llmgw/internal/store"
)

// ServesKeys checks that s creates a tenant and a key and finds the key by
// its hash: what a store opened on a schema a newer version migrated must
// still do.
func ServesKeys(t *testing.T, s store.Store) {
	t.Helper()
	tn, err := s.Tenants().Create(t.Context(), store.Tenant{Name: "after-upgrade"})
	if err != nil {
		t.Fatal(err)
	}
	k, err := s.Keys().Create(t.Context(), store.Key{TenantID: tn.ID, Name: "k", Hash: []byte("0123456789abcdef"), Prefix: "sk-llmgw-x"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Keys().GetByHash(t.Context(), []byte("0123456789abcdef")); err != nil || got.ID != k.ID {
		t.Fatalf("key on the newer schema: %+v, %v", got, err)
	}
}
