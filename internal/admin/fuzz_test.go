package admin_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/llmgw/llmgw/internal/admin"
	"github.com/llmgw/llmgw/internal/admin/admintest"
	"github.com/llmgw/llmgw/internal/store"
)

// Whatever body a client sends to the routes that take one, the answer is
// a success or a 4xx in the error shape: never a 500, never a panic.
func FuzzAdminBodies(f *testing.F) {
	for _, s := range []string{
		`{"name":"x"}`, `{"tenant":"acme","name":"k","models":["a","b/*"],"labels":{"a":"b"},"expires_at":"2090-01-01T00:00:00Z","role":"read_only"}`,
		`{"grace":"1h"}`, `{"team":null,"expires_at":null,"role":null}`, `{"limits":null,"budget":null}`, `{"name":"\u0000"}`,
		"{\"name\":\"\xff\"}", `{"labels":{"":""}}`, `[`, `{"name":"a","name":"a"}`, `{"a":` + strings.Repeat("[", 300), `null`, `1e999`,
		`{"expires_at":"0001-01-01T00:00:00Z"}`, `{"models":[` + strings.Repeat(`"m",`, 50) + `"m"]}`, `{"grace":"9223372036854775807ns"}`,
	} {
		f.Add(s)
	}
	st := admintest.SQLite(f)
	b, _ := admintest.Backend(f, st)
	api := admin.New(admin.Options{Token: rootToken, Backend: b, WriteError: writeError})
	ctx := context.Background()
	tn, err := st.Tenants().Create(ctx, store.Tenant{Name: "acme"})
	if err != nil {
		f.Fatal(err)
	}
	k, err := st.Keys().Create(ctx, store.Key{TenantID: tn.ID, Name: "k", Hash: []byte("h")})
	if err != nil {
		f.Fatal(err)
	}
	routes := []struct{ method, path string }{
		{"POST", "/admin/v1/tenants"}, {"PATCH", "/admin/v1/tenants/acme"}, {"POST", "/admin/v1/tenants/acme/teams"},
		{"POST", "/admin/v1/keys"}, {"PATCH", "/admin/v1/keys/" + k.ID}, {"POST", "/admin/v1/keys/" + k.ID + "/rotate"},
		{"POST", "/admin/v1/keys/" + k.ID + "/revoke"}, {"POST", "/admin/v1/targets/reset"},
	}
	f.Fuzz(func(t *testing.T, body string) {
		for _, rt := range routes {
			req := httptest.NewRequest(rt.method, rt.path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+rootToken)
			rec := httptest.NewRecorder()
			api.ServeHTTP(rec, req)
			if rec.Code >= 500 || (rec.Code >= 400 && !strings.Contains(rec.Body.String(), `"error"`)) {
				t.Fatalf("%s %s with %q: %d %s", rt.method, rt.path, body, rec.Code, rec.Body)
			}
		}
	})
}
