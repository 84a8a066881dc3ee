package admin_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/admin"
	"github.com/llmgw/llmgw/internal/admin/admintest"
	"github.com/llmgw/llmgw/internal/audit"
	"github.com/llmgw/llmgw/internal/auth"
	"github.com/llmgw/llmgw/internal/store"
)

func TestEveryChangeIsAudited(t *testing.T) { eachDriver(t, testEveryChangeIsAudited) }

func testEveryChangeIsAudited(t *testing.T, st store.Store) {
	e := newEnv(t, st)
	tenant := e.tenant("acme")
	team := e.must(201, "POST", "/admin/v1/tenants/acme/teams", rootToken, `{"name":"t"}`).str(t, "id")
	key, secret := e.key(rootToken, `{"tenant":"acme","name":"k"}`)
	taKey, taSecret := e.key(rootToken, `{"tenant":"acme","name":"ta","role":"tenant_admin"}`)
	base := len(e.records())

	// Each route that changes something, once, with the action it records.
	actions := map[string]string{
		"POST /admin/v1/targets/reset":                   "targets.reset",
		"POST /admin/v1/config/reload":                   "config.reload",
		"POST /admin/v1/tenants":                         "tenant.create",
		"PATCH /admin/v1/tenants/{tenant}":               "tenant.update",
		"DELETE /admin/v1/tenants/{tenant}":              "tenant.delete",
		"POST /admin/v1/tenants/{tenant}/teams":          "team.create",
		"PATCH /admin/v1/tenants/{tenant}/teams/{team}":  "team.update",
		"DELETE /admin/v1/tenants/{tenant}/teams/{team}": "team.delete",
		"POST /admin/v1/keys":                            "key.create",
		"PATCH /admin/v1/keys/{key}":                     "key.update",
		"POST /admin/v1/keys/{key}/rotate":               "key.rotate",
		"POST /admin/v1/keys/{key}/revoke":               "key.revoke",
	}
	var secrets []string
	n := 0
	for _, rt := range admin.Routes() {
		if !rt.Write() {
			continue
		}
		action, ok := actions[rt.Method+" "+rt.Pattern]
		if !ok {
			t.Errorf("%s %s changes something but the test knows no action for it", rt.Method, rt.Pattern)
			continue
		}
		tn, tm := tenant, team
		if rt.Method == "DELETE" { // something deletable
			other := e.tenant("other-" + itoa(n))
			tn = other
			if strings.Contains(rt.Pattern, "{team}") {
				tn = tenant
				tm = e.must(201, "POST", "/admin/v1/tenants/acme/teams", rootToken, `{"name":"gone"}`).str(t, "id")
			}
		}
		path, body := routeSample(rt, tn, tm, key)
		before := len(e.records())
		r := e.do(rt.Method, path, rootToken, body)
		if r.status >= 300 {
			t.Fatalf("%s %s: %d %s", rt.Method, path, r.status, r.body)
		}
		if r.body != "" {
			if s := r.str(t, "key"); s != "" {
				secrets = append(secrets, s)
			}
		}
		recs := e.records()
		if len(recs) != before+1 {
			t.Fatalf("%s %s: %d records, want one", rt.Method, path, len(recs)-before)
		}
		rec := recs[len(recs)-1]
		if rec.Action != action || rec.Actor != "admin_token" || rec.Source != "127.0.0.1" || rec.RequestID != "req-"+itoa(e.reqID) {
			t.Errorf("%s %s recorded %+v", rt.Method, path, rec)
		}
		if action != "targets.reset" && rec.Target == "" {
			t.Errorf("%s: no target", action)
		}
		if strings.HasSuffix(action, ".update") || action == "key.rotate" || action == "key.revoke" {
			if rec.Before == nil || rec.After == nil || string(rec.Before) == string(rec.After) {
				t.Errorf("%s: before %s, after %s", action, rec.Before, rec.After)
			}
		}
		if action == "tenant.create" && !strings.Contains(string(rec.After), `"name":"sample-tenant"`) {
			t.Errorf("tenant.create after = %s", rec.After)
		}
		n++
	}
	if n != len(actions) {
		t.Errorf("%d changing routes, %d actions", n, len(actions))
	}
	// The records hold neither a secret nor a hash.
	all := e.records()
	secrets = append(secrets, secret, taSecret)
	for _, rec := range all[base:] {
		doc := string(rec.Before) + string(rec.After)
		for _, s := range secrets {
			if strings.Contains(doc, s) || strings.Contains(doc, s[auth.DisplayPrefixLen:]) {
				t.Errorf("record %d holds a secret: %s", rec.Seq, doc)
			}
		}
		e.noSecrets(doc)
	}

	// A tenant admin's actions name its key; a key.create records the
	// tenant.
	e.must(201, "POST", "/admin/v1/keys", taSecret, `{"name":"by-ta"}`)
	last := e.records()
	if rec := last[len(last)-1]; rec.Actor != "key:"+taKey || rec.Action != "key.create" || rec.TenantID != tenant {
		t.Errorf("tenant admin's record %+v", rec)
	}

	// GET /audit: filters and paging; verify: ok over the whole chain.
	for _, tt := range []struct {
		query string
		want  func(m map[string]any) bool
	}{
		{"action=key.rotate", func(m map[string]any) bool { return m["action"] == "key.rotate" }},
		{"actor=" + url.QueryEscape("key:"+taKey), func(m map[string]any) bool { return m["actor"] == "key:"+taKey }},
		{"tenant=acme", func(m map[string]any) bool { return m["tenant_id"] == tenant }},
		{"from=" + url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339)), func(map[string]any) bool { return false }},
	} {
		data := e.must(200, "GET", "/admin/v1/audit?"+tt.query, rootToken, "").obj(t)["data"].([]any)
		if len(data) == 0 && !strings.HasPrefix(tt.query, "from=") {
			t.Errorf("?%s: nothing", tt.query)
		}
		for _, it := range data {
			if !tt.want(it.(map[string]any)) {
				t.Errorf("?%s gave %v", tt.query, it)
			}
		}
	}
	first := e.must(200, "GET", "/admin/v1/audit?limit=2", rootToken, "").obj(t)
	if len(first["data"].([]any)) != 2 || first["next_cursor"] == nil {
		t.Fatalf("first page %v", first)
	}
	second := e.must(200, "GET", "/admin/v1/audit?limit=2&cursor="+url.QueryEscape(first["next_cursor"].(string)), rootToken, "").obj(t)
	if s1, s2 := first["data"].([]any)[1].(map[string]any)["seq"], second["data"].([]any)[0].(map[string]any)["seq"]; s2.(float64) != s1.(float64)+1 {
		t.Errorf("pages do not follow: %v then %v", s1, s2)
	}
	var v struct {
		OK      bool  `json:"ok"`
		Records int64 `json:"records"`
	}
	if err := json.Unmarshal([]byte(e.must(200, "GET", "/admin/v1/audit/verify", rootToken, "").body), &v); err != nil || !v.OK || v.Records != int64(len(e.records())) {
		t.Errorf("verify %+v (%v), %d records", v, err, len(e.records()))
	}
}

func TestFailedAuthenticationsAreAuditedAggregated(t *testing.T) {
	e := newEnv(t, nil)
	e.tenant("acme")
	_, plain := e.key(rootToken, `{"tenant":"acme","name":"plain"}`)
	base := len(e.records())
	for range 5 {
		e.must(401, "GET", "/admin/v1/tenants", "sk-llmgw-ABCDthisisnotakey", "")
	}
	e.must(401, "GET", "/admin/v1/tenants", "wrong-admin-token", "")
	e.must(403, "GET", "/admin/v1/tenants", plain, "") // authenticated, no admin role
	recs := e.records()[base:]
	got := map[string]int64{}
	for _, r := range recs {
		if r.Action != "auth.failure" || r.Source != "127.0.0.1" {
			t.Errorf("record %+v", r)
		}
		got[r.Target] += r.Count
		if strings.Contains(string(r.After), "thisisnotakey") || strings.Contains(string(r.After), "wrong-admin") {
			t.Errorf("a failure record holds the credential: %s", r.After)
		}
	}
	if len(recs) != 2 || got["sk-llmgw-ABCD"] != 5 || got["other"] != 1 {
		t.Errorf("failures recorded %v in %d records", got, len(recs))
	}
}

// failingAudit is an audit log that cannot write.
type failingAudit struct{ admin.Auditor }

func (failingAudit) Record(context.Context, audit.Event) error { return errors.New("disk full") }

// A change the audit log could not record is answered 503, and a key
// created so is revoked: nobody holds its secret, and nothing says it
// exists.
func TestUnrecordedChangeIs503AndItsKeyIsRevoked(t *testing.T) {
	st := admintest.SQLite(t)
	b, log := admintest.Backend(t, st)
	e := newEnv(t, st)
	e.tenant("acme")
	b.Audit = failingAudit{log}
	failing := newEnvWith(t, st, b, log)
	r := failing.must(503, "POST", "/admin/v1/keys", rootToken, `{"tenant":"acme","name":"lost"}`)
	if strings.Contains(r.body, "sk-llmgw-") || !strings.Contains(r.errField(t, "message"), "could not record") {
		t.Errorf("answer %s", r.body)
	}
	page, err := st.Keys().List(context.Background(), store.KeyFilter{}, store.ListOptions{})
	if err != nil || len(page.Items) != 1 || page.Items[0].RevokedAt.IsZero() {
		t.Fatalf("keys after the failed record: %+v (%v)", page.Items, err)
	}
}
