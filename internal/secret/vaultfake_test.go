package secret

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeVault serves the part of Vault's HTTP API the resolver uses, as the
// API reference describes it: KV v2 reads (GET /v1/<mount>/data/<path>,
// the secret under data.data), AppRole and Kubernetes logins (POST
// /v1/auth/<mount>/login, the token under auth.client_token), the token in
// the X-Vault-Token header, and errors as {"errors": [...]}.
type fakeVault struct {
	*httptest.Server
	t *testing.T

	mu       sync.Mutex
	kv       map[string]map[string]any // "<mount>/<path>" -> data
	tokens   map[string]bool           // valid tokens
	roleID   string
	secretID string
	k8sRole  string
	k8sJWT   string
	logins   int
	reads    int
	lease    int
	seq      int
}

func newFakeVault(t *testing.T) *fakeVault {
	f := &fakeVault{t: t, kv: map[string]map[string]any{}, tokens: map[string]bool{}, lease: 3600}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeVault) put(path string, data map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.kv[path] = data
}

func (f *fakeVault) allow(token string, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens[token] = ok
}

func vaultError(w http.ResponseWriter, code int, msgs ...string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if msgs == nil {
		msgs = []string{}
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": msgs})
}

func (f *fakeVault) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	path, ok := strings.CutPrefix(r.URL.Path, "/v1/")
	if !ok {
		vaultError(w, http.StatusNotFound)
		return
	}
	if mount, ok := strings.CutSuffix(strings.TrimPrefix(path, "auth/"), "/login"); ok && strings.HasPrefix(path, "auth/") {
		if r.Method != http.MethodPost && r.Method != http.MethodPut {
			vaultError(w, http.StatusMethodNotAllowed)
			return
		}
		var body map[string]string
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			vaultError(w, http.StatusBadRequest, "failed to parse JSON input")
			return
		}
		switch mount {
		case "approle":
			if body["role_id"] != f.roleID || body["secret_id"] != f.secretID {
				vaultError(w, http.StatusBadRequest, "invalid role or secret ID")
				return
			}
		case "kubernetes":
			if body["role"] != f.k8sRole || body["jwt"] != f.k8sJWT {
				vaultError(w, http.StatusForbidden, "permission denied")
				return
			}
		default:
			vaultError(w, http.StatusBadRequest, "no handler for route \"auth/"+mount+"/login\"")
			return
		}
		f.logins++
		f.seq++
		tok := "hvs.login-" + strings.Repeat("x", f.seq)
		f.tokens[tok] = true
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"request_id": "1", "lease_id": "", "renewable": false, "lease_duration": 0, "data": nil,
			"wrap_info": nil, "warnings": nil,
			"auth": map[string]any{"client_token": tok, "accessor": "acc", "policies": []string{"default"},
				"token_policies": []string{"default"}, "metadata": map[string]string{}, "lease_duration": f.lease,
				"renewable": true, "entity_id": "", "token_type": "service", "orphan": true},
		})
		return
	}
	if !f.tokens[r.Header.Get("X-Vault-Token")] {
		vaultError(w, http.StatusForbidden, "permission denied")
		return
	}
	mount, rest, ok := strings.Cut(path, "/data/")
	if !ok || r.Method != http.MethodGet {
		vaultError(w, http.StatusNotFound)
		return
	}
	f.reads++
	data, ok := f.kv[mount+"/"+rest]
	if !ok {
		vaultError(w, http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"request_id": "2", "lease_id": "", "renewable": false, "lease_duration": 0,
		"data": map[string]any{"data": data, "metadata": map[string]any{"created_time": "2026-01-02T03:04:05.000000Z",
			"custom_metadata": nil, "deletion_time": "", "destroyed": false, "version": 1}},
		"wrap_info": nil, "warnings": nil, "auth": nil,
	})
}
