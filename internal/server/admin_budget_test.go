package server

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/budget"
)

// Budgets set through the admin API hold on the data plane, and the reads
// of a key, its team and its tenant show what the current period has
// spent and has left.
func TestAdminBudgetsSpendAndRemaining(t *testing.T) {
	g := newAdminGateway(t)
	root := []string{"Authorization", "Bearer " + adminRoot}
	mustStatus := func(want int, method, path, body string) string {
		t.Helper()
		resp, out := g.do(method, path, body, root...)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, out)
		}
		return out
	}
	mustStatus(201, "POST", "/admin/v1/tenants", `{"name":"acme","budget":{"usd":100,"period":"monthly"}}`)
	mustStatus(201, "POST", "/admin/v1/tenants/acme/teams", `{"name":"ml","budget":{"usd":50,"period":"weekly"}}`)
	created := mustStatus(201, "POST", "/admin/v1/keys", `{"tenant":"acme","name":"spender","team":"ml","budget":{"usd":1,"period":"daily"}}`)
	id, secret := gjson.Get(created, "id").String(), gjson.Get(created, "key").String()
	if b := gjson.Get(created, "budget"); b.Get("usd").Raw != "1" || b.Get("period").String() != "daily" {
		t.Fatalf("created key's budget: %s", b.Raw)
	}

	resp, body := g.do("POST", "/v1/chat/completions", chatBody("mock", false, 10), "Authorization", "Bearer "+secret)
	if resp.StatusCode != 200 {
		t.Fatalf("chat: %d %s", resp.StatusCode, body)
	}
	cost := resp.Header.Get("X-Llmgw-Cost-Usd")
	if c, _ := strconv.ParseFloat(cost, 64); c <= 0 {
		t.Fatalf("cost %q", cost)
	}

	// Settling is off the request's path: wait for it.
	var key string
	deadline := time.Now().Add(5 * time.Second)
	for {
		key = mustStatus(200, "GET", "/admin/v1/keys/"+id, "")
		if gjson.Get(key, "budget.spent_usd").Raw == cost || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	now := time.Now().UTC()
	day, _, end := budget.Daily.Window(now)
	b := gjson.Get(key, "budget")
	if b.Get("spent_usd").Raw != cost || b.Get("reserved_usd").Raw != "0" || b.Get("window").String() != day ||
		b.Get("resets_at").String() != end.Format(time.RFC3339) {
		t.Fatalf("key's budget after one request costing %s: %s", cost, b.Raw)
	}
	if left := b.Get("remaining_usd").Float() + b.Get("spent_usd").Float(); left < 0.999999 || left > 1.000001 {
		t.Fatalf("remaining + spent = %v, want the budget, 1", left)
	}
	team := mustStatus(200, "GET", "/admin/v1/tenants/acme/teams/ml", "")
	tenant := mustStatus(200, "GET", "/admin/v1/tenants/acme", "")
	for what, v := range map[string]string{"team": team, "tenant": tenant} {
		if gjson.Get(v, "budget.spent_usd").Raw != cost {
			t.Errorf("%s's budget: %s, want %s spent", what, gjson.Get(v, "budget").Raw, cost)
		}
	}
	list := mustStatus(200, "GET", "/admin/v1/keys?tenant=acme", "")
	if gjson.Get(list, "data.0.budget.spent_usd").Raw != cost {
		t.Errorf("listed key's budget: %s", gjson.Get(list, "data.0.budget").Raw)
	}

	// A team budget lowered below what it spent refuses the key's next
	// request, naming the team's budget.
	mustStatus(200, "PATCH", "/admin/v1/tenants/acme/teams/ml", `{"budget":{"usd":0.000001,"period":"weekly"}}`)
	deadline = time.Now().Add(5 * time.Second)
	for {
		resp, body = g.do("POST", "/v1/chat/completions", chatBody("mock", false, 10), "Authorization", "Bearer "+secret)
		if resp.StatusCode != 200 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if resp.StatusCode != 429 || gjson.Get(body, "error.code").String() != "budget_exceeded" ||
		!strings.Contains(gjson.Get(body, "error.message").String(), "this key's team's weekly budget") {
		t.Fatalf("after the team's budget was lowered: %d %s", resp.StatusCode, body)
	}
	// null removes it.
	if v := mustStatus(200, "PATCH", "/admin/v1/tenants/acme/teams/ml", `{"budget":null}`); gjson.Get(v, "budget").Raw != "null" {
		t.Fatalf("removed budget: %s", v)
	}
}
