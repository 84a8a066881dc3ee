package admin_test

import (
	"strings"
	"testing"

	"github.com/llmgw/llmgw/internal/admin"
	"github.com/llmgw/llmgw/internal/store"
)

func TestBadInputIsAClear4xx(t *testing.T) { eachDriver(t, testBadInputIsAClear4xx) }

func testBadInputIsAClear4xx(t *testing.T, st store.Store) {
	e := newEnv(t, st)
	acme := e.tenant("acme")
	keyID, _ := e.key(rootToken, `{"tenant":"acme","name":"k"}`)
	deep := strings.Repeat("[", 200) + strings.Repeat("]", 200)
	manyLabels := `{"name":"x","labels":{` + func() string {
		var b strings.Builder
		for i := range 65 {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(`"l` + itoa(i) + `":"v"`)
		}
		return b.String()
	}() + `}}`
	tests := []struct {
		name, method, path, body string
		status                   int
		param, says              string
	}{
		{"unknown field", "POST", "/admin/v1/tenants", `{"name":"a","color":"red"}`, 400, "color", "unknown field"},
		{"duplicate field", "POST", "/admin/v1/tenants", `{"name":"a","name":"b"}`, 400, "name", "duplicate key"},
		{"escaped duplicate", "POST", "/admin/v1/tenants", `{"name":"a","n\u0061me":"b"}`, 400, "name", "duplicate key"},
		{"name wrong type", "POST", "/admin/v1/tenants", `{"name":5}`, 400, "name", "expected a string"},
		{"name null", "POST", "/admin/v1/tenants", `{"name":null}`, 400, "name", "expected a string"},
		{"name missing", "POST", "/admin/v1/tenants", `{}`, 400, "name", "missing"},
		{"name empty", "POST", "/admin/v1/tenants", `{"name":""}`, 400, "name", "1 to 200 bytes"},
		{"name too long", "POST", "/admin/v1/tenants", `{"name":"` + strings.Repeat("a", 201) + `"}`, 400, "name", "1 to 200"},
		{"name control char", "POST", "/admin/v1/tenants", `{"name":"a\u0007b"}`, 400, "name", "control characters"},
		{"name newline", "POST", "/admin/v1/tenants", `{"name":"a\nb"}`, 400, "name", "control characters"},
		{"name NUL", "POST", "/admin/v1/tenants", `{"name":"a\u0000b"}`, 400, "name", "UTF-8"},
		{"tenant name like an ID", "POST", "/admin/v1/tenants", `{"name":"tnt_0123"}`, 400, "name", "begins IDs"},
		{"team name like an ID", "POST", "/admin/v1/tenants/acme/teams", `{"name":"team_x"}`, 400, "name", "begins IDs"},
		{"rename tenant like an ID", "PATCH", "/admin/v1/tenants/acme", `{"name":"tnt_x"}`, 400, "name", "begins IDs"},
		{"invalid UTF-8", "POST", "/admin/v1/tenants", "{\"name\":\"a\xffb\"}", 400, "", "UTF-8"},
		{"invalid UTF-8 label", "POST", "/admin/v1/tenants", "{\"name\":\"ok\",\"labels\":{\"k\":\"\xc3\"}}", 400, "", "UTF-8"},
		{"too many labels", "POST", "/admin/v1/tenants", manyLabels, 400, "labels", "at most 64"},
		{"label too long", "POST", "/admin/v1/tenants", `{"name":"x","labels":{"k":"` + strings.Repeat("v", 257) + `"}}`, 400, "labels", "at most 256"},
		{"label not a string", "POST", "/admin/v1/tenants", `{"name":"x","labels":{"k":1}}`, 400, "labels.k", "expected a string"},
		{"labels not an object", "POST", "/admin/v1/tenants", `{"name":"x","labels":[]}`, 400, "labels", "expected an object"},
		{"not an object", "POST", "/admin/v1/tenants", `["name"]`, 400, "", "JSON object"},
		{"malformed JSON", "POST", "/admin/v1/tenants", `{"name":`, 400, "", "invalid JSON"},
		{"empty body", "POST", "/admin/v1/tenants", ``, 400, "", "empty"},
		{"deep nesting", "POST", "/admin/v1/tenants", `{"name":"x","labels":` + deep + `}`, 400, "", "nest"},
		{"huge body", "POST", "/admin/v1/tenants", `{"name":"` + strings.Repeat("a", admin.MaxBody) + `"}`, 413, "", "larger than"},
		{"budget without period", "POST", "/admin/v1/keys", `{"tenant":"acme","name":"b","budget":{"usd":5}}`, 400, "budget.period", "missing"},
		{"budget zero", "POST", "/admin/v1/keys", `{"tenant":"acme","name":"b","budget":{"usd":0,"period":"daily"}}`, 400, "budget.usd", "above 0"},
		{"budget huge", "POST", "/admin/v1/keys", `{"tenant":"acme","name":"b","budget":{"usd":1e300,"period":"daily"}}`, 400, "budget.usd", "at most"},
		{"budget string", "POST", "/admin/v1/keys", `{"tenant":"acme","name":"b","budget":{"usd":"5","period":"daily"}}`, 400, "budget.usd", "number"},
		{"budget period", "PATCH", "/admin/v1/tenants/acme", `{"budget":{"usd":5,"period":"hourly"}}`, 400, "budget.period", "hourly"},
		{"budget unknown field", "POST", "/admin/v1/tenants/acme/teams", `{"name":"t","budget":{"usd":5,"period":"daily","currency":"EUR"}}`, 400, "budget.currency", "unknown field"},
		{"limits not an object", "POST", "/admin/v1/keys", `{"tenant":"acme","name":"l","limits":5}`, 400, "limits", "expected an object"},
		{"limits unknown field", "POST", "/admin/v1/keys", `{"tenant":"acme","name":"l","limits":{"rps":5}}`, 400, "limits.rps", "unknown field"},
		{"limits duplicate field", "POST", "/admin/v1/keys", `{"tenant":"acme","name":"l","limits":{"rpm":5,"rpm":6}}`, 400, "limits.rpm", "duplicate key"},
		{"limits negative", "POST", "/admin/v1/keys", `{"tenant":"acme","name":"l","limits":{"rpm":-1}}`, 400, "limits.rpm", "must not be negative"},
		{"limits fraction", "POST", "/admin/v1/keys", `{"tenant":"acme","name":"l","limits":{"tpm":1.5}}`, 400, "limits.tpm", "expected an integer"},
		{"limits exponent", "POST", "/admin/v1/keys", `{"tenant":"acme","name":"l","limits":{"tpm":1e3}}`, 400, "limits.tpm", "expected an integer"},
		{"limits string", "POST", "/admin/v1/keys", `{"tenant":"acme","name":"l","limits":{"concurrent":"5"}}`, 400, "limits.concurrent", "expected an integer"},
		{"limits huge", "POST", "/admin/v1/keys", `{"tenant":"acme","name":"l","limits":{"rpm":99999999999999999999}}`, 400, "limits.rpm", "out of range"},
		{"limits negative on patch", "PATCH", "/admin/v1/keys/" + keyID, `{"limits":{"concurrent":-3}}`, 400, "limits.concurrent", "must not be negative"},
		{"tenant limits negative", "POST", "/admin/v1/tenants", `{"name":"neg","limits":{"tpm":-1}}`, 400, "limits.tpm", "must not be negative"},
		{"tenant limits unknown field", "PATCH", "/admin/v1/tenants/acme", `{"limits":{"budget":1}}`, 400, "limits.budget", "unknown field"},
		{"tenant limits not an object", "PATCH", "/admin/v1/tenants/acme", `{"limits":[1]}`, 400, "limits", "expected an object"},
		{"tenant missing", "POST", "/admin/v1/keys", `{"name":"x"}`, 400, "tenant", "missing"},
		{"unknown tenant", "POST", "/admin/v1/keys", `{"tenant":"nope","name":"x"}`, 404, "", "not found"},
		{"unknown team", "POST", "/admin/v1/keys", `{"tenant":"acme","name":"x","team":"nope"}`, 400, "team", "no team"},
		{"models not a list", "POST", "/admin/v1/keys", `{"tenant":"acme","name":"x","models":"gpt"}`, 400, "models", "expected an array"},
		{"model not a string", "POST", "/admin/v1/keys", `{"tenant":"acme","name":"x","models":["a",1]}`, 400, "models[1]", "expected a string"},
		{"model empty", "POST", "/admin/v1/keys", `{"tenant":"acme","name":"x","models":[""]}`, 400, "models[0]", "1 to 256"},
		{"expiry not a time", "POST", "/admin/v1/keys", `{"tenant":"acme","name":"x","expires_at":"tomorrow"}`, 400, "expires_at", "RFC 3339"},
		{"expiry past", "POST", "/admin/v1/keys", `{"tenant":"acme","name":"x","expires_at":"2001-01-01T00:00:00Z"}`, 400, "expires_at", "not in the future"},
		{"role unknown", "POST", "/admin/v1/keys", `{"tenant":"acme","name":"x","role":"owner"}`, 400, "role", "tenant_admin"},
		{"tenant field on patch", "PATCH", "/admin/v1/keys/" + keyID, `{"tenant":"other"}`, 400, "tenant", "unknown field"},
		{"grace not a duration", "POST", "/admin/v1/keys/" + keyID + "/rotate", `{"grace":"soon"}`, 400, "grace", "duration"},
		{"grace negative", "POST", "/admin/v1/keys/" + keyID + "/rotate", `{"grace":"-1h"}`, 400, "grace", "from 0s"},
		{"grace too long", "POST", "/admin/v1/keys/" + keyID + "/rotate", `{"grace":"1000h"}`, 400, "grace", "from 0s"},
		{"grace a number", "POST", "/admin/v1/keys/" + keyID + "/rotate", `{"grace":3600}`, 400, "grace", "expected a string"},
		{"revoke with a field", "POST", "/admin/v1/keys/" + keyID + "/revoke", `{"now":true}`, 400, "now", "unknown field"},
		{"limit negative", "GET", "/admin/v1/keys?limit=-1", ``, 400, "limit", "from 1 to 1000"},
		{"limit zero", "GET", "/admin/v1/tenants?limit=0", ``, 400, "limit", "from 1 to 1000"},
		{"limit word", "GET", "/admin/v1/tenants?limit=abc", ``, 400, "limit", "from 1 to 1000"},
		{"limit huge", "GET", "/admin/v1/tenants?limit=99999999999999999999", ``, 400, "limit", "from 1 to 1000"},
		{"cursor garbage", "GET", "/admin/v1/tenants?cursor=%25%25%25", ``, 400, "cursor", "malformed cursor"},
		{"cursor not base64", "GET", "/admin/v1/keys?cursor=***", ``, 400, "cursor", "malformed cursor"},
		{"cursor empty", "GET", "/admin/v1/audit?cursor=", ``, 400, "cursor", "malformed cursor"},
		{"unknown query", "GET", "/admin/v1/keys?tennant=acme", ``, 400, "tennant", "unknown query parameter"},
		{"repeated query", "GET", "/admin/v1/keys?tenant=acme&tenant=b", ``, 400, "tenant", "more than once"},
		{"bad escape in query", "GET", "/admin/v1/keys?tenant=%zz", ``, 400, "", "malformed query"},
		{"team without tenant", "GET", "/admin/v1/keys?team=ads", ``, 400, "team", "needs the tenant"},
		{"audit from garbage", "GET", "/admin/v1/audit?from=yesterday", ``, 400, "from", "RFC 3339"},
		{"id with slash", "GET", "/admin/v1/keys/key_1%2F..%2Fx", ``, 404, "", "not found"},
		{"id with percent", "GET", "/admin/v1/tenants/%25", ``, 404, "", "not found"},
		{"id invalid UTF-8", "GET", "/admin/v1/tenants/%FF", ``, 404, "", "not found"},
		{"id huge", "GET", "/admin/v1/keys/" + strings.Repeat("k", 5000), ``, 404, "", "not found"},
		{"team of a tenant id with slash", "GET", "/admin/v1/tenants/" + acme + "/teams/a%2Fb", ``, 404, "", "not found"},
		{"unknown route", "GET", "/admin/v1/nothing", ``, 404, "", "no route"},
		{"unknown method", "PUT", "/admin/v1/tenants", ``, 404, "", "no route"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(tt.method, tt.path, rootToken, tt.body)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if got := r.errField(t, "param"); got != tt.param {
				t.Errorf("param %q, want %q: %s", got, tt.param, r.body)
			}
			if msg := r.errField(t, "message"); !strings.Contains(msg, tt.says) {
				t.Errorf("message %q does not say %q", msg, tt.says)
			}
			if len(r.body) > 2048 {
				t.Errorf("error body of %d bytes", len(r.body))
			}
		})
	}
	// Nothing above was created.
	if n := len(e.must(200, "GET", "/admin/v1/tenants", rootToken, "").obj(t)["data"].([]any)); n != 1 {
		t.Errorf("%d tenants after refused requests, want 1", n)
	}
	_ = acme
}
