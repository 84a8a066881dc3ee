package storetest

import (
	"testing"

	"github.com/llmgw/llmgw/internal/store"
)

// testKeyCostCap: a key's cost cap survives storage through every read,
// a patch replaces it, a patch of something else leaves it, zero removes
// it, and a negative or too large cap is refused without changing
// anything.
func testKeyCostCap(t *testing.T, s store.Store) {
	tn := mustTenant(t, s, "acme")
	const cents = 10_000_000_000 // one cent in picodollars
	k := mustKey(t, s, store.Key{TenantID: tn.ID, Name: "capped", MaxCostPico: 5 * cents})
	diff(t, "create result", int64(5*cents), k.MaxCostPico)
	got, err := s.Keys().Get(ctx(t), k.ID)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "get", int64(5*cents), got.MaxCostPico)
	byHash, err := s.Keys().GetByHash(ctx(t), k.Hash)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "by hash", int64(5*cents), byHash.MaxCostPico)
	page, err := s.Keys().List(ctx(t), store.KeyFilter{TenantID: tn.ID}, store.ListOptions{})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("keys: %v, %v", page.Items, err)
	}
	diff(t, "list", int64(5*cents), page.Items[0].MaxCostPico)

	most := int64(store.MaxCostPico)
	if _, err := s.Keys().Update(ctx(t), k.ID, store.KeyPatch{MaxCostPico: &most}); err != nil {
		t.Fatal(err)
	}
	name := "renamed"
	if _, err := s.Keys().Update(ctx(t), k.ID, store.KeyPatch{Name: &name}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Keys().Get(ctx(t), k.ID)
	diff(t, "after update and rename", most, got.MaxCostPico)

	for _, bad := range []int64{-1, store.MaxCostPico + 1} {
		_, err := s.Keys().Update(ctx(t), k.ID, store.KeyPatch{MaxCostPico: &bad})
		wantErr(t, "update with an invalid cap", err, store.ErrInvalid)
		_, err = s.Keys().Create(ctx(t), store.Key{TenantID: tn.ID, Name: "bad", Hash: hashOf("bad"), MaxCostPico: bad})
		wantErr(t, "create with an invalid cap", err, store.ErrInvalid)
	}
	after, _ := s.Keys().Get(ctx(t), k.ID)
	diff(t, "after refused writes", got, after)

	none := int64(0)
	if _, err := s.Keys().Update(ctx(t), k.ID, store.KeyPatch{MaxCostPico: &none}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Keys().Get(ctx(t), k.ID)
	diff(t, "cleared", int64(0), got.MaxCostPico)
	plain := mustKey(t, s, store.Key{TenantID: tn.ID, Name: "plain"})
	diff(t, "a key created without a cap", int64(0), plain.MaxCostPico)
}
