package providertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
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

	mu sync.Mutex
	// expiresIn is the lifetime of the tokens issued, in seconds.
	expiresIn int
	issued    []string
	fail      int           // status of the next token answers; 0: succeed
	hold      chan struct{} // when set, token requests wait for it
	scopes    []string
}

// NewEntra starts a fake Entra authority, closed when the test ends. Tokens
// live expiresIn seconds.
func NewEntra(t testing.TB, tenant, client, secret string, expiresIn int) *Entra {
	e := &Entra{TenantID: tenant, ClientID: client, ClientSecret: secret, expiresIn: expiresIn}
	e.Server = httptest.NewTLSServer(http.HandlerFunc(e.serveHTTP))
	e.URL = e.Server.URL + "/"
	t.Cleanup(e.Server.Close)
	return e
}

// Issued returns the tokens issued so far, in order.
func (e *Entra) Issued() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.issued...)
}

// Scopes returns the scope asked by each token request.
func (e *Entra) Scopes() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.scopes...)
}

// Valid reports whether tok was issued.
func (e *Entra) Valid(tok string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, t := range e.issued {
		if t == tok {
			return true
		}
	}
	return false
}

// Fail makes token requests answer status (Entra's invalid_client error);
// 0 makes them succeed again.
func (e *Entra) Fail(status int) {
	e.mu.Lock()
	e.fail = status
	e.mu.Unlock()
}

// Hold makes token requests wait until the returned channel is closed.
func (e *Entra) Hold() chan struct{} {
	c := make(chan struct{})
	e.mu.Lock()
	e.hold = c
	e.mu.Unlock()
	return c
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
	e.mu.Lock()
	hold, fail := e.hold, e.fail
	e.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			return
		}
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
	e.mu.Lock()
	tok := fmt.Sprintf("entra-token-%d", len(e.issued)+1)
	e.issued = append(e.issued, tok)
	e.scopes = append(e.scopes, strings.TrimSpace(r.PostForm.Get("scope")))
	exp := e.expiresIn
	e.mu.Unlock()
	_ = json.NewEncoder(w).Encode(map[string]any{
		"token_type": "Bearer", "expires_in": exp, "ext_expires_in": exp, "access_token": tok,
	})
}
