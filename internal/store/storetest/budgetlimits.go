package storetest

import (
	"math"
	"testing"

	"github.com/llmgw/llmgw/internal/store"
)

// testBudgetLimits: the budgets of keys, teams and tenants survive storage
// through every read, a patch replaces one, a patch of something else
// leaves it, the zero budget removes it, and invalid budgets are refused
// on every write without changing anything.
func testBudgetLimits(t *testing.T, s store.Store) {
	month := store.Budget{LimitPico: 50_000_000_000_000, Period: "monthly"}
	day := store.Budget{LimitPico: math.MaxInt64, Period: "daily"}
	tn, err := s.Tenants().Create(ctx(t), store.Tenant{Name: "acme", Budget: month})
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "tenant create result", month, tn.Budget)
	got, err := s.Tenants().Get(ctx(t), tn.Name)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "tenant get", month, got.Budget)
	team, err := s.Teams().Create(ctx(t), store.Team{TenantID: tn.ID, Name: "ml", Budget: day})
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "team create result", day, team.Budget)
	gotTeam, err := s.Teams().Get(ctx(t), tn.ID, team.ID)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "team get", day, gotTeam.Budget)
	teams, err := s.Teams().List(ctx(t), tn.ID, store.ListOptions{})
	if err != nil || len(teams.Items) != 1 {
		t.Fatalf("teams: %v, %v", teams.Items, err)
	}
	diff(t, "team list", day, teams.Items[0].Budget)

	total := store.Budget{LimitPico: 1, Period: "total"}
	k := mustKey(t, s, store.Key{TenantID: tn.ID, TeamID: team.ID, Name: "k", Budget: total})
	diff(t, "key create result", total, k.Budget)
	byHash, err := s.Keys().GetByHash(ctx(t), k.Hash)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "key by hash", total, byHash.Budget)
	page, err := s.Keys().List(ctx(t), store.KeyFilter{TenantID: tn.ID}, store.ListOptions{})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("keys: %v, %v", page.Items, err)
	}
	diff(t, "key list", total, page.Items[0].Budget)

	week := store.Budget{LimitPico: 7, Period: "weekly"}
	if _, err := s.Keys().Update(ctx(t), k.ID, store.KeyPatch{Budget: &week}); err != nil {
		t.Fatal(err)
	}
	name := "renamed"
	if _, err := s.Keys().Update(ctx(t), k.ID, store.KeyPatch{Name: &name}); err != nil {
		t.Fatal(err)
	}
	gotKey, _ := s.Keys().Get(ctx(t), k.ID)
	diff(t, "key after update and rename", week, gotKey.Budget)
	if _, err := s.Teams().Update(ctx(t), tn.ID, team.ID, store.TeamPatch{Name: &name}); err != nil {
		t.Fatal(err)
	}
	gotTeam, _ = s.Teams().Get(ctx(t), tn.ID, team.ID)
	diff(t, "team after rename", day, gotTeam.Budget)
	if _, err := s.Teams().Update(ctx(t), tn.ID, team.ID, store.TeamPatch{Budget: &week}); err != nil {
		t.Fatal(err)
	}
	gotTeam, _ = s.Teams().Get(ctx(t), tn.ID, team.ID)
	diff(t, "team after update", week, gotTeam.Budget)

	for _, bad := range []store.Budget{{LimitPico: -1, Period: "daily"}, {LimitPico: 5}, {Period: "monthly"}, {LimitPico: 5, Period: "hourly"}} {
		_, err := s.Keys().Update(ctx(t), k.ID, store.KeyPatch{Budget: &bad})
		wantErr(t, "key with an invalid budget", err, store.ErrInvalid)
		_, err = s.Teams().Update(ctx(t), tn.ID, team.ID, store.TeamPatch{Budget: &bad})
		wantErr(t, "team with an invalid budget", err, store.ErrInvalid)
		_, err = s.Tenants().Update(ctx(t), tn.ID, store.TenantPatch{Budget: &bad})
		wantErr(t, "tenant with an invalid budget", err, store.ErrInvalid)
		_, err = s.Teams().Create(ctx(t), store.Team{TenantID: tn.ID, Name: "bad", Budget: bad})
		wantErr(t, "team created with an invalid budget", err, store.ErrInvalid)
	}
	gotKey2, _ := s.Keys().Get(ctx(t), k.ID)
	diff(t, "key after refused writes", gotKey, gotKey2)

	none := store.Budget{}
	if _, err := s.Keys().Update(ctx(t), k.ID, store.KeyPatch{Budget: &none}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Teams().Update(ctx(t), tn.ID, team.ID, store.TeamPatch{Budget: &none}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Tenants().Update(ctx(t), tn.ID, store.TenantPatch{Budget: &none}); err != nil {
		t.Fatal(err)
	}
	gotKey, _ = s.Keys().Get(ctx(t), k.ID)
	gotTeam, _ = s.Teams().Get(ctx(t), tn.ID, team.ID)
	got, _ = s.Tenants().Get(ctx(t), tn.ID)
	diff(t, "cleared budgets", [3]store.Budget{}, [3]store.Budget{gotKey.Budget, gotTeam.Budget, got.Budget})
}
