package server

import (
	"testing"

	"github.com/llmgw/llmgw/internal/store"
)

// A store key's limits and its tenant's, set at run time, are enforced
// on the data plane: the key's own, then the tenant's for all its keys
// together, and a change applies at once.
func TestStoreKeyAndTenantLimitsEnforced(t *testing.T) {
	g := newStoreKeys(t, baseConfig)
	chat := `{"model":"mock","messages":[{"role":"user","content":"hi"}]}`
	limited := g.key(store.Key{Name: "limited", Limits: store.Limits{RPM: 2}})
	for i := range 2 {
		if resp, body := g.do("POST", "/v1/chat/completions", chat, bearer(limited)...); resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, body)
		}
	}
	resp, body := g.do("POST", "/v1/chat/completions", chat, bearer(limited)...)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || resp.Header.Get("X-Ratelimit-Limit-Requests") != "2" {
		t.Fatalf("third request on an rpm 2 key: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	// The tenant's limit holds for its keys together.
	a, b := g.key(store.Key{Name: "a"}), g.key(store.Key{Name: "b"})
	rpm := int64(3)
	if _, err := g.st.Store.Tenants().Update(t.Context(), g.tenant.ID, store.TenantPatch{Limits: &store.Limits{RPM: rpm}}); err != nil {
		t.Fatal(err)
	}
	if err := g.dir.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	ok := 0
	for i := range 6 {
		key := a
		if i%2 == 1 {
			key = b
		}
		if resp, _ := g.do("POST", "/v1/chat/completions", chat, bearer(key)...); resp.StatusCode == 200 {
			ok++
		} else if resp.StatusCode != 429 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	// Counting starts when the limit is set: the tenant's keys together
	// get its rpm, not each of them.
	if ok != int(rpm) {
		t.Fatalf("%d requests admitted under the tenant's rpm %d across two keys", ok, rpm)
	}
}
