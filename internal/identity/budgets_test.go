package identity_test

import (
	"slices"
	"testing"

	"github.com/llmgw/llmgw/internal/budget"
	"github.com/llmgw/llmgw/internal/identity"
	"github.com/llmgw/llmgw/internal/store"
)

// A principal carries the budgets of its key, team and tenant with their
// subjects; a change to the team's or tenant's budget reaches the cached
// key without a lookup of the key, and removing one removes it.
func TestPrincipalBudgets(t *testing.T) {
	each(t, func(t *testing.T, s store.Store) {
		f := newFixture(t, s, identity.Options{})
		tb := store.Budget{LimitPico: 9_000, Period: "monthly"}
		if _, err := s.Tenants().Update(t.Context(), f.tenant.ID, store.TenantPatch{Budget: &tb}); err != nil {
			t.Fatal(err)
		}
		secret, k := f.key(store.Key{TeamID: f.team.ID, Budget: store.Budget{LimitPico: 100, Period: "daily"}})
		f.sync()
		want := []budget.Budget{
			{Subject: "key:" + k.ID, Limit: 100, Period: budget.Daily},
			{Subject: "tenant:" + f.tenant.ID, Limit: 9_000, Period: budget.Monthly},
		}
		wantBudgets(t, "at first", f.mustLookup(secret), want)

		lookups := f.c.lookups.Load()
		team := store.Budget{LimitPico: 500, Period: "weekly"}
		if _, err := s.Teams().Update(t.Context(), f.tenant.ID, f.team.ID, store.TeamPatch{Budget: &team}); err != nil {
			t.Fatal(err)
		}
		f.sync()
		want = slices.Insert(want, 1, budget.Budget{Subject: "team:" + f.team.ID, Limit: 500, Period: budget.Weekly})
		wantBudgets(t, "after the team's change", f.mustLookup(secret), want)

		none := store.Budget{}
		if _, err := s.Tenants().Update(t.Context(), f.tenant.ID, store.TenantPatch{Budget: &none}); err != nil {
			t.Fatal(err)
		}
		f.sync()
		wantBudgets(t, "after the tenant's removal", f.mustLookup(secret), want[:2])
		if n := f.c.lookups.Load() - lookups; n != 0 {
			t.Errorf("team and tenant changes cost %d key lookups; the cached key should have been refreshed in place", n)
		}
	})
}

func wantBudgets(t *testing.T, what string, id *identity.Identity, want []budget.Budget) {
	t.Helper()
	if !slices.Equal(id.Principal.Budgets, want) {
		t.Errorf("%s: budgets %+v, want %+v", what, id.Principal.Budgets, want)
	}
}
