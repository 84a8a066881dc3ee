package server

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// A key's cost cap set through the admin API is shown on reads, holds on
// the data plane at once, and is removed with null; every exchange
// matches docs/admin-openapi.yaml. A tenant admin whose own key has a cap
// may not create or leave a key without one, nor above its own.
func TestAdminKeyCostCap(t *testing.T) {
	_, router := adminSpec(t)
	g := newAdminGateway(t)
	c := &specCheck{t: t, g: g, router: router, ok: map[string]int{}}
	must := func(status int, method, path, token, body string) string {
		t.Helper()
		got, b := c.do(method, path, token, body)
		if got != status {
			t.Fatalf("%s %s %s: %d, want %d: %s", method, path, body, got, status, b)
		}
		return b
	}
	must(201, "POST", "/admin/v1/tenants", adminRoot, `{"name":"acme"}`)
	created := must(201, "POST", "/admin/v1/keys", adminRoot, `{"tenant":"acme","name":"app","max_cost_usd":0.0001}`)
	id, secret := gjson.Get(created, "id").String(), gjson.Get(created, "key").String()
	if got := gjson.Get(created, "max_cost_usd").Raw; got != "0.0001" {
		t.Fatalf("created max_cost_usd = %s", got)
	}
	if got := gjson.Get(must(200, "GET", "/admin/v1/keys/"+id, adminRoot, ""), "max_cost_usd").Raw; got != "0.0001" {
		t.Fatalf("read max_cost_usd = %s", got)
	}
	if got := gjson.Get(must(200, "GET", "/admin/v1/keys?tenant=acme", adminRoot, ""), "data.0.max_cost_usd").Raw; got != "0.0001" {
		t.Fatalf("listed max_cost_usd = %s", got)
	}

	// The mock model costs $0.001 a token: far above $0.0001.
	resp, body := g.do("POST", "/v1/chat/completions", chatBody("mock", false, 10), "Authorization", "Bearer "+secret)
	if resp.StatusCode != 400 || gjson.Get(body, "error.code").String() != "cost_cap_exceeded" ||
		!strings.Contains(gjson.Get(body, "error.message").String(), "set by this key's max_cost_usd") {
		t.Fatalf("data plane under the key's cap: %d %s", resp.StatusCode, body)
	}
	if got := gjson.Get(must(200, "PATCH", "/admin/v1/keys/"+id, adminRoot, `{"max_cost_usd":null}`), "max_cost_usd").Raw; got != "null" {
		t.Fatalf("patched max_cost_usd = %s", got)
	}
	resp, body = g.do("POST", "/v1/chat/completions", chatBody("mock", false, 10), "Authorization", "Bearer "+secret)
	if resp.StatusCode != 200 {
		t.Fatalf("data plane after the cap is removed: %d %s", resp.StatusCode, body)
	}

	for _, bad := range []string{`0`, `-1`, `9000001`, `"1"`, `true`, `{}`, `1e400`} {
		if st, b := c.do("POST", "/admin/v1/keys", adminRoot, `{"tenant":"acme","name":"bad","max_cost_usd":`+bad+`}`); st != 400 ||
			gjson.Get(b, "error.param").String() != "max_cost_usd" {
			t.Errorf("max_cost_usd %s: %d %s", bad, st, b)
		}
	}

	ta := gjson.Get(must(201, "POST", "/admin/v1/keys", adminRoot, `{"tenant":"acme","name":"ta","role":"tenant_admin","max_cost_usd":0.5}`), "key").String()
	for _, body := range []string{`{"name":"k1"}`, `{"name":"k2","max_cost_usd":1}`, `{"name":"k3","max_cost_usd":null}`} {
		if st, b := c.do("POST", "/admin/v1/keys", ta, body); st != 403 || gjson.Get(b, "error.param").String() != "max_cost_usd" {
			t.Errorf("tenant admin creating %s: %d %s", body, st, b)
		}
	}
	k4 := gjson.Get(must(201, "POST", "/admin/v1/keys", ta, `{"name":"k4","max_cost_usd":0.5}`), "id").String()
	for _, patch := range []string{`{"max_cost_usd":null}`, `{"max_cost_usd":0.6}`} {
		if st, b := c.do("PATCH", "/admin/v1/keys/"+k4, ta, patch); st != 403 || gjson.Get(b, "error.param").String() != "max_cost_usd" {
			t.Errorf("tenant admin patching %s: %d %s", patch, st, b)
		}
	}
	must(200, "PATCH", "/admin/v1/keys/"+k4, ta, `{"max_cost_usd":0.25}`)
	// A global admin is not bound.
	must(200, "PATCH", "/admin/v1/keys/"+k4, adminRoot, `{"max_cost_usd":null}`)
}

// A call refused for its cost reserves nothing against its key's budget:
// the cap is checked before budgets are.
func TestCostCapRefusalReservesNoBudget(t *testing.T) {
	g := newAdminGateway(t)
	root := []string{"Authorization", "Bearer " + adminRoot}
	if resp, out := g.do("POST", "/admin/v1/tenants", `{"name":"acme"}`, root...); resp.StatusCode != 201 {
		t.Fatalf("%d %s", resp.StatusCode, out)
	}
	_, created := g.do("POST", "/admin/v1/keys", `{"tenant":"acme","name":"k","budget":{"usd":0.001,"period":"total"},"max_cost_usd":0.5}`, root...)
	id, secret := gjson.Get(created, "id").String(), gjson.Get(created, "key").String()
	// $0.02 at most: under the cap, above the budget.
	resp, body := g.do("POST", "/v1/chat/completions", chatBody("mock", false, 10), "Authorization", "Bearer "+secret)
	if resp.StatusCode != 429 || gjson.Get(body, "error.code").String() != "budget_exceeded" {
		t.Fatalf("under the cap, above the budget: %d %s", resp.StatusCode, body)
	}
	// Above a cap the header lowers: refused for its cost, before the
	// budget is asked.
	resp, body = g.do("POST", "/v1/chat/completions", chatBody("mock", false, 10), "Authorization", "Bearer "+secret, "x-llmgw-max-cost-usd", "0.0001")
	if resp.StatusCode != 400 || gjson.Get(body, "error.code").String() != "cost_cap_exceeded" {
		t.Fatalf("above the cap: %d %s", resp.StatusCode, body)
	}
	_, key := g.do("GET", "/admin/v1/keys/"+id, "", root...)
	if b := gjson.Get(key, "budget"); b.Get("spent_usd").Raw != "0" || b.Get("reserved_usd").Raw != "0" {
		t.Fatalf("budget after two refused calls: %s", b.Raw)
	}
}
