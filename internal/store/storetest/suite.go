package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/llmgw/llmgw/internal/store"
)

// Open returns a new, empty store for one test; the driver closes it in
// t.Cleanup.
type Open func(t *testing.T) store.Store

// RunSuite runs every case against stores made by open, each case on its
// own empty store.
func RunSuite(t *testing.T, open Open) {
	cases := []struct {
		name string
		run  func(t *testing.T, s store.Store)
	}{
		{"Ping", testPing},
		{"TenantCRUD", testTenantCRUD},
		{"TenantGetByName", testTenantGetByName},
		{"TenantConflict", testTenantConflict},
		{"TenantDeleteRestricted", testTenantDeleteRestricted},
		{"TeamCRUD", testTeamCRUD},
		{"TeamConflictAndScope", testTeamConflictAndScope},
		{"KeyCRUD", testKeyCRUD},
		{"KeyConflict", testKeyConflict},
		{"KeyReferences", testKeyReferences},
		{"KeyModelsNilVersusEmpty", testKeyModelsNilVersusEmpty},
		{"KeyUpdate", testKeyUpdate},
		{"KeyLimits", testKeyLimits},
		{"TenantLimits", testTenantLimits},
		{"BudgetLimits", testBudgetLimits},
		{"KeyCostCap", testKeyCostCap},
		{"LimitsInvalid", testLimitsInvalid},
		{"LimitsChanges", testLimitsChanges},
		{"KeyGetByHash", testKeyGetByHash},
		{"KeyRotation", testKeyRotation},
		{"KeyRevocation", testKeyRevocation},
		{"KeyTouch", testKeyTouch},
		{"KeyInvalid", testKeyInvalid},
		{"Pagination", testPagination},
		{"PaginationTenantsAndTeams", testPaginationTenantsAndTeams},
		{"KeyFilters", testKeyFilters},
		{"BadCursor", testBadCursor},
		{"HostileInput", testHostileInput},
		{"ChangesSince", testChangesSince},
		{"ChangesConcurrent", testChangesConcurrent},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"AuditAppend", testAuditAppend},
		{"AuditList", testAuditList},
		{"AuditConcurrent", testAuditConcurrent},
		{"AuditInvalid", testAuditInvalid},
		{"LedgerIdempotent", testLedgerIdempotent},
		{"LedgerScan", testLedgerScan},
		{"LedgerInvalid", testLedgerInvalid},
		{"LedgerAggregate", testLedgerAggregate},
		{"LedgerSpend", testLedgerSpend},
		{"BudgetReserveSettle", testBudgetReserveSettle},
		{"BudgetAllOrNone", testBudgetAllOrNone},
		{"BudgetExpiry", testBudgetExpiry},
		{"BudgetSeed", testBudgetSeed},
		{"BudgetInvalid", testBudgetInvalid},
		{"AlertClaimOnce", testAlertClaimOnce},
		{"AlertClaimConcurrent", testAlertClaimConcurrent},
		{"DeliveryQueue", testDeliveryQueue},
		{"DeliveryList", testDeliveryList},
		{"AlertInvalid", testAlertInvalid},
		{"ResponsesPutGet", testResponsesPutGet},
		{"ResponsesChain", testResponsesChain},
		{"ResponsesDeletePurge", testResponsesDeletePurge},
		{"ResponsesInvalid", testResponsesInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.run(t, open(t))
		})
	}
}

func ctx(t *testing.T) context.Context { return t.Context() }

func mustTenant(t *testing.T, s store.Store, name string) store.Tenant {
	t.Helper()
	tn, err := s.Tenants().Create(ctx(t), store.Tenant{Name: name})
	if err != nil {
		t.Fatalf("create tenant %q: %v", name, err)
	}
	return tn
}

func mustTeam(t *testing.T, s store.Store, tenantID, name string) store.Team {
	t.Helper()
	tm, err := s.Teams().Create(ctx(t), store.Team{TenantID: tenantID, Name: name})
	if err != nil {
		t.Fatalf("create team %q: %v", name, err)
	}
	return tm
}

// hashOf stands in for the keyed hash of a secret.
func hashOf(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func mustKey(t *testing.T, s store.Store, k store.Key) store.Key {
	t.Helper()
	if k.Hash == nil {
		k.Hash = hashOf(k.TenantID + "/" + k.Name)
	}
	if k.Prefix == "" {
		k.Prefix = "sk-llmgw-abcd"
	}
	got, err := s.Keys().Create(ctx(t), k)
	if err != nil {
		t.Fatalf("create key %q: %v", k.Name, err)
	}
	return got
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

func diff(t *testing.T, what string, want, got any) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("%s (-want +got):\n%s", what, d)
	}
}

func testTenantCRUD(t *testing.T, s store.Store) {
	created, err := s.Tenants().Create(ctx(t), store.Tenant{Name: "acme", Labels: map[string]string{"env": "prod"}})
	if err != nil {
		t.Fatal(err)
	}
	if created.ID == "" || created.CreatedAt.IsZero() {
		t.Fatalf("created tenant lacks ID or CreatedAt: %+v", created)
	}
	got, err := s.Tenants().Get(ctx(t), created.ID)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "get by ID", created, got)

	name, labels := "acme-corp", map[string]string{"env": "dev", "team": "x"}
	upd, err := s.Tenants().Update(ctx(t), created.ID, store.TenantPatch{Name: &name, Labels: &labels})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = s.Tenants().Get(ctx(t), created.ID)
	diff(t, "after update", upd, got)
	if got.Name != name || got.Labels["team"] != "x" {
		t.Fatalf("update not applied: %+v", got)
	}
	// A patch without fields changes nothing.
	same, err := s.Tenants().Update(ctx(t), created.ID, store.TenantPatch{})
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "empty patch", got, same)

	_, err = s.Tenants().Update(ctx(t), "tnt_missing", store.TenantPatch{Name: &name})
	wantErr(t, "update missing tenant", err, store.ErrNotFound)
	if err := s.Tenants().Delete(ctx(t), created.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.Tenants().Get(ctx(t), created.ID)
	wantErr(t, "get deleted tenant", err, store.ErrNotFound)
	wantErr(t, "delete deleted tenant", s.Tenants().Delete(ctx(t), created.ID), store.ErrNotFound)
	_, err = s.Tenants().Get(ctx(t), "nobody")
	wantErr(t, "get unknown tenant", err, store.ErrNotFound)
}

func testTenantGetByName(t *testing.T, s store.Store) {
	a := mustTenant(t, s, "alpha")
	got, err := s.Tenants().Get(ctx(t), "alpha")
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "get by name", a, got)
	// A tenant named like another's ID does not hide that one: the ID wins.
	b := mustTenant(t, s, a.ID)
	got, err = s.Tenants().Get(ctx(t), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != a.ID {
		t.Fatalf("get %q returned tenant %s, want the one with that ID", a.ID, got.ID)
	}
	if got, _ := s.Tenants().Get(ctx(t), b.ID); got.ID != b.ID {
		t.Fatalf("get by b's ID returned %s", got.ID)
	}
}

func testTenantConflict(t *testing.T, s store.Store) {
	mustTenant(t, s, "acme")
	_, err := s.Tenants().Create(ctx(t), store.Tenant{Name: "acme"})
	wantErr(t, "duplicate tenant name", err, store.ErrConflict)
	other := mustTenant(t, s, "other")
	name := "acme"
	_, err = s.Tenants().Update(ctx(t), other.ID, store.TenantPatch{Name: &name})
	wantErr(t, "rename onto a taken name", err, store.ErrConflict)
	_, err = s.Tenants().Create(ctx(t), store.Tenant{Name: ""})
	wantErr(t, "empty name", err, store.ErrInvalid)
	_, err = s.Tenants().Create(ctx(t), store.Tenant{Name: "bad\xff"})
	wantErr(t, "invalid UTF-8 name", err, store.ErrInvalid)
}

func testTenantDeleteRestricted(t *testing.T, s store.Store) {
	tn := mustTenant(t, s, "acme")
	tm := mustTeam(t, s, tn.ID, "ops")
	wantErr(t, "delete tenant with a team", s.Tenants().Delete(ctx(t), tn.ID), store.ErrConflict)
	if err := s.Teams().Delete(ctx(t), tn.ID, tm.ID); err != nil {
		t.Fatal(err)
	}
	k := mustKey(t, s, store.Key{TenantID: tn.ID, Name: "k"})
	wantErr(t, "delete tenant with a key", s.Tenants().Delete(ctx(t), tn.ID), store.ErrConflict)
	if _, err := s.Keys().Get(ctx(t), k.ID); err != nil {
		t.Fatalf("refused delete removed the key: %v", err)
	}
	if err := s.Keys().Delete(ctx(t), k.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Tenants().Delete(ctx(t), tn.ID); err != nil {
		t.Fatal(err)
	}
}

func testTeamCRUD(t *testing.T, s store.Store) {
	tn := mustTenant(t, s, "acme")
	tm := mustTeam(t, s, tn.ID, "ops")
	if tm.ID == "" || tm.TenantID != tn.ID || tm.CreatedAt.IsZero() {
		t.Fatalf("created team: %+v", tm)
	}
	got, err := s.Teams().Get(ctx(t), tn.ID, tm.ID)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "get team", tm, got)
	name := "platform"
	upd, err := s.Teams().Update(ctx(t), tn.ID, tm.ID, store.TeamPatch{Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = s.Teams().Get(ctx(t), tn.ID, tm.ID)
	diff(t, "after update", upd, got)
	if got.Name != name {
		t.Fatalf("rename not applied: %+v", got)
	}
	if err := s.Teams().Delete(ctx(t), tn.ID, tm.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.Teams().Get(ctx(t), tn.ID, tm.ID)
	wantErr(t, "get deleted team", err, store.ErrNotFound)
	wantErr(t, "delete deleted team", s.Teams().Delete(ctx(t), tn.ID, tm.ID), store.ErrNotFound)
	_, err = s.Teams().Update(ctx(t), tn.ID, tm.ID, store.TeamPatch{Name: &name})
	wantErr(t, "update deleted team", err, store.ErrNotFound)
	_, err = s.Teams().Create(ctx(t), store.Team{TenantID: "tnt_missing", Name: "x"})
	wantErr(t, "team in an unknown tenant", err, store.ErrNotFound)
}

func testTeamConflictAndScope(t *testing.T, s store.Store) {
	a, b := mustTenant(t, s, "a"), mustTenant(t, s, "b")
	ta := mustTeam(t, s, a.ID, "ops")
	_, err := s.Teams().Create(ctx(t), store.Team{TenantID: a.ID, Name: "ops"})
	wantErr(t, "duplicate team name in a tenant", err, store.ErrConflict)
	// The same name in another tenant is fine.
	mustTeam(t, s, b.ID, "ops")
	// A team is reached only through its own tenant.
	_, err = s.Teams().Get(ctx(t), b.ID, ta.ID)
	wantErr(t, "team through another tenant", err, store.ErrNotFound)
	wantErr(t, "delete team through another tenant", s.Teams().Delete(ctx(t), b.ID, ta.ID), store.ErrNotFound)
	tb2 := mustTeam(t, s, a.ID, "dev")
	name := "ops"
	_, err = s.Teams().Update(ctx(t), a.ID, tb2.ID, store.TeamPatch{Name: &name})
	wantErr(t, "rename team onto a taken name", err, store.ErrConflict)
	// A team with keys is not deleted.
	mustKey(t, s, store.Key{TenantID: a.ID, TeamID: ta.ID, Name: "k"})
	wantErr(t, "delete team with keys", s.Teams().Delete(ctx(t), a.ID, ta.ID), store.ErrConflict)
}

func fullKey(tenantID, teamID string) store.Key {
	return store.Key{
		TenantID:  tenantID,
		TeamID:    teamID,
		Name:      "ci",
		Hash:      hashOf("ci-secret"),
		Prefix:    "sk-llmgw-abcd",
		Models:    []string{"gpt-4o-mini", "claude-haiku"},
		ExpiresAt: time.Date(2030, 1, 2, 3, 4, 5, 123456000, time.UTC),
		Labels:    map[string]string{"owner": "ci"},
		Role:      store.RoleReadOnly,
		Limits:    store.Limits{RPM: 600, TPM: 1_000_000},
	}
}

func testKeyCRUD(t *testing.T, s store.Store) {
	tn := mustTenant(t, s, "acme")
	tm := mustTeam(t, s, tn.ID, "ops")
	created, err := s.Keys().Create(ctx(t), fullKey(tn.ID, tm.ID))
	if err != nil {
		t.Fatal(err)
	}
	if created.ID == "" || created.CreatedAt.IsZero() {
		t.Fatalf("created key lacks ID or CreatedAt: %+v", created)
	}
	got, err := s.Keys().Get(ctx(t), created.ID)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "get key", created, got)
	byHash, err := s.Keys().GetByHash(ctx(t), created.Hash)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "get key by hash", created, byHash)
	if err := s.Keys().Delete(ctx(t), created.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.Keys().Get(ctx(t), created.ID)
	wantErr(t, "get deleted key", err, store.ErrNotFound)
	_, err = s.Keys().GetByHash(ctx(t), created.Hash)
	wantErr(t, "get deleted key by hash", err, store.ErrNotFound)
	wantErr(t, "delete deleted key", s.Keys().Delete(ctx(t), created.ID), store.ErrNotFound)
	_, err = s.Keys().Update(ctx(t), created.ID, store.KeyPatch{})
	wantErr(t, "update deleted key", err, store.ErrNotFound)
	_, err = s.Keys().Rotate(ctx(t), created.ID, store.Rotation{Hash: hashOf("x")})
	wantErr(t, "rotate deleted key", err, store.ErrNotFound)
	_, err = s.Keys().Revoke(ctx(t), created.ID)
	wantErr(t, "revoke deleted key", err, store.ErrNotFound)
}

func testKeyConflict(t *testing.T, s store.Store) {
	a, b := mustTenant(t, s, "a"), mustTenant(t, s, "b")
	k1 := mustKey(t, s, store.Key{TenantID: a.ID, Name: "ci"})
	_, err := s.Keys().Create(ctx(t), store.Key{TenantID: a.ID, Name: "ci", Hash: hashOf("other")})
	wantErr(t, "duplicate key name in a tenant", err, store.ErrConflict)
	mustKey(t, s, store.Key{TenantID: b.ID, Name: "ci"})
	_, err = s.Keys().Create(ctx(t), store.Key{TenantID: b.ID, Name: "other", Hash: k1.Hash})
	wantErr(t, "duplicate hash", err, store.ErrConflict)
	k2 := mustKey(t, s, store.Key{TenantID: a.ID, Name: "deploy"})
	name := "ci"
	_, err = s.Keys().Update(ctx(t), k2.ID, store.KeyPatch{Name: &name})
	wantErr(t, "rename key onto a taken name", err, store.ErrConflict)
	_, err = s.Keys().Rotate(ctx(t), k2.ID, store.Rotation{Hash: k1.Hash})
	wantErr(t, "rotate to a hash in use", err, store.ErrConflict)
	got, _ := s.Keys().Get(ctx(t), k2.ID)
	diff(t, "key after refused writes", k2, got)
}

func testKeyReferences(t *testing.T, s store.Store) {
	a, b := mustTenant(t, s, "a"), mustTenant(t, s, "b")
	tb := mustTeam(t, s, b.ID, "ops")
	_, err := s.Keys().Create(ctx(t), store.Key{TenantID: "tnt_missing", Name: "k", Hash: hashOf("1")})
	wantErr(t, "key in an unknown tenant", err, store.ErrNotFound)
	_, err = s.Keys().Create(ctx(t), store.Key{TenantID: a.ID, TeamID: "team_missing", Name: "k", Hash: hashOf("2")})
	wantErr(t, "key in an unknown team", err, store.ErrNotFound)
	_, err = s.Keys().Create(ctx(t), store.Key{TenantID: a.ID, TeamID: tb.ID, Name: "k", Hash: hashOf("3")})
	wantErr(t, "key in another tenant's team", err, store.ErrNotFound)
	k := mustKey(t, s, store.Key{TenantID: a.ID, Name: "k"})
	_, err = s.Keys().Update(ctx(t), k.ID, store.KeyPatch{TeamID: &tb.ID})
	wantErr(t, "move key to another tenant's team", err, store.ErrNotFound)
}

func testKeyModelsNilVersusEmpty(t *testing.T, s store.Store) {
	tn := mustTenant(t, s, "acme")
	for _, c := range []struct {
		name   string
		models []string
	}{
		{"nil means every model", nil},
		{"empty means none", []string{}},
		{"a list", []string{"a", "b/*"}},
	} {
		k := mustKey(t, s, store.Key{TenantID: tn.ID, Name: c.name, Models: c.models})
		got, err := s.Keys().Get(ctx(t), k.ID)
		if err != nil {
			t.Fatal(err)
		}
		if (got.Models == nil) != (c.models == nil) || len(got.Models) != len(c.models) {
			t.Fatalf("%s: models read back as %#v, want %#v", c.name, got.Models, c.models)
		}
		if (k.Models == nil) != (c.models == nil) {
			t.Fatalf("%s: Create returned models %#v, want %#v", c.name, k.Models, c.models)
		}
	}
	// And through an update, both ways.
	k := mustKey(t, s, store.Key{TenantID: tn.ID, Name: "flip", Models: []string{"a"}})
	none := []string{}
	got, err := s.Keys().Update(ctx(t), k.ID, store.KeyPatch{Models: &none})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ = s.Keys().Get(ctx(t), k.ID); got.Models == nil || len(got.Models) != 0 {
		t.Fatalf("after update to none: %#v", got.Models)
	}
	var all []string
	if _, err := s.Keys().Update(ctx(t), k.ID, store.KeyPatch{Models: &all}); err != nil {
		t.Fatal(err)
	}
	if got, _ = s.Keys().Get(ctx(t), k.ID); got.Models != nil {
		t.Fatalf("after update to all: %#v", got.Models)
	}
}

func testKeyUpdate(t *testing.T, s store.Store) {
	tn := mustTenant(t, s, "acme")
	tm := mustTeam(t, s, tn.ID, "ops")
	k, err := s.Keys().Create(ctx(t), fullKey(tn.ID, ""))
	if err != nil {
		t.Fatal(err)
	}
	name, role := "renamed", store.RoleTenantAdmin
	labels := map[string]string{"a": "b"}
	models := []string{"m"}
	exp := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	upd, err := s.Keys().Update(ctx(t), k.ID, store.KeyPatch{
		Name: &name, TeamID: &tm.ID, Models: &models, ExpiresAt: &exp, Labels: &labels, Role: &role,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := k
	want.Name, want.TeamID, want.Models, want.ExpiresAt, want.Labels, want.Role = name, tm.ID, models, exp, labels, role
	diff(t, "update result", want, upd)
	got, _ := s.Keys().Get(ctx(t), k.ID)
	diff(t, "after update", want, got)

	// Clearing: no team, no expiry, no labels.
	noTeam, never, noLabels := "", time.Time{}, map[string]string{}
	got, err = s.Keys().Update(ctx(t), k.ID, store.KeyPatch{TeamID: &noTeam, ExpiresAt: &never, Labels: &noLabels})
	if err != nil {
		t.Fatal(err)
	}
	if got.TeamID != "" || !got.ExpiresAt.IsZero() || got.Labels != nil {
		t.Fatalf("clearing patch: %+v", got)
	}
	reread, _ := s.Keys().Get(ctx(t), k.ID)
	diff(t, "after clearing", got, reread)

	bad := store.Role("root")
	_, err = s.Keys().Update(ctx(t), k.ID, store.KeyPatch{Role: &bad})
	wantErr(t, "unknown role", err, store.ErrInvalid)
	empty := ""
	_, err = s.Keys().Update(ctx(t), k.ID, store.KeyPatch{Name: &empty})
	wantErr(t, "empty name", err, store.ErrInvalid)
}

func testKeyGetByHash(t *testing.T, s store.Store) {
	tn := mustTenant(t, s, "acme")
	a := mustKey(t, s, store.Key{TenantID: tn.ID, Name: "a", Hash: hashOf("a")})
	b := mustKey(t, s, store.Key{TenantID: tn.ID, Name: "b", Hash: hashOf("b")})
	for _, k := range []store.Key{a, b} {
		got, err := s.Keys().GetByHash(ctx(t), k.Hash)
		if err != nil || got.ID != k.ID {
			t.Fatalf("by hash of %s: got %s, %v", k.Name, got.ID, err)
		}
	}
	_, err := s.Keys().GetByHash(ctx(t), hashOf("nope"))
	wantErr(t, "unknown hash", err, store.ErrNotFound)
	_, err = s.Keys().GetByHash(ctx(t), nil)
	wantErr(t, "nil hash", err, store.ErrNotFound)
}

func testKeyRotation(t *testing.T, s store.Store) {
	tn := mustTenant(t, s, "acme")
	k := mustKey(t, s, store.Key{TenantID: tn.ID, Name: "k", Hash: hashOf("old")})
	until := time.Now().Add(time.Hour)
	rot, err := s.Keys().Rotate(ctx(t), k.ID, store.Rotation{Hash: hashOf("new"), Prefix: "sk-llmgw-new0", PrevValidUntil: until})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(rot.Hash, hashOf("new")) || !bytes.Equal(rot.PrevHash, hashOf("old")) || rot.Prefix != "sk-llmgw-new0" {
		t.Fatalf("rotated key: %+v", rot)
	}
	if !rot.PrevValidUntil.Equal(store.Micro(until)) {
		t.Fatalf("PrevValidUntil = %v, want %v", rot.PrevValidUntil, until)
	}
	got, _ := s.Keys().Get(ctx(t), k.ID)
	diff(t, "after rotation", rot, got)
	for _, h := range []string{"new", "old"} {
		got, err := s.Keys().GetByHash(ctx(t), hashOf(h))
		if err != nil || got.ID != k.ID {
			t.Fatalf("during the grace, hash %q: %s, %v", h, got.ID, err)
		}
	}
	// A second rotation with no grace ends the one before at once.
	if _, err := s.Keys().Rotate(ctx(t), k.ID, store.Rotation{Hash: hashOf("newer"), PrevValidUntil: time.Now().Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	for h, want := range map[string]error{"newer": nil, "new": store.ErrNotFound, "old": store.ErrNotFound} {
		_, err := s.Keys().GetByHash(ctx(t), hashOf(h))
		if want == nil && err != nil || want != nil && !errors.Is(err, want) {
			t.Fatalf("after a rotation without grace, hash %q: %v, want %v", h, err, want)
		}
	}
	_, err = s.Keys().Rotate(ctx(t), k.ID, store.Rotation{})
	wantErr(t, "rotation without a hash", err, store.ErrInvalid)
}

func testKeyRevocation(t *testing.T, s store.Store) {
	tn := mustTenant(t, s, "acme")
	k := mustKey(t, s, store.Key{TenantID: tn.ID, Name: "k", Hash: hashOf("old")})
	if _, err := s.Keys().Rotate(ctx(t), k.ID, store.Rotation{Hash: hashOf("new"), PrevValidUntil: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	before := time.Now().Add(-time.Second)
	rev, err := s.Keys().Revoke(ctx(t), k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rev.RevokedAt.Before(before) || rev.Usable(time.Now()) {
		t.Fatalf("revoked key: RevokedAt %v, usable %v", rev.RevokedAt, rev.Usable(time.Now()))
	}
	got, err := s.Keys().GetByHash(ctx(t), hashOf("new"))
	if err != nil || got.ID != k.ID || got.Usable(time.Now()) {
		t.Fatalf("revoked key by its hash: %+v, %v; want it found and unusable", got, err)
	}
	_, err = s.Keys().GetByHash(ctx(t), hashOf("old"))
	wantErr(t, "previous hash of a revoked key", err, store.ErrNotFound)
	again, err := s.Keys().Revoke(ctx(t), k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !again.RevokedAt.Equal(rev.RevokedAt) {
		t.Fatalf("second revocation moved RevokedAt from %v to %v", rev.RevokedAt, again.RevokedAt)
	}
	_, err = s.Keys().Rotate(ctx(t), k.ID, store.Rotation{Hash: hashOf("newer")})
	wantErr(t, "rotate a revoked key", err, store.ErrConflict)

	exp := mustKey(t, s, store.Key{TenantID: tn.ID, Name: "expired", ExpiresAt: time.Now().Add(-time.Minute)})
	got, err = s.Keys().GetByHash(ctx(t), exp.Hash)
	if err != nil || got.Usable(time.Now()) {
		t.Fatalf("expired key: %v, usable %v", err, got.Usable(time.Now()))
	}
}

func testKeyTouch(t *testing.T, s store.Store) {
	tn := mustTenant(t, s, "acme")
	a := mustKey(t, s, store.Key{TenantID: tn.ID, Name: "a"})
	b := mustKey(t, s, store.Key{TenantID: tn.ID, Name: "b"})
	c := mustKey(t, s, store.Key{TenantID: tn.ID, Name: "c"})
	t1 := time.Date(2026, 1, 1, 0, 0, 0, 1500, time.UTC)
	t2 := t1.Add(time.Minute)
	head, _ := s.Changes().Head(ctx(t))
	err := s.Keys().Touch(ctx(t), []store.Use{
		{KeyID: a.ID, At: t2}, {KeyID: b.ID, At: t1}, {KeyID: "key_gone", At: t1},
		{KeyID: a.ID, At: t1}, // older than what a already has: ignored
	})
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]time.Time{a.ID: store.Micro(t2), b.ID: store.Micro(t1), c.ID: {}} {
		got, _ := s.Keys().Get(ctx(t), k)
		if !got.LastUsedAt.Equal(want) {
			t.Fatalf("LastUsedAt of %s = %v, want %v", k, got.LastUsedAt, want)
		}
	}
	if err := s.Keys().Touch(ctx(t), []store.Use{{KeyID: b.ID, At: t1.Add(-time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Keys().Get(ctx(t), b.ID); !got.LastUsedAt.Equal(store.Micro(t1)) {
		t.Fatalf("an older touch moved LastUsedAt back to %v", got.LastUsedAt)
	}
	if err := s.Keys().Touch(ctx(t), nil); err != nil {
		t.Fatal(err)
	}
	if h, _ := s.Changes().Head(ctx(t)); h != head {
		t.Fatalf("Touch recorded changes: head %d -> %d", head, h)
	}
}

func testKeyInvalid(t *testing.T, s store.Store) {
	tn := mustTenant(t, s, "acme")
	for name, k := range map[string]store.Key{
		"no name":      {TenantID: tn.ID, Hash: hashOf("1")},
		"no tenant":    {Name: "k", Hash: hashOf("2")},
		"no hash":      {TenantID: tn.ID, Name: "k"},
		"unknown role": {TenantID: tn.ID, Name: "k", Hash: hashOf("3"), Role: "root"},
	} {
		_, err := s.Keys().Create(ctx(t), k)
		wantErr(t, name, err, store.ErrInvalid)
	}
}

// pageAll reads every page of size n through list and checks that no page
// is longer than n.
func pageAll[T any](t *testing.T, n int, list func(store.ListOptions) (store.Page[T], error)) []T {
	t.Helper()
	var all []T
	cursor := ""
	for i := 0; ; i++ {
		if i > 100 {
			t.Fatal("pagination does not end")
		}
		p, err := list(store.ListOptions{Limit: n, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) > n {
			t.Fatalf("page of %d items, limit %d", len(p.Items), n)
		}
		all = append(all, p.Items...)
		if p.Next == "" {
			return all
		}
		cursor = p.Next
	}
}

func testPagination(t *testing.T, s store.Store) {
	tn := mustTenant(t, s, "acme")
	want := map[string]bool{}
	for i := range 25 {
		k := mustKey(t, s, store.Key{TenantID: tn.ID, Name: fmt.Sprintf("k%02d", i)})
		want[k.ID] = true
	}
	list := func(o store.ListOptions) (store.Page[store.Key], error) {
		return s.Keys().List(ctx(t), store.KeyFilter{TenantID: tn.ID}, o)
	}
	var sizes []int
	cursor := ""
	for {
		p, err := list(store.ListOptions{Limit: 10, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(p.Items))
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	diff(t, "page sizes", []int{10, 10, 5}, sizes)
	first := ids(pageAll(t, 10, list), func(k store.Key) string { return k.ID })
	second := ids(pageAll(t, 10, list), func(k store.Key) string { return k.ID })
	diff(t, "order of a second listing", first, second)
	seen := map[string]bool{}
	for _, id := range first {
		if seen[id] {
			t.Fatalf("key %s listed twice", id)
		}
		seen[id] = true
	}
	diff(t, "keys listed", want, seen)
	// Creation order is list order: names were created k00..k24.
	all := pageAll(t, 7, list)
	if !sort.SliceIsSorted(all, func(i, j int) bool { return all[i].Name < all[j].Name }) {
		t.Fatalf("list is not in creation order: %v", ids(all, func(k store.Key) string { return k.Name }))
	}
	// An exact multiple of the limit ends without an empty page... or
	// with one; either way nothing is repeated.
	p, err := list(store.ListOptions{Limit: 25})
	if err != nil || len(p.Items) != 25 {
		t.Fatalf("one page of 25: %d items, %v", len(p.Items), err)
	}
	if p.Next != "" {
		rest, err := list(store.ListOptions{Limit: 25, Cursor: p.Next})
		if err != nil || len(rest.Items) != 0 {
			t.Fatalf("page after the last: %d items, %v", len(rest.Items), err)
		}
	}
	// A default limit.
	p, err = list(store.ListOptions{})
	if err != nil || len(p.Items) != 25 || p.Next != "" {
		t.Fatalf("default limit: %d items, next %q, %v", len(p.Items), p.Next, err)
	}
}

func testPaginationTenantsAndTeams(t *testing.T, s store.Store) {
	var tenantIDs []string
	for i := range 12 {
		tenantIDs = append(tenantIDs, mustTenant(t, s, fmt.Sprintf("t%02d", i)).ID)
	}
	got := ids(pageAll(t, 5, func(o store.ListOptions) (store.Page[store.Tenant], error) {
		return s.Tenants().List(ctx(t), o)
	}), func(t store.Tenant) string { return t.ID })
	diff(t, "tenants listed", tenantIDs, got)
	var teamIDs []string
	for i := range 7 {
		teamIDs = append(teamIDs, mustTeam(t, s, tenantIDs[0], fmt.Sprintf("team%d", i)).ID)
	}
	mustTeam(t, s, tenantIDs[1], "elsewhere")
	got = ids(pageAll(t, 3, func(o store.ListOptions) (store.Page[store.Team], error) {
		return s.Teams().List(ctx(t), tenantIDs[0], o)
	}), func(t store.Team) string { return t.ID })
	diff(t, "teams listed", teamIDs, got)
}

func testKeyFilters(t *testing.T, s store.Store) {
	a, b := mustTenant(t, s, "a"), mustTenant(t, s, "b")
	ops := mustTeam(t, s, a.ID, "ops")
	want := map[string][]string{}
	add := func(group string, k store.Key) {
		want[group] = append(want[group], mustKey(t, s, k).ID)
	}
	add("a", store.Key{TenantID: a.ID, Name: "a1"})
	add("ops", store.Key{TenantID: a.ID, TeamID: ops.ID, Name: "a2"})
	add("b", store.Key{TenantID: b.ID, Name: "b1"})
	list := func(f store.KeyFilter) []string {
		return ids(pageAll(t, 2, func(o store.ListOptions) (store.Page[store.Key], error) {
			return s.Keys().List(ctx(t), f, o)
		}), func(k store.Key) string { return k.ID })
	}
	diff(t, "tenant a", append(append([]string{}, want["a"]...), want["ops"]...), list(store.KeyFilter{TenantID: a.ID}))
	diff(t, "tenant b", want["b"], list(store.KeyFilter{TenantID: b.ID}))
	diff(t, "team ops", want["ops"], list(store.KeyFilter{TeamID: ops.ID}))
	diff(t, "tenant a, team ops", want["ops"], list(store.KeyFilter{TenantID: a.ID, TeamID: ops.ID}))
	diff(t, "tenant b, team ops", []string(nil), list(store.KeyFilter{TenantID: b.ID, TeamID: ops.ID}))
	if got := list(store.KeyFilter{}); len(got) != 3 {
		t.Fatalf("no filter: %d keys, want 3", len(got))
	}
}

func testBadCursor(t *testing.T, s store.Store) {
	for _, c := range []string{"!!!", "%%", "a b"} {
		_, err := s.Tenants().List(ctx(t), store.ListOptions{Cursor: c})
		wantErr(t, "tenant list, cursor "+c, err, store.ErrInvalid)
		_, err = s.Keys().List(ctx(t), store.KeyFilter{}, store.ListOptions{Cursor: c})
		wantErr(t, "key list, cursor "+c, err, store.ErrInvalid)
		_, err = s.Teams().List(ctx(t), "x", store.ListOptions{Cursor: c})
		wantErr(t, "team list, cursor "+c, err, store.ErrInvalid)
	}
}

func ids[T any](items []T, id func(T) string) []string {
	var out []string
	for _, it := range items {
		out = append(out, id(it))
	}
	return out
}

// hostile are strings no driver can store as text.
var hostile = []string{"\xff\xfe", "a\x00b", string(make([]byte, 5000))}

func testHostileInput(t *testing.T, s store.Store) {
	tn := mustTenant(t, s, "acme")
	tm := mustTeam(t, s, tn.ID, "ops")
	k := mustKey(t, s, store.Key{TenantID: tn.ID, Name: "k"})
	for _, h := range hostile {
		q := fmt.Sprintf("%.20q", h)
		_, err := s.Tenants().Create(ctx(t), store.Tenant{Name: h})
		wantErr(t, "tenant named "+q, err, store.ErrInvalid)
		_, err = s.Tenants().Create(ctx(t), store.Tenant{Name: "x", Labels: map[string]string{"k": h}})
		wantErr(t, "tenant label "+q, err, store.ErrInvalid)
		_, err = s.Tenants().Create(ctx(t), store.Tenant{Name: "x", Labels: map[string]string{h: "v"}})
		wantErr(t, "tenant label key "+q, err, store.ErrInvalid)
		_, err = s.Teams().Create(ctx(t), store.Team{TenantID: tn.ID, Name: h})
		wantErr(t, "team named "+q, err, store.ErrInvalid)
		_, err = s.Keys().Create(ctx(t), store.Key{TenantID: tn.ID, Name: h, Hash: hashOf(h)})
		wantErr(t, "key named "+q, err, store.ErrInvalid)
		_, err = s.Keys().Create(ctx(t), store.Key{TenantID: tn.ID, Name: "m", Hash: hashOf(h), Models: []string{h}})
		wantErr(t, "key model "+q, err, store.ErrInvalid)
		_, err = s.Keys().Create(ctx(t), store.Key{TenantID: tn.ID, Name: "p", Hash: hashOf(h), Prefix: h})
		wantErr(t, "key prefix "+q, err, store.ErrInvalid)
		labels := map[string]string{"k": h}
		_, err = s.Keys().Update(ctx(t), k.ID, store.KeyPatch{Labels: &labels})
		wantErr(t, "key label "+q, err, store.ErrInvalid)
		_, err = s.Tenants().Update(ctx(t), tn.ID, store.TenantPatch{Labels: &labels})
		wantErr(t, "tenant label update "+q, err, store.ErrInvalid)

		// As an ID or name looked up, it is simply not there.
		_, err = s.Tenants().Get(ctx(t), h)
		wantErr(t, "get tenant "+q, err, store.ErrNotFound)
		_, err = s.Tenants().Update(ctx(t), h, store.TenantPatch{})
		wantErr(t, "update tenant "+q, err, store.ErrNotFound)
		wantErr(t, "delete tenant "+q, s.Tenants().Delete(ctx(t), h), store.ErrNotFound)
		_, err = s.Teams().Create(ctx(t), store.Team{TenantID: h, Name: "x"})
		wantErr(t, "team in tenant "+q, err, store.ErrNotFound)
		_, err = s.Teams().Get(ctx(t), tn.ID, h)
		wantErr(t, "get team "+q, err, store.ErrNotFound)
		_, err = s.Teams().Update(ctx(t), h, tm.ID, store.TeamPatch{})
		wantErr(t, "update team "+q, err, store.ErrNotFound)
		wantErr(t, "delete team "+q, s.Teams().Delete(ctx(t), tn.ID, h), store.ErrNotFound)
		_, err = s.Keys().Get(ctx(t), h)
		wantErr(t, "get key "+q, err, store.ErrNotFound)
		_, err = s.Keys().Create(ctx(t), store.Key{TenantID: h, Name: "x", Hash: hashOf(h)})
		wantErr(t, "key in tenant "+q, err, store.ErrNotFound)
		_, err = s.Keys().Create(ctx(t), store.Key{TenantID: tn.ID, TeamID: h, Name: "x", Hash: hashOf(h)})
		wantErr(t, "key in team "+q, err, store.ErrNotFound)
		_, err = s.Keys().Revoke(ctx(t), h)
		wantErr(t, "revoke key "+q, err, store.ErrNotFound)
		wantErr(t, "delete key "+q, s.Keys().Delete(ctx(t), h), store.ErrNotFound)
		if p, err := s.Keys().List(ctx(t), store.KeyFilter{TenantID: h}, store.ListOptions{}); err != nil || len(p.Items) != 0 {
			t.Fatalf("keys of tenant %s: %d, %v", q, len(p.Items), err)
		}
		if p, err := s.Teams().List(ctx(t), h, store.ListOptions{}); err != nil || len(p.Items) != 0 {
			t.Fatalf("teams of tenant %s: %d, %v", q, len(p.Items), err)
		}
		_, err = s.Keys().List(ctx(t), store.KeyFilter{}, store.ListOptions{Cursor: store.Cursor(h)})
		wantErr(t, "cursor of "+q, err, store.ErrInvalid)
		if err := s.Keys().Touch(ctx(t), []store.Use{{KeyID: h, At: time.Now()}, {KeyID: k.ID, At: time.Now()}}); err != nil {
			t.Fatalf("touch with key %s: %v", q, err)
		}
	}
	if got, _ := s.Keys().Get(ctx(t), k.ID); got.LastUsedAt.IsZero() {
		t.Fatal("a batch holding a bad ID did not touch the good one")
	}
	many := map[string]string{}
	for i := range store.MaxLabels + 1 {
		many[fmt.Sprint(i)] = "v"
	}
	_, err := s.Tenants().Create(ctx(t), store.Tenant{Name: "many", Labels: many})
	wantErr(t, "too many labels", err, store.ErrInvalid)
}

// Ping answers while the store is open, and fails once it is closed.
func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(ctx(t)); err != nil {
		t.Fatalf("Ping on an open store: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx(t)); err == nil {
		t.Error("Ping on a closed store answered nil")
	}
}
