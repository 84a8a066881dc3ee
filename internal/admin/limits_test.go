package admin_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/admin"
	"github.com/llmgw/llmgw/internal/admin/admintest"
	"github.com/llmgw/llmgw/internal/identity"
	"github.com/llmgw/llmgw/internal/limits"
	"github.com/llmgw/llmgw/internal/store"
)

// limitsOf is the "limits" member of an answer, as JSON ("null" for none).
func limitsOf(t *testing.T, r resp) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	l, ok := m["limits"]
	if !ok {
		t.Fatalf("no limits in %s", r.body)
	}
	return string(l)
}

func wantLimitsJSON(t *testing.T, what string, r resp, want string) {
	t.Helper()
	if got := limitsOf(t, r); got != want {
		t.Errorf("%s: limits %s, want %s", what, got, want)
	}
}

// A key's and a tenant's limits are set on creation, shown on every read,
// replaced by a PATCH, left by a PATCH without them, removed by null, and
// stored as the store keeps them.
func TestLimitsSetAndShown(t *testing.T) { eachDriver(t, testLimitsSetAndShown) }

func testLimitsSetAndShown(t *testing.T, st store.Store) {
	e := newEnv(t, st)
	tr := e.must(201, "POST", "/admin/v1/tenants", rootToken, `{"name":"acme","limits":{"rpm":1000,"tpm":500000}}`)
	wantLimitsJSON(t, "tenant created", tr, `{"rpm":1000,"tpm":500000}`)
	wantLimitsJSON(t, "tenant read", e.must(200, "GET", "/admin/v1/tenants/acme", rootToken, ""), `{"rpm":1000,"tpm":500000}`)
	tn, err := st.Tenants().Get(t.Context(), "acme")
	if err != nil || tn.Limits != (store.Limits{RPM: 1000, TPM: 500000}) {
		t.Fatalf("stored tenant limits %+v, %v", tn.Limits, err)
	}
	wantLimitsJSON(t, "tenant patched", e.must(200, "PATCH", "/admin/v1/tenants/acme", rootToken, `{"limits":{"concurrent":9}}`), `{"concurrent":9}`)
	wantLimitsJSON(t, "tenant relabelled", e.must(200, "PATCH", "/admin/v1/tenants/acme", rootToken, `{"labels":{"a":"b"}}`), `{"concurrent":9}`)
	wantLimitsJSON(t, "tenant cleared", e.must(200, "PATCH", "/admin/v1/tenants/acme", rootToken, `{"limits":null}`), `null`)
	if tn, _ := st.Tenants().Get(t.Context(), "acme"); !tn.Limits.IsZero() {
		t.Fatalf("stored tenant limits after null: %+v", tn.Limits)
	}
	wantLimitsJSON(t, "a tenant without limits", e.must(201, "POST", "/admin/v1/tenants", rootToken, `{"name":"plain"}`), `null`)

	r := e.must(201, "POST", "/admin/v1/keys", rootToken, `{"tenant":"acme","name":"k","limits":{"rpm":60,"concurrent":2}}`)
	wantLimitsJSON(t, "key created", r, `{"rpm":60,"concurrent":2}`)
	id := r.str(t, "id")
	wantLimitsJSON(t, "key read", e.must(200, "GET", "/admin/v1/keys/"+id, rootToken, ""), `{"rpm":60,"concurrent":2}`)
	list := e.must(200, "GET", "/admin/v1/keys?tenant=acme", rootToken, "").obj(t)["data"].([]any)
	if l := list[0].(map[string]any)["limits"].(map[string]any); l["rpm"] != 60.0 || l["concurrent"] != 2.0 {
		t.Errorf("key listed with limits %v", l)
	}
	wantLimitsJSON(t, "key patched", e.must(200, "PATCH", "/admin/v1/keys/"+id, rootToken, `{"limits":{"tpm":7000}}`), `{"tpm":7000}`)
	if k, _ := st.Keys().Get(t.Context(), id); k.Limits != (store.Limits{TPM: 7000}) {
		t.Fatalf("stored key limits %+v", k.Limits)
	}
	wantLimitsJSON(t, "key renamed", e.must(200, "PATCH", "/admin/v1/keys/"+id, rootToken, `{"name":"k2"}`), `{"tpm":7000}`)
	wantLimitsJSON(t, "zero is no limit", e.must(200, "PATCH", "/admin/v1/keys/"+id, rootToken, `{"limits":{"tpm":0,"rpm":null}}`), `null`)
	e.must(200, "PATCH", "/admin/v1/keys/"+id, rootToken, `{"limits":{"rpm":1}}`)
	wantLimitsJSON(t, "key cleared", e.must(200, "PATCH", "/admin/v1/keys/"+id, rootToken, `{"limits":null}`), `null`)
	if k, _ := st.Keys().Get(t.Context(), id); !k.Limits.IsZero() {
		t.Fatalf("stored key limits after null: %+v", k.Limits)
	}
}

// A tenant admin gives no key limits wider than its own key's, and does
// not change its tenant's limits; a global admin does both.
func TestLimitsWidening(t *testing.T) { eachDriver(t, testLimitsWidening) }

func testLimitsWidening(t *testing.T, st store.Store) {
	e := newEnv(t, st)
	e.tenant("a")
	_, admin := e.key(rootToken, `{"tenant":"a","name":"admin","role":"tenant_admin","limits":{"rpm":100,"tpm":1000}}`)
	_, free := e.key(rootToken, `{"tenant":"a","name":"free","role":"tenant_admin"}`)
	narrowID, _ := e.key(admin, `{"name":"narrow","limits":{"rpm":100,"tpm":1000,"concurrent":5}}`)
	tests := []struct {
		name, token, method, path, body string
		status                          int
		param                           string
	}{
		{"no limits", admin, "POST", "/admin/v1/keys", `{"name":"w1"}`, 403, "limits.rpm"},
		{"rpm above its own", admin, "POST", "/admin/v1/keys", `{"name":"w2","limits":{"rpm":101,"tpm":1000}}`, 403, "limits.rpm"},
		{"tpm left out", admin, "POST", "/admin/v1/keys", `{"name":"w3","limits":{"rpm":10}}`, 403, "limits.tpm"},
		{"tpm zero", admin, "POST", "/admin/v1/keys", `{"name":"w4","limits":{"rpm":10,"tpm":0}}`, 403, "limits.tpm"},
		{"within its own", admin, "POST", "/admin/v1/keys", `{"name":"ok1","limits":{"rpm":10,"tpm":1000}}`, 201, ""},
		{"widen by patch", admin, "PATCH", "/admin/v1/keys/" + narrowID, `{"limits":{"rpm":1000,"tpm":1000}}`, 403, "limits.rpm"},
		{"clear by patch", admin, "PATCH", "/admin/v1/keys/" + narrowID, `{"limits":null}`, 403, "limits.rpm"},
		{"narrow by patch", admin, "PATCH", "/admin/v1/keys/" + narrowID, `{"limits":{"rpm":1,"tpm":1}}`, 200, ""},
		{"unlimited admin, any limits", free, "POST", "/admin/v1/keys", `{"name":"ok2","limits":{"rpm":99999}}`, 201, ""},
		{"unlimited admin, none", free, "POST", "/admin/v1/keys", `{"name":"ok3"}`, 201, ""},
		{"tenant admin sets its tenant's limits", admin, "PATCH", "/admin/v1/tenants/a", `{"limits":{"rpm":1}}`, 403, "limits"},
		{"tenant admin clears its tenant's limits", free, "PATCH", "/admin/v1/tenants/a", `{"limits":null}`, 403, "limits"},
		{"tenant admin relabels its tenant", free, "PATCH", "/admin/v1/tenants/a", `{"labels":{"x":"y"}}`, 200, ""},
		{"global admin sets the tenant's limits", rootToken, "PATCH", "/admin/v1/tenants/a", `{"limits":{"rpm":1}}`, 200, ""},
		{"global admin widens a key", rootToken, "PATCH", "/admin/v1/keys/" + narrowID, `{"limits":null}`, 200, ""},
	}
	for _, tt := range tests {
		r := e.do(tt.method, tt.path, tt.token, tt.body)
		if r.status != tt.status {
			t.Errorf("%s: status %d, want %d: %s", tt.name, r.status, tt.status, r.body)
			continue
		}
		if tt.status >= 400 {
			if got := r.errField(t, "param"); got != tt.param {
				t.Errorf("%s: param %q, want %q", tt.name, got, tt.param)
			}
		}
	}
	if tn, _ := st.Tenants().Get(t.Context(), "a"); tn.Limits != (store.Limits{RPM: 1}) {
		t.Errorf("tenant limits %+v after the refusals, want the global admin's", tn.Limits)
	}
}

// The audit log's before and after of a change to limits show them.
func TestLimitsAudited(t *testing.T) {
	e := newEnv(t, nil)
	e.must(201, "POST", "/admin/v1/tenants", rootToken, `{"name":"acme","limits":{"rpm":5}}`)
	id, _ := e.key(rootToken, `{"tenant":"acme","name":"k","limits":{"tpm":10}}`)
	e.must(200, "PATCH", "/admin/v1/keys/"+id, rootToken, `{"limits":{"tpm":20}}`)
	e.must(200, "PATCH", "/admin/v1/tenants/acme", rootToken, `{"limits":null}`)
	recs := e.records()
	find := func(action string) store.AuditRecord {
		for i := len(recs) - 1; i >= 0; i-- {
			if recs[i].Action == action {
				return recs[i]
			}
		}
		t.Fatalf("no %s record", action)
		return store.AuditRecord{}
	}
	limitsIn := func(doc []byte) string {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(doc, &m); err != nil {
			t.Fatalf("audit document %q: %v", doc, err)
		}
		return string(m["limits"])
	}
	for _, c := range []struct {
		action, before, after string
	}{
		{"tenant.create", "", `{"rpm":5}`},
		{"key.create", "", `{"tpm":10}`},
		{"key.update", `{"tpm":10}`, `{"tpm":20}`},
		{"tenant.update", `{"rpm":5}`, `null`},
	} {
		rec := find(c.action)
		if c.before != "" {
			if got := limitsIn(rec.Before); got != c.before {
				t.Errorf("%s: before limits %s, want %s", c.action, got, c.before)
			}
		}
		if got := limitsIn(rec.After); got != c.after {
			t.Errorf("%s: after limits %s, want %s", c.action, got, c.after)
		}
	}
}

// Through the identity directory, limits changed with the admin API hold
// on this replica's next request: the key's own, and its tenant's on a
// key already cached.
func TestLimitsReachTheDirectoryAtOnce(t *testing.T) {
	st := admintest.SQLite(t)
	b, log := admintest.Backend(t, st)
	dir, err := identity.Open(t.Context(), identity.Options{Store: st, Hasher: b.Hasher, PollInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dir.Close() })
	b.Keys = admin.DirectoryKeys(dir)
	e := newEnvWith(t, st, b, log)
	e.tenant("a")
	id, secret := e.key(rootToken, `{"tenant":"a","name":"k","limits":{"rpm":10}}`)
	principal := func() (key, tenant limits.Limit) {
		t.Helper()
		p, err := dir.Principal(t.Context(), secret)
		if err != nil || p == nil {
			t.Fatalf("Principal: %v, %v", p, err)
		}
		return p.Limits, p.TenantLimits
	}
	if k, tn := principal(); k != (limits.Limit{RPM: 10}) || !tn.IsZero() {
		t.Fatalf("at first: %+v, tenant %+v", k, tn)
	}
	e.must(200, "PATCH", "/admin/v1/keys/"+id, rootToken, `{"limits":{"tpm":99}}`)
	if k, _ := principal(); k != (limits.Limit{TPM: 99}) {
		t.Errorf("after the key's change: %+v", k)
	}
	e.must(200, "PATCH", "/admin/v1/tenants/a", rootToken, `{"limits":{"concurrent":4}}`)
	if _, tn := principal(); tn != (limits.Limit{Concurrent: 4}) {
		t.Errorf("after the tenant's change: %+v", tn)
	}
}
