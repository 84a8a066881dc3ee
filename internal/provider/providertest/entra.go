package providertest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// Entra is a fake Microsoft Entra ID authority for the client credentials
// flow, over TLS as the Azure SDK requires: it serves a tenant's OpenID
// configuration and its token endpoint, POST /{tenant}/oauth2/v2.0/token,
// which issues "entra-token-1", "entra-token-2", ... for the configured
// client id and secret. Point the SDK at URL as its authority host, with
// instance discovery off, and trust Server's certificate (Server.Client()).
type Entra struct {
	// URL is the authority host, with a trailing slash.
	URL    string
	Server *httptest.Server

	TenantID, ClientID, ClientSecret string

	*issuer
}

// NewEntra starts a fake Entra authority, closed when the test ends. Tokens
// live expiresIn seconds.
func NewEntra(t testing.TB, tenant, client, secret string, expiresIn int) *Entra {
	e := &Entra{TenantID: tenant, ClientID: client, ClientSecret: secret, issuer: newIssuer("entra-token-", expiresIn)}
	e.Server = httptest.NewTLSServer(http.HandlerFunc(e.serveHTTP))
	e.URL = e.Server.URL + "/"
	t.Cleanup(e.Server.Close)
	return e
}

func (e *Entra) serveHTTP(w http.ResponseWriter, r *http.Request) {
	base := "https://" + r.Host + "/" + e.TenantID
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/" + e.TenantID + "/v2.0/.well-known/openid-configuration":
		_ = json.NewEncoder(w).Encode(map[string]any{
			"token_endpoint":         base + "/oauth2/v2.0/token",
			"authorization_endpoint": base + "/oauth2/v2.0/authorize",
			"issuer":                 base + "/v2.0",
		})
	case "/" + e.TenantID + "/oauth2/v2.0/token":
		e.token(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (e *Entra) token(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	fail, ok := e.wait(r)
	if !ok {
		return
	}
	if fail == 0 && (r.PostForm.Get("client_id") != e.ClientID || r.PostForm.Get("client_secret") != e.ClientSecret ||
		r.PostForm.Get("grant_type") != "client_credentials") {
		fail = http.StatusUnauthorized
	}
	if fail != 0 {
		w.WriteHeader(fail)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"error":             "invalid_client",
			"error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
			"error_codes":       []int{7000215},
		})
		return
	}
	tok, exp := e.issue(r.PostForm.Get("scope"))
	_ = json.NewEncoder(w).Encode(map[string]any{
		"token_type": "Bearer", "expires_in": exp, "ext_expires_in": exp, "access_token": tok,
	})
}
