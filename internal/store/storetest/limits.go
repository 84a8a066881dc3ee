package storetest

import (
	"math"
	"testing"

	"github.com/llmgw/llmgw/internal/store"
)

// testKeyLimits: a key's limits survive storage through every read, a
// zero field stays zero (no limit) next to set ones, a patch replaces them
// all, a zero patch removes them, and no patch leaves them.
func testKeyLimits(t *testing.T, s store.Store) {
	tn := mustTenant(t, s, "acme")
	want := store.Limits{RPM: 60, Concurrent: 3}
	k := mustKey(t, s, store.Key{TenantID: tn.ID, Name: "k", Limits: want})
	diff(t, "create result", want, k.Limits)
	got, err := s.Keys().Get(ctx(t), k.ID)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "get", want, got.Limits)
	byHash, err := s.Keys().GetByHash(ctx(t), k.Hash)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "get by hash", want, byHash.Limits)
	page, err := s.Keys().List(ctx(t), store.KeyFilter{TenantID: tn.ID}, store.ListOptions{})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("list: %v, %v", page.Items, err)
	}
	diff(t, "list", want, page.Items[0].Limits)

	big := store.Limits{RPM: math.MaxInt64, TPM: 1 << 40, Concurrent: 1}
	upd, err := s.Keys().Update(ctx(t), k.ID, store.KeyPatch{Limits: &big})
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "update result", big, upd.Limits)
	got, _ = s.Keys().Get(ctx(t), k.ID)
	diff(t, "after update", big, got.Limits)

	name := "renamed"
	if _, err := s.Keys().Update(ctx(t), k.ID, store.KeyPatch{Name: &name}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Keys().Get(ctx(t), k.ID)
	diff(t, "after a patch without limits", big, got.Limits)

	if _, err := s.Keys().Rotate(ctx(t), k.ID, store.Rotation{Hash: hashOf("rotated")}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Keys().Get(ctx(t), k.ID)
	diff(t, "after rotation", big, got.Limits)

	none := store.Limits{}
	if _, err := s.Keys().Update(ctx(t), k.ID, store.KeyPatch{Limits: &none}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Keys().Get(ctx(t), k.ID)
	diff(t, "after clearing", none, got.Limits)
}

// testTenantLimits is testKeyLimits for tenants.
func testTenantLimits(t *testing.T, s store.Store) {
	want := store.Limits{TPM: 5000}
	tn, err := s.Tenants().Create(ctx(t), store.Tenant{Name: "acme", Limits: want})
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "create result", want, tn.Limits)
	for _, idOrName := range []string{tn.ID, tn.Name} {
		got, err := s.Tenants().Get(ctx(t), idOrName)
		if err != nil {
			t.Fatal(err)
		}
		diff(t, "get "+idOrName, want, got.Limits)
	}
	page, err := s.Tenants().List(ctx(t), store.ListOptions{})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("list: %v, %v", page.Items, err)
	}
	diff(t, "list", want, page.Items[0].Limits)

	next := store.Limits{RPM: 100, TPM: 200, Concurrent: 300}
	upd, err := s.Tenants().Update(ctx(t), tn.ID, store.TenantPatch{Limits: &next})
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "update result", next, upd.Limits)
	got, _ := s.Tenants().Get(ctx(t), tn.ID)
	diff(t, "after update", next, got.Limits)

	labels := map[string]string{"a": "b"}
	if _, err := s.Tenants().Update(ctx(t), tn.ID, store.TenantPatch{Labels: &labels}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Tenants().Get(ctx(t), tn.ID)
	diff(t, "after a patch without limits", next, got.Limits)

	none := store.Limits{}
	if _, err := s.Tenants().Update(ctx(t), tn.ID, store.TenantPatch{Limits: &none}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Tenants().Get(ctx(t), tn.ID)
	diff(t, "after clearing", none, got.Limits)
}

// testLimitsInvalid: a negative limit is refused on every write, and a
// refused write changes nothing.
func testLimitsInvalid(t *testing.T, s store.Store) {
	bad := []store.Limits{{RPM: -1}, {TPM: -5}, {Concurrent: math.MinInt64}}
	_, err := s.Tenants().Create(ctx(t), store.Tenant{Name: "neg", Limits: bad[0]})
	wantErr(t, "create tenant with a negative limit", err, store.ErrInvalid)
	tn := mustTenant(t, s, "acme")
	k := mustKey(t, s, store.Key{TenantID: tn.ID, Name: "k", Limits: store.Limits{RPM: 7}})
	for i, l := range bad {
		_, err := s.Keys().Create(ctx(t), store.Key{TenantID: tn.ID, Name: "neg", Hash: hashOf("neg"), Limits: l})
		wantErr(t, "create key with a negative limit", err, store.ErrInvalid)
		_, err = s.Keys().Update(ctx(t), k.ID, store.KeyPatch{Limits: &bad[i]})
		wantErr(t, "update key with a negative limit", err, store.ErrInvalid)
		_, err = s.Tenants().Update(ctx(t), tn.ID, store.TenantPatch{Limits: &bad[i]})
		wantErr(t, "update tenant with a negative limit", err, store.ErrInvalid)
	}
	got, _ := s.Keys().Get(ctx(t), k.ID)
	diff(t, "key after refused writes", k, got)
	gotT, _ := s.Tenants().Get(ctx(t), tn.ID)
	diff(t, "tenant after refused writes", tn, gotT)
}

// testLimitsChanges: changing limits is a change replicas hear of, a
// key's with its hash (so that caches drop it), a tenant's with its ID.
func testLimitsChanges(t *testing.T, s store.Store) {
	tn := mustTenant(t, s, "acme")
	k := mustKey(t, s, store.Key{TenantID: tn.ID, Name: "k", Hash: hashOf("lim")})
	head, err := s.Changes().Head(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	l := store.Limits{RPM: 1}
	if _, err := s.Keys().Update(ctx(t), k.ID, store.KeyPatch{Limits: &l}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Tenants().Update(ctx(t), tn.ID, store.TenantPatch{Limits: &l}); err != nil {
		t.Fatal(err)
	}
	got, _, err := s.Changes().Since(ctx(t), head, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("two limit writes made %d changes: %+v", len(got), got)
	}
	if got[0].Kind != store.KindKey || got[0].ID != k.ID || !equalHashes(got[0].Hashes, [][]byte{hashOf("lim")}) {
		t.Fatalf("key limits change: %+v", got[0])
	}
	if got[1].Kind != store.KindTenant || got[1].ID != tn.ID {
		t.Fatalf("tenant limits change: %+v", got[1])
	}
}
