package secret

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// fakeKeyVault serves Get Secret as the Key Vault REST reference
// describes it: GET {vault}/secrets/{name}[/{version}]?api-version=...,
// a bearer token from Microsoft Entra ID, first asked for by a 401 whose
// WWW-Authenticate names the authority and the resource; the answer
// {"value", "id", "attributes"}, or {"error": {"code", "message"}}.
type fakeKeyVault struct {
	*httptest.Server
	mu      sync.Mutex
	secrets map[string]string
	denied  map[string]bool
	calls   int
}

func newFakeKeyVault(t *testing.T) *fakeKeyVault {
	f := &fakeKeyVault{secrets: map[string]string{}, denied: map[string]bool{}}
	f.Server = httptest.NewTLSServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeKeyVault) put(name, v string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.secrets[name] = v
}

func kvError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

func (f *fakeKeyVault) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if r.Host != "myvault.vault.azure.net" {
		kvError(w, http.StatusBadRequest, "BadParameter", "wrong host")
		return
	}
	if r.URL.Query().Get("api-version") == "" {
		kvError(w, http.StatusBadRequest, "BadParameter", "api-version is required")
		return
	}
	if r.Header.Get("Authorization") != "Bearer fake-entra-token" {
		w.Header().Set("WWW-Authenticate", `Bearer authorization="https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47", resource="https://vault.azure.net"`)
		kvError(w, http.StatusUnauthorized, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.")
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, "/secrets/")
	name = strings.TrimSuffix(name, "/")
	if !ok || r.Method != http.MethodGet || strings.Contains(name, "/") {
		kvError(w, http.StatusNotFound, "NotFound", "")
		return
	}
	if f.denied[name] {
		kvError(w, http.StatusForbidden, "Forbidden", "The user, group or application does not have secrets get permission on key vault 'myvault'.")
		return
	}
	v, ok := f.secrets[name]
	if !ok {
		kvError(w, http.StatusNotFound, "SecretNotFound", "A secret with (name/id) "+name+" was not found in this key vault.")
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"value": v, "id": "https://myvault.vault.azure.net/secrets/" + name + "/4387e9f3d6e14c459867679a90fd0f79",
		"attributes": map[string]any{"enabled": true, "created": 1493938410, "updated": 1493938410, "recoveryLevel": "Recoverable+Purgeable"},
	})
}

// client reaches the fake under the vault's public name: every
// connection goes to the fake, whose certificate is trusted.
func (f *fakeKeyVault) client() *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(f.Certificate())
	addr := f.Listener.Addr().String()
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "example.com"},
	}}
}

// fakeCredential hands out a fixed Entra token for the Key Vault scope.
type fakeCredential struct{ scopes []string }

func (c *fakeCredential) GetToken(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.scopes = o.Scopes
	return azcore.AccessToken{Token: "fake-entra-token", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func TestAzureKeyVault(t *testing.T) {
	f := newFakeKeyVault(t)
	f.put("openai", "sk-azure-one")
	f.denied["denied"] = true
	cred := &fakeCredential{}
	rec := &recorder{}
	r := New(Options{HTTPClient: f.client(), AzureCredential: cred, Retries: -1})
	r.SetAudit(context.Background(), rec)
	cfg, l, err := parse(t, r, "azure-kv:myvault/openai", "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Providers[0].APIKey.Value() != "sk-azure-one" {
		t.Fatalf("api_key %q", cfg.Providers[0].APIKey.Value())
	}
	if strings.Join(cred.scopes, " ") != "https://vault.azure.net/.default" {
		t.Fatalf("token scopes %v", cred.scopes)
	}
	// The URL form names the same vault.
	if cfg, _, err = parse(t, r, "azure-kv:https://myvault.vault.azure.net/openai", ""); err != nil || cfg.Providers[0].APIKey.Value() != "sk-azure-one" {
		t.Fatalf("url form: %v", err)
	}
	r.Use(l)
	f.put("openai", "sk-azure-two")
	if !r.Refresh(context.Background()) {
		t.Fatal("rotation in Key Vault not seen")
	}
	for _, c := range []struct{ ref, want string }{
		{"azure-kv:myvault/missing", "providers[0].api_key: azure-kv:myvault/missing: Key Vault: not found (SecretNotFound) (404)"},
		{"azure-kv:myvault/denied", "providers[0].api_key: azure-kv:myvault/denied: Key Vault: permission denied (Forbidden) (403)"},
		{"azure-kv:myvault/bad_name", `providers[0].api_key: azure-kv:myvault/bad_name: want "azure-kv:<vault-name-or-https-url>/<secret-name>": a secret name is 1 to 127 letters, digits and hyphens`},
		{"azure-kv:http://myvault.vault.azure.net/openai", `providers[0].api_key: azure-kv:http://myvault.vault.azure.net/openai: want "azure-kv:<vault-name-or-https-url>/<secret-name>": the vault URL must be https://host[/path]`},
	} {
		if _, _, err := parse(t, r, c.ref, ""); err == nil || err.Error() != c.want {
			t.Errorf("%s: %v\nwant %s", c.ref, err, c.want)
		}
	}
	b, _ := json.Marshal(rec.all())
	if strings.Contains(string(b), "sk-azure") || strings.Contains(string(b), "fake-entra-token") || !strings.Contains(string(b), "azure-kv:myvault/openai") {
		t.Fatalf("audit: %s", b)
	}
	f.Close()
	if _, _, err := parse(t, New(Options{HTTPClient: f.client(), AzureCredential: cred, Retries: -1}), "azure-kv:myvault/openai", ""); err == nil ||
		!strings.HasPrefix(err.Error(), "providers[0].api_key: azure-kv:myvault/openai: Key Vault is unreachable") {
		t.Fatalf("down: %v", err)
	}
}
