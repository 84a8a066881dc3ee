package identity_test

import (
	"context"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/identity"
	"github.com/llmgw/llmgw/internal/limits"
	"github.com/llmgw/llmgw/internal/store"
)

// A principal carries its key's limits and its tenant's; a change to
// either, made through this replica's store and applied with Sync, shows
// at once. A tenant's change reaches the cached key without a store
// lookup of the key, and leaves identities handed out as they were.
func TestPrincipalLimits(t *testing.T) {
	each(t, func(t *testing.T, s store.Store) {
		f := newFixture(t, s, identity.Options{})
		tl := store.Limits{RPM: 100, TPM: 10000}
		if _, err := s.Tenants().Update(t.Context(), f.tenant.ID, store.TenantPatch{Limits: &tl}); err != nil {
			t.Fatal(err)
		}
		secret, k := f.key(store.Key{Limits: store.Limits{RPM: 10, Concurrent: 2}})
		other, _ := f.key(store.Key{TenantID: f.otherTenant().ID})
		f.sync()
		first := f.mustLookup(secret)
		wantLimits(t, "at first", first, limits.Limit{RPM: 10, Concurrent: 2}, limits.Limit{RPM: 100, TPM: 10000})
		wantLimits(t, "another tenant's key", f.mustLookup(other), limits.Limit{}, limits.Limit{})

		kl := store.Limits{TPM: 500}
		if _, err := s.Keys().Update(t.Context(), k.ID, store.KeyPatch{Limits: &kl}); err != nil {
			t.Fatal(err)
		}
		f.sync()
		wantLimits(t, "after the key's change", f.mustLookup(secret), limits.Limit{TPM: 500}, limits.Limit{RPM: 100, TPM: 10000})

		lookups := f.c.lookups.Load()
		tl = store.Limits{Concurrent: 7}
		if _, err := s.Tenants().Update(t.Context(), f.tenant.ID, store.TenantPatch{Limits: &tl}); err != nil {
			t.Fatal(err)
		}
		f.sync()
		after := f.mustLookup(secret)
		wantLimits(t, "after the tenant's change", after, limits.Limit{TPM: 500}, limits.Limit{Concurrent: 7})
		if after.TenantLimits != tl {
			t.Errorf("Identity.TenantLimits = %+v, want %+v", after.TenantLimits, tl)
		}
		if n := f.c.lookups.Load() - lookups; n != 0 {
			t.Errorf("the tenant's change cost %d key lookups; the cached key should have been refreshed in place", n)
		}
		wantLimits(t, "another tenant's key after the change", f.mustLookup(other), limits.Limit{}, limits.Limit{})
		wantLimits(t, "an identity handed out before", first, limits.Limit{RPM: 10, Concurrent: 2}, limits.Limit{RPM: 100, TPM: 10000})

		none := store.Limits{}
		if _, err := s.Tenants().Update(t.Context(), f.tenant.ID, store.TenantPatch{Limits: &none}); err != nil {
			t.Fatal(err)
		}
		f.sync()
		wantLimits(t, "after the tenant's limits were removed", f.mustLookup(secret), limits.Limit{TPM: 500}, limits.Limit{})

		// A key of the tenant first looked up after the change reads the
		// tenant's limits from the cache of tenants, which was updated.
		tl = store.Limits{RPM: 3}
		if _, err := s.Tenants().Update(t.Context(), f.tenant.ID, store.TenantPatch{Limits: &tl}); err != nil {
			t.Fatal(err)
		}
		f.sync()
		late, _ := f.key(store.Key{})
		f.sync()
		wantLimits(t, "a key first looked up after the change", f.mustLookup(late), limits.Limit{}, limits.Limit{RPM: 3})
	})
}

// Another replica's change to a tenant's limits reaches the keys this
// one has cached within the poll interval.
func TestTenantLimitsFollowed(t *testing.T) {
	each(t, func(t *testing.T, s store.Store) {
		f := newFixture(t, s, identity.Options{PollInterval: 50 * time.Millisecond})
		secret, _ := f.key(store.Key{})
		waitFor(t, time.Second, "the new key to work", func() bool {
			_, err := f.d.Lookup(t.Context(), secret)
			return err == nil
		})
		tl := store.Limits{RPM: 42}
		if _, err := s.Tenants().Update(t.Context(), f.tenant.ID, store.TenantPatch{Limits: &tl}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, time.Second, "the tenant's new limits", func() bool {
			id, err := f.d.Lookup(t.Context(), secret)
			return err == nil && id.Principal.TenantLimits == limits.Limit{RPM: 42}
		})
	})
}

// A tenant read from the store before a change to it was applied does
// not stay cached: the key looked up meanwhile is served, and the next
// lookup sees the tenant's new limits.
func TestNoStaleTenantAfterChange(t *testing.T) {
	f := newFixture(t, openSQLite(t), identity.Options{})
	tl := store.Limits{RPM: 1}
	if _, err := f.s.Tenants().Update(t.Context(), f.tenant.ID, store.TenantPatch{Limits: &tl}); err != nil {
		t.Fatal(err)
	}
	secret, _ := f.key(store.Key{})
	// A Directory opened now has no tenant cached.
	f.d.Close()
	f.open(identity.Options{})
	h := &hold{read: make(chan struct{}), gate: make(chan struct{})}
	f.c.tenantHold.Store(h)
	done := make(chan *identity.Identity, 1)
	go func() {
		id, _ := f.d.Lookup(context.Background(), secret)
		done <- id
	}()
	<-h.read // the lookup has read the tenant with RPM 1
	tl = store.Limits{RPM: 2}
	if _, err := f.s.Tenants().Update(t.Context(), f.tenant.ID, store.TenantPatch{Limits: &tl}); err != nil {
		t.Fatal(err)
	}
	f.sync()
	close(h.gate)
	if id := <-done; id == nil {
		t.Fatal("the lookup in flight failed")
	}
	wantLimits(t, "after the change", f.mustLookup(secret), limits.Limit{}, limits.Limit{RPM: 2})
}

func wantLimits(t *testing.T, what string, id *identity.Identity, key, tenant limits.Limit) {
	t.Helper()
	if id.Principal.Limits != key || id.Principal.TenantLimits != tenant {
		t.Errorf("%s: principal limits %+v, tenant %+v; want %+v, %+v",
			what, id.Principal.Limits, id.Principal.TenantLimits, key, tenant)
	}
}
