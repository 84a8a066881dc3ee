package admin_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/admin/admintest"
	"github.com/llmgw/llmgw/internal/auth"
	"github.com/llmgw/llmgw/internal/store"
)

func TestTenantsTeamsAndKeysLifecycle(t *testing.T) { eachDriver(t, testTenantsTeamsAndKeysLifecycle) }

func testTenantsTeamsAndKeysLifecycle(t *testing.T, st store.Store) {
	e := newEnv(t, st)
	// Tenants: created, found by ID and by name, unique by name.
	tr := e.must(201, "POST", "/admin/v1/tenants", rootToken, `{"name":"acme","labels":{"env":"prod"}}`)
	acme := tr.str(t, "id")
	if !strings.HasPrefix(acme, "tnt_") || tr.obj(t)["labels"].(map[string]any)["env"] != "prod" {
		t.Fatalf("tenant %s", tr.body)
	}
	if r := e.must(409, "POST", "/admin/v1/tenants", rootToken, `{"name":"acme"}`); r.errField(t, "code") != "conflict" {
		t.Errorf("duplicate tenant: %s", r.body)
	}
	for _, ref := range []string{acme, "acme"} {
		if got := e.must(200, "GET", "/admin/v1/tenants/"+ref, rootToken, "").str(t, "id"); got != acme {
			t.Errorf("GET /tenants/%s: id %q", ref, got)
		}
	}
	e.must(404, "GET", "/admin/v1/tenants/nope", rootToken, "")
	if got := e.must(200, "PATCH", "/admin/v1/tenants/acme", rootToken, `{"name":"acme-inc"}`).str(t, "name"); got != "acme-inc" {
		t.Errorf("patched name %q", got)
	}
	e.tenant("acme")                                                                        // the old name is free again
	e.must(409, "PATCH", "/admin/v1/tenants/acme-inc", rootToken, `{"name":"acme"}`)        // and taken again
	e.must(200, "PATCH", "/admin/v1/tenants/"+acme, rootToken, `{"labels":null}`)           // labels cleared
	e.must(201, "POST", "/admin/v1/tenants/acme-inc/teams", rootToken, `{"name":"search"}`) // teams
	team := e.must(201, "POST", "/admin/v1/tenants/"+acme+"/teams", rootToken, `{"name":"ads"}`).str(t, "id")
	e.must(409, "POST", "/admin/v1/tenants/"+acme+"/teams", rootToken, `{"name":"ads"}`)
	e.must(201, "POST", "/admin/v1/tenants/acme/teams", rootToken, `{"name":"ads"}`) // another tenant's namespace
	if got := e.must(200, "GET", "/admin/v1/tenants/acme-inc/teams/ads", rootToken, "").str(t, "id"); got != team {
		t.Errorf("team by name: %q, want %q", got, team)
	}
	teams := e.must(200, "GET", "/admin/v1/tenants/acme-inc/teams", rootToken, "").obj(t)["data"].([]any)
	if len(teams) != 2 {
		t.Errorf("teams of acme-inc: %v", teams)
	}

	// Keys: the secret is answered once, and it works.
	kr := e.must(201, "POST", "/admin/v1/keys", rootToken,
		`{"tenant":"acme-inc","name":"ci","team":"ads","models":["gpt-4o-mini"],"labels":{"owner":"ci"},"expires_at":"2099-01-01T00:00:00Z"}`)
	id, secret := kr.str(t, "id"), kr.str(t, "key")
	k := kr.obj(t)
	if !strings.HasPrefix(secret, auth.KeyPrefix) || len(secret) != len(auth.KeyPrefix)+43 || k["prefix"] != secret[:auth.DisplayPrefixLen] ||
		k["team_id"] != team || k["tenant_id"] != acme || k["status"] != "active" || k["expires_at"] != "2099-01-01T00:00:00Z" {
		t.Fatalf("created key %s", kr.body)
	}
	e.noSecrets(kr.body)
	resolve := admintest.StoreKeys{Keys: e.st.Keys(), Hasher: e.b.Hasher}.Resolve
	if got, err := resolve(context.Background(), secret); err != nil || got.ID != id {
		t.Fatalf("the new secret resolves to %q, %v", got.ID, err)
	}
	e.must(409, "POST", "/admin/v1/keys", rootToken, `{"tenant":"acme-inc","name":"ci"}`)
	get := e.must(200, "GET", "/admin/v1/keys/"+id, rootToken, "")
	if strings.Contains(get.body, secret) || strings.Contains(get.body, `"key"`) {
		t.Errorf("GET shows the secret: %s", get.body)
	}
	e.noSecrets(get.body)
	if m := get.obj(t)["models"].([]any); len(m) != 1 || m[0] != "gpt-4o-mini" {
		t.Errorf("models %v", m)
	}
	// Models: absent is every model (null), [] is none.
	all := e.must(201, "POST", "/admin/v1/keys", rootToken, `{"tenant":"`+acme+`","name":"all"}`).obj(t)
	none := e.must(201, "POST", "/admin/v1/keys", rootToken, `{"tenant":"`+acme+`","name":"none","models":[]}`).obj(t)
	if all["models"] != nil || none["models"] == nil || len(none["models"].([]any)) != 0 {
		t.Errorf("models: absent gave %v, [] gave %v", all["models"], none["models"])
	}

	// PATCH: fields change; null removes the team and the expiry.
	p := e.must(200, "PATCH", "/admin/v1/keys/"+id, rootToken, `{"team":null,"expires_at":null,"models":["a","b"],"name":"ci2"}`).obj(t)
	if p["team_id"] != nil || p["expires_at"] != nil || len(p["models"].([]any)) != 2 || p["name"] != "ci2" {
		t.Errorf("patched key %v", p)
	}

	// Lists: filters and cursors.
	byTeam := e.must(200, "GET", "/admin/v1/keys?tenant=acme-inc&team=ads", rootToken, "").obj(t)["data"].([]any)
	if len(byTeam) != 0 {
		t.Errorf("keys of team ads after the patch: %v", byTeam)
	}
	var ids []string
	cursor := ""
	for page := 0; ; page++ {
		q := "/admin/v1/keys?tenant=" + acme + "&limit=1"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		m := e.must(200, "GET", q, rootToken, "").obj(t)
		for _, it := range m["data"].([]any) {
			ids = append(ids, it.(map[string]any)["id"].(string))
		}
		cursor, _ = m["next_cursor"].(string)
		if cursor == "" || page > 5 {
			break
		}
	}
	if len(ids) != 3 || ids[0] != id {
		t.Errorf("paged keys %v", ids)
	}

	// Rotation: a new secret, the old one valid for the grace.
	rr := e.must(200, "POST", "/admin/v1/keys/"+id+"/rotate", rootToken, `{"grace":"1h"}`)
	newSecret := rr.str(t, "key")
	if newSecret == secret || !strings.HasPrefix(newSecret, auth.KeyPrefix) {
		t.Fatalf("rotation answered %s", rr.body)
	}
	e.noSecrets(rr.body)
	until, err := time.Parse(time.RFC3339Nano, rr.str(t, "previous_valid_until"))
	if err != nil || until.Before(time.Now().Add(59*time.Minute)) || until.After(time.Now().Add(61*time.Minute)) {
		t.Errorf("previous_valid_until %v (%v)", until, err)
	}
	for _, s := range []string{secret, newSecret} {
		if k, err := resolve(context.Background(), s); err != nil || k.ID != id {
			t.Errorf("after rotation a secret resolves to %q, %v", k.ID, err)
		}
	}
	// Default grace, and "0s" ending the old secret at once.
	r2 := e.must(200, "POST", "/admin/v1/keys/"+id+"/rotate", rootToken, "")
	until, _ = time.Parse(time.RFC3339Nano, r2.str(t, "previous_valid_until"))
	if d := time.Until(until); d < 23*time.Hour || d > 25*time.Hour {
		t.Errorf("default grace ends in %v, want 24h", d)
	}
	r3 := e.must(200, "POST", "/admin/v1/keys/"+id+"/rotate", rootToken, `{"grace":"0s"}`)
	if k, err := resolve(context.Background(), r2.str(t, "key")); err == nil && k.Usable(time.Now()) && k.PrevValidUntil.After(time.Now()) {
		t.Errorf("grace 0s: the rotated-out secret still works until %v", k.PrevValidUntil)
	}
	if _, ok := r3.obj(t)["previous_valid_until"]; ok {
		t.Errorf("grace 0s still shows a previous secret: %s", r3.body)
	}

	// Revocation.
	rv := e.must(200, "POST", "/admin/v1/keys/"+id+"/revoke", rootToken, "")
	if rv.str(t, "status") != "revoked" || rv.str(t, "revoked_at") == "" {
		t.Errorf("revoked key %s", rv.body)
	}
	if k, err := resolve(context.Background(), r3.str(t, "key")); err != nil || k.Usable(time.Now()) {
		t.Errorf("a revoked key is usable (%v)", err)
	}
	e.must(409, "POST", "/admin/v1/keys/"+id+"/rotate", rootToken, "")

	// Deletion: refused while the tenant owns keys; teams without keys go.
	e.must(409, "DELETE", "/admin/v1/tenants/acme-inc", rootToken, "")
	e.must(204, "DELETE", "/admin/v1/tenants/acme-inc/teams/search", rootToken, "")
	e.must(404, "GET", "/admin/v1/tenants/acme-inc/teams/search", rootToken, "")
	e.must(409, "DELETE", "/admin/v1/tenants/acme", rootToken, "") // its team "ads" is in the way
	e.must(204, "DELETE", "/admin/v1/tenants/acme/teams/ads", rootToken, "")
	e.must(204, "DELETE", "/admin/v1/tenants/acme", rootToken, "")
	e.must(404, "GET", "/admin/v1/tenants/acme", rootToken, "")
}
