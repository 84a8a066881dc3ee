package admin_test

import (
	"strings"
	"testing"

	"github.com/llmgw/llmgw/internal/store"
)

func TestRoles(t *testing.T) { eachDriver(t, testRoles) }

func testRoles(t *testing.T, st store.Store) {
	e := newEnv(t, st)
	e.tenant("a")
	e.tenant("b")
	e.must(201, "POST", "/admin/v1/tenants/a/teams", rootToken, `{"name":"t"}`)
	e.must(201, "POST", "/admin/v1/tenants/b/teams", rootToken, `{"name":"t"}`)
	_, adminA := e.key(rootToken, `{"tenant":"a","name":"admin","role":"tenant_admin","models":["gpt-4o","openai/*"],"expires_at":"2090-01-01T00:00:00Z"}`)
	_, readerA := e.key(rootToken, `{"tenant":"a","name":"reader","role":"read_only"}`)
	_, plainA := e.key(rootToken, `{"tenant":"a","name":"plain"}`)
	revokedID, revokedA := e.key(rootToken, `{"tenant":"a","name":"gone","role":"tenant_admin"}`)
	e.must(200, "POST", "/admin/v1/keys/"+revokedID+"/revoke", rootToken, "")
	wideID, _ := e.key(rootToken, `{"tenant":"a","name":"wide"}`)
	keyB, _ := e.key(rootToken, `{"tenant":"b","name":"kb"}`)
	const okKey = `{"name":"%s","models":["gpt-4o"],"expires_at":"2080-01-01T00:00:00Z"}`

	tests := []struct {
		name, token, method, path, body string
		status                          int
		says                            string
	}{
		// Credentials.
		{"no credential", "", "GET", "/admin/v1/tenants", "", 401, "missing or invalid"},
		{"wrong token", "root-token-012345678X", "GET", "/admin/v1/tenants", "", 401, "missing or invalid"},
		{"token prefix", "root-token", "GET", "/admin/v1/tenants", "", 401, "missing or invalid"},
		{"revoked admin key", revokedA, "GET", "/admin/v1/keys", "", 401, "missing or invalid"},
		{"data-plane key", plainA, "GET", "/admin/v1/keys", "", 403, "no admin role"},
		// Read-only global token: reads everything, writes nothing.
		{"viewer reads tenants", viewToken, "GET", "/admin/v1/tenants", "", 200, ""},
		{"viewer reads B's keys", viewToken, "GET", "/admin/v1/keys?tenant=b", "", 200, ""},
		{"viewer verifies", viewToken, "GET", "/admin/v1/audit/verify", "", 200, ""},
		{"viewer cannot create", viewToken, "POST", "/admin/v1/tenants", `{"name":"c"}`, 403, "read-only"},
		{"viewer cannot revoke", viewToken, "POST", "/admin/v1/keys/" + keyB + "/revoke", "", 403, "read-only"},
		{"viewer cannot reset", viewToken, "POST", "/admin/v1/targets/reset", `{"all":true}`, 403, "read-only"},
		// Tenant admin: its own tenant only; another's is not found.
		{"tenant admin lists its keys", adminA, "GET", "/admin/v1/keys", "", 200, ""},
		{"tenant admin reads its tenant", adminA, "GET", "/admin/v1/tenants/a", "", 200, ""},
		{"tenant admin patches its tenant", adminA, "PATCH", "/admin/v1/tenants/a", `{"labels":{"x":"y"}}`, 200, ""},
		{"tenant admin creates a team", adminA, "POST", "/admin/v1/tenants/a/teams", `{"name":"new"}`, 201, ""},
		{"tenant admin creates a key", adminA, "POST", "/admin/v1/keys", strings.Replace(okKey, "%s", "k1", 1), 201, ""},
		{"tenant admin names its tenant", adminA, "POST", "/admin/v1/keys", `{"tenant":"a","name":"k2","models":["openai/gpt-5"],"expires_at":"2080-01-01T00:00:00Z"}`, 201, ""},
		{"pattern within pattern", adminA, "POST", "/admin/v1/keys", `{"name":"k3","models":["openai/o/*"],"expires_at":"2080-01-01T00:00:00Z"}`, 201, ""},
		{"tenant B is not found", adminA, "GET", "/admin/v1/tenants/b", "", 404, "not found"},
		{"B's teams are not found", adminA, "GET", "/admin/v1/tenants/b/teams", "", 404, "not found"},
		{"B's key is not found", adminA, "GET", "/admin/v1/keys/" + keyB, "", 404, "not found"},
		{"B's key cannot be revoked", adminA, "POST", "/admin/v1/keys/" + keyB + "/revoke", "", 404, "not found"},
		{"B's key cannot be patched", adminA, "PATCH", "/admin/v1/keys/" + keyB, `{"name":"x"}`, 404, "not found"},
		{"no key in B", adminA, "POST", "/admin/v1/keys", `{"tenant":"b","name":"x","models":["gpt-4o"],"expires_at":"2080-01-01T00:00:00Z"}`, 404, "not found"},
		{"B's keys are not listed", adminA, "GET", "/admin/v1/keys?tenant=b", "", 404, "not found"},
		{"B's audit is not found", adminA, "GET", "/admin/v1/audit?tenant=b", "", 404, "not found"},
		{"tenant list is global", adminA, "GET", "/admin/v1/tenants", "", 403, "global admins"},
		{"tenant creation is global", adminA, "POST", "/admin/v1/tenants", `{"name":"c"}`, 403, "global admins"},
		{"tenant deletion is global", adminA, "DELETE", "/admin/v1/tenants/a", "", 403, "global admins"},
		{"targets are global", adminA, "GET", "/admin/v1/targets", "", 403, "global admins"},
		{"reset is global", adminA, "POST", "/admin/v1/targets/reset", `{"all":true}`, 403, "global admins"},
		{"verify is global", adminA, "GET", "/admin/v1/audit/verify", "", 403, "global admins"},
		// Never beyond its own rights.
		{"all models", adminA, "POST", "/admin/v1/keys", `{"name":"w1","expires_at":"2080-01-01T00:00:00Z"}`, 403, "only models your own key"},
		{"another model", adminA, "POST", "/admin/v1/keys", `{"name":"w2","models":["claude"],"expires_at":"2080-01-01T00:00:00Z"}`, 403, `"claude"`},
		{"wider pattern", adminA, "POST", "/admin/v1/keys", `{"name":"w3","models":["*"],"expires_at":"2080-01-01T00:00:00Z"}`, 403, `"*"`},
		{"bare prefix", adminA, "POST", "/admin/v1/keys", `{"name":"w4","models":["openai/"],"expires_at":"2080-01-01T00:00:00Z"}`, 403, `"openai/"`},
		{"no expiry", adminA, "POST", "/admin/v1/keys", `{"name":"w5","models":["gpt-4o"]}`, 403, "expire no later"},
		{"later expiry", adminA, "POST", "/admin/v1/keys", `{"name":"w6","models":["gpt-4o"],"expires_at":"2095-01-01T00:00:00Z"}`, 403, "expire no later"},
		{"widen by patch", adminA, "PATCH", "/admin/v1/keys/" + wideID, `{"name":"wide2"}`, 403, "only models"},
		{"remove expiry by patch", adminA, "PATCH", "/admin/v1/keys/" + wideID, `{"models":["gpt-4o"],"expires_at":null}`, 403, "expire no later"},
		{"rotate a wider key", adminA, "POST", "/admin/v1/keys/" + wideID + "/rotate", "", 403, "more rights"},
		{"narrow by patch", adminA, "PATCH", "/admin/v1/keys/" + wideID, `{"models":["gpt-4o"],"expires_at":"2085-01-01T00:00:00Z"}`, 200, ""},
		{"then rotate it", adminA, "POST", "/admin/v1/keys/" + wideID + "/rotate", "", 200, ""},
		{"revoke in its tenant", adminA, "POST", "/admin/v1/keys/" + wideID + "/revoke", "", 200, ""},
		// Read-only key: reads its tenant, writes nothing.
		{"reader lists its keys", readerA, "GET", "/admin/v1/keys", "", 200, ""},
		{"reader reads its audit", readerA, "GET", "/admin/v1/audit", "", 200, ""},
		{"reader cannot create", readerA, "POST", "/admin/v1/keys", strings.Replace(okKey, "%s", "r1", 1), 403, "read-only"},
		{"reader cannot patch", readerA, "PATCH", "/admin/v1/tenants/a", `{"labels":{}}`, 403, "read-only"},
		{"reader does not see B", readerA, "GET", "/admin/v1/keys/" + keyB, "", 404, "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(tt.method, tt.path, tt.token, tt.body)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if tt.says != "" && !strings.Contains(r.errField(t, "message"), tt.says) {
				t.Errorf("message %q does not say %q", r.errField(t, "message"), tt.says)
			}
			if tt.token != "" && strings.Contains(r.body, tt.token) {
				t.Errorf("the credential is echoed: %s", r.body)
			}
		})
	}
	// Lists a tenant admin sees hold only its tenant's rows.
	for _, path := range []string{"/admin/v1/keys", "/admin/v1/audit", "/admin/v1/tenants/a/teams"} {
		for _, it := range e.must(200, "GET", path, adminA, "").obj(t)["data"].([]any) {
			m := it.(map[string]any)
			if m["tenant_id"] != e.must(200, "GET", "/admin/v1/tenants/a", rootToken, "").str(t, "id") {
				t.Errorf("%s shows a row of another tenant: %v", path, m)
			}
		}
	}
}
