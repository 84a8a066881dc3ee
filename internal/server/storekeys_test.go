package server

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/auth"
	"github.com/llmgw/llmgw/internal/auth/authtest"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/identity"
	"github.com/llmgw/llmgw/internal/store"
	"github.com/llmgw/llmgw/internal/store/sqlite"
)

// flakyStore is a real store that can be made to fail as an unreachable
// database would, counting the key lookups that reach it.
type flakyStore struct {
	store.Store
	down    atomic.Bool
	lookups atomic.Int64
}

var errUnreachable = errors.New("dial tcp 10.0.0.9:5432: connect: connection refused")

func (s *flakyStore) Keys() store.Keys { return flakyKeys{s.Store.Keys(), s} }

func (s *flakyStore) Ping(ctx context.Context) error {
	if s.down.Load() {
		return errUnreachable
	}
	return s.Store.Ping(ctx)
}

type flakyKeys struct {
	store.Keys
	s *flakyStore
}

func (k flakyKeys) GetByHash(ctx context.Context, h []byte) (store.Key, error) {
	k.s.lookups.Add(1)
	if k.s.down.Load() {
		return store.Key{}, errUnreachable
	}
	return k.Keys.GetByHash(ctx, h)
}

// storeKeys is a gateway whose keys are in a real SQLite store.
type storeKeys struct {
	*testGateway
	st     *flakyStore
	dir    *identity.Directory
	hasher *auth.Hasher
	tenant store.Tenant
}

func newStoreKeys(t *testing.T, yaml string) *storeKeys {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "llmgw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st := &flakyStore{Store: db}
	hasher := auth.NewHasher(auth.Derive([]byte("a server secret of at least 32 characters"), auth.PurposeKeyHash))
	dir, err := identity.Open(t.Context(), identity.Options{Store: st, Hasher: hasher})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dir.Close() })
	tenant, err := db.Tenants().Create(t.Context(), store.Tenant{Name: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	g := newGateway(t, yaml, nil)
	g.srv.Swap(g.recompile(yaml, dir))
	return &storeKeys{testGateway: g, st: st, dir: dir, hasher: hasher, tenant: tenant}
}

// recompile compiles yaml again, with the process's directory.
func (g *testGateway) recompile(yaml string, dir *identity.Directory) *gateway.Snapshot {
	return compileConfig(g.t, yaml, map[string]string{"UPSTREAM": g.up.URL}, gateway.Options{Directory: dir})
}

// key creates a key in the store, applies the change, and returns the
// key's secret.
func (g *storeKeys) key(k store.Key) string {
	g.t.Helper()
	secret, prefix := auth.NewKeySecret()
	h := g.hasher.Sum(secret)
	k.TenantID, k.Hash, k.Prefix = g.tenant.ID, h[:], prefix
	if _, err := g.st.Store.Keys().Create(g.t.Context(), k); err != nil {
		g.t.Fatal(err)
	}
	if err := g.dir.Sync(g.t.Context()); err != nil {
		g.t.Fatal(err)
	}
	return secret
}

func bearer(key string) []string { return []string{"Authorization", "Bearer " + key} }

// With keys in the store, the data plane authenticates with them beside
// the static keys; refusals are in each route's shape; no secret is
// echoed or logged.
func TestStoreKeys(t *testing.T) {
	g := newStoreKeys(t, keysConfig)
	data := g.key(store.Key{Name: "svc", Models: []string{"mock"}})
	admin := g.key(store.Key{Name: "ops", Role: store.RoleTenantAdmin})
	reader := g.key(store.Key{Name: "auditor", Role: store.RoleReadOnly})
	gone := g.key(store.Key{Name: "gone"})
	k, err := g.st.Store.Keys().List(t.Context(), store.KeyFilter{}, store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range k.Items {
		if key.Name == "gone" {
			if _, err := g.st.Store.Keys().Revoke(t.Context(), key.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := g.dir.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	chat := fmt.Sprintf(userHello, "mock", "")
	messages := `{"model":"mock","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}`
	cases := []struct {
		name, path, body string
		headers          []string
		status           int
		code             string // OpenAI code, or Anthropic error type on /v1/messages
	}{
		{"store key", "/v1/chat/completions", chat, bearer(data), 200, ""},
		{"store key x-api-key", "/v1/messages", messages, []string{"x-api-key", data}, 200, ""},
		{"static key beside", "/v1/chat/completions", chat, bearer("sk-ci-key"), 200, ""},
		{"store key model not allowed", "/v1/chat/completions", fmt.Sprintf(userHello, "gpt", ""), bearer(data), 403, "model_not_allowed"},
		{"tenant admin key", "/v1/chat/completions", chat, bearer(admin), 403, "permission_denied"},
		{"read-only key", "/v1/models", "", bearer(reader), 403, "permission_denied"},
		{"admin key anthropic", "/v1/messages", messages, []string{"x-api-key", admin}, 403, "permission_error"},
		{"revoked", "/v1/chat/completions", chat, bearer(gone), 401, "invalid_api_key"},
		{"revoked anthropic", "/v1/messages", messages, []string{"x-api-key", gone}, 401, "authentication_error"},
		{"unknown", "/v1/chat/completions", chat, bearer(auth.KeyPrefix + strings.Repeat("A", 43)), 401, "invalid_api_key"},
		{"prefix only", "/v1/chat/completions", chat, bearer(auth.KeyPrefix), 401, "invalid_api_key"},
		{"10KB key", "/v1/chat/completions", chat, bearer(auth.KeyPrefix + strings.Repeat("A", 10<<10)), 401, "invalid_api_key"},
		{"invalid UTF-8", "/v1/chat/completions", chat, bearer(auth.KeyPrefix + strings.Repeat("\xff", 43)), 401, "invalid_api_key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			method := "POST"
			if tc.body == "" {
				method = "GET"
			}
			resp, body := g.do(method, tc.path, tc.body, tc.headers...)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if tc.status == 200 {
				return
			}
			got := gjson.Get(body, "error.code").String()
			if tc.path == "/v1/messages" {
				got = gjson.Get(body, "error.type").String()
				if gjson.Get(body, "type").String() != "error" {
					t.Errorf("not in Anthropic's shape: %s", body)
				}
			}
			if got != tc.code {
				t.Errorf("code %q, want %q: %s", got, tc.code, body)
			}
			for _, s := range []string{data, admin, reader, gone} {
				if strings.Contains(body, s[auth.DisplayPrefixLen:]) {
					t.Errorf("the answer echoes a key: %s", body)
				}
			}
		})
	}
	logs := g.logs.String()
	if !strings.Contains(logs, `"key":"svc","tenant":"acme"`) {
		t.Errorf("the access log does not name the store key and its tenant:\n%s", logs)
	}
	for _, s := range []string{data, admin, reader, gone} {
		if strings.Contains(logs, s[auth.DisplayPrefixLen:]) {
			t.Errorf("the log holds a key's secret part")
		}
	}
}

// Once the store holds a key, every /v1 request needs one, though the
// configuration has none; before, none is needed.
func TestStoreKeyTurnsAuthOn(t *testing.T) {
	g := newStoreKeys(t, baseConfig)
	if resp, body := g.do("GET", "/v1/models", ""); resp.StatusCode != 200 {
		t.Fatalf("no key anywhere: %d %s", resp.StatusCode, body)
	}
	secret := g.key(store.Key{Name: "first"})
	resp, body := g.do("GET", "/v1/models", "")
	if resp.StatusCode != 401 || gjson.Get(body, "error.code").String() != "invalid_api_key" {
		t.Fatalf("no key once the store has one: %d %s", resp.StatusCode, body)
	}
	if resp, body := g.do("GET", "/v1/models", "", bearer(secret)...); resp.StatusCode != 200 {
		t.Fatalf("store key: %d %s", resp.StatusCode, body)
	}
}

// The store down: a cached key keeps working, an uncached one is a 503 in
// the route's shape (not a 401, not a 500) without the store's words;
// /readyz says 503. The directory outlives a snapshot swap: the key cached
// before the swap is still cached after it.
func TestStoreKeysStoreDown(t *testing.T) {
	g := newStoreKeys(t, baseConfig)
	var clock atomic.Int64 // the readiness cache's, in seconds
	g.srv.readyNow = func() time.Time { return time.Unix(clock.Load(), 0) }
	cached := g.key(store.Key{Name: "cached"})
	uncached := g.key(store.Key{Name: "uncached"})
	chat := fmt.Sprintf(userHello, "mock", "")
	if resp, body := g.do("POST", "/v1/chat/completions", chat, bearer(cached)...); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	g.srv.Swap(g.recompile(baseConfig, g.dir))
	g.st.down.Store(true)
	before := g.st.lookups.Load()
	if resp, body := g.do("POST", "/v1/chat/completions", chat, bearer(cached)...); resp.StatusCode != 200 {
		t.Fatalf("cached key with the store down, after a snapshot swap: %d %s", resp.StatusCode, body)
	}
	if g.st.lookups.Load() != before {
		t.Error("the cached key was looked up again after the swap")
	}
	resp, body := g.do("POST", "/v1/chat/completions", chat, bearer(uncached)...)
	if resp.StatusCode != 503 || gjson.Get(body, "error.code").String() != "service_unavailable" {
		t.Errorf("uncached key with the store down: %d %s", resp.StatusCode, body)
	}
	resp, body = g.do("POST", "/v1/messages", `{"model":"mock","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}`, "x-api-key", uncached)
	if resp.StatusCode != 503 || gjson.Get(body, "type").String() != "error" {
		t.Errorf("anthropic route, uncached key with the store down: %d %s", resp.StatusCode, body)
	}
	if strings.Contains(body, "10.0.0.9") || strings.Contains(body, "refused") {
		t.Errorf("the answer carries the store's error: %s", body)
	}
	if resp, body := g.do("GET", "/readyz", ""); resp.StatusCode != 503 {
		t.Errorf("/readyz with the store down: %d %s", resp.StatusCode, body)
	}
	g.st.down.Store(false)
	if resp, body := g.do("POST", "/v1/chat/completions", chat, bearer(uncached)...); resp.StatusCode != 200 {
		t.Errorf("after recovery: %d %s", resp.StatusCode, body)
	}
	if resp, _ := g.do("GET", "/readyz", ""); resp.StatusCode != 503 {
		t.Errorf("/readyz after recovery, within the readiness cache's second: %d, want the 503 kept", resp.StatusCode)
	}
	clock.Add(1)
	if resp, _ := g.do("GET", "/readyz", ""); resp.StatusCode != 200 {
		t.Errorf("/readyz after recovery: %d", resp.StatusCode)
	}
}

// Store keys, static keys and JWTs work side by side: a JWT is not taken
// for an unknown store key, nor a store key for a bad JWT.
func TestStoreKeysBesideJWT(t *testing.T) {
	is, is2 := authtest.New(t), authtest.New(t)
	g := newStoreKeys(t, baseConfig)
	v := auth.NewVerifiers(auth.VerifierOptions{FetchTimeout: 2 * time.Second})
	t.Cleanup(v.Close)
	vars := map[string]string{"UPSTREAM": g.up.URL, "ISSUER": is.URL, "ISSUER2": is2.URL}
	g.srv.Swap(compileConfig(t, jwtConfig, vars, gateway.Options{Directory: g.dir, JWT: v}))
	key := g.key(store.Key{Name: "svc"})
	c := is.Claims("llmgw", "alice")
	c["org_id"] = "acme"
	c["llm"] = map[string]any{"models": []any{"mock"}}
	token := is.Sign("rsa-1", c)
	chat := fmt.Sprintf(userHello, "mock", "")
	for name, cred := range map[string]string{"store key": key, "static key": "sk-static-key", "JWT": token} {
		if resp, body := g.do("POST", "/v1/chat/completions", chat, bearer(cred)...); resp.StatusCode != 200 {
			t.Errorf("%s: %d %s", name, resp.StatusCode, body)
		}
	}
	c["aud"] = "someone-else"
	for name, cred := range map[string]string{"bad JWT": is.Sign("rsa-1", c), "unknown store key": auth.KeyPrefix + strings.Repeat("x", 43)} {
		if resp, body := g.do("POST", "/v1/chat/completions", chat, bearer(cred)...); resp.StatusCode != 401 {
			t.Errorf("%s: %d %s", name, resp.StatusCode, body)
		}
	}
}
