package admin_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/llmgw/llmgw/internal/admin"
	"github.com/llmgw/llmgw/internal/admin/admintest"
)

// A verified client certificate mapped in Certs is a global admin, named
// "cert:<name>" in the audit log; a read-only one may only read; an
// Authorization header, when sent, is what authenticates.
func TestCertAdmin(t *testing.T) {
	st := admintest.SQLite(t)
	b, log := admintest.Backend(t, st)
	api := admin.New(admin.Options{
		Certs: []admin.CertAdmin{
			{Subject: "CN=ops,O=acme", Name: "ops"},
			{Subject: "CN=viewer,O=acme", Name: "viewer", ReadOnly: true},
		},
		WriteError: writeError,
		Backend:    b,
	})
	do := func(method, path, body, cn string, verified bool, header string) int {
		t.Helper()
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		leaf := &x509.Certificate{Subject: pkix.Name{CommonName: cn, Organization: []string{"acme"}}}
		r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{leaf}}
		if verified {
			r.TLS.VerifiedChains = [][]*x509.Certificate{{leaf}}
		}
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		w := httptest.NewRecorder()
		api.ServeHTTP(w, r)
		return w.Code
	}
	if code := do("POST", "/admin/v1/tenants", `{"name":"acme"}`, "ops", true, ""); code != http.StatusCreated {
		t.Fatalf("mapped admin creates a tenant: %d", code)
	}
	if err := log.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	recs, err := st.Audit().Scan(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) == 0 || recs[len(recs)-1].Actor != "cert:ops" {
		t.Errorf("audit records %+v, want the last by cert:ops", recs)
	}
	for _, tc := range []struct {
		name, method, path, body, cn string
		verified                     bool
		header                       string
		want                         int
	}{
		{"read-only reads", "GET", "/admin/v1/tenants", "", "viewer", true, "", 200},
		{"read-only writes", "POST", "/admin/v1/tenants", `{"name":"b"}`, "viewer", true, "", 403},
		{"unverified", "GET", "/admin/v1/tenants", "", "ops", false, "", 401},
		{"unmapped", "GET", "/admin/v1/tenants", "", "svc-a", true, "", 401},
		{"a wrong token with a mapped certificate", "GET", "/admin/v1/tenants", "", "ops", true, "Bearer wrong-token-0123456789", 401},
	} {
		if got := do(tc.method, tc.path, tc.body, tc.cn, tc.verified, tc.header); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}
