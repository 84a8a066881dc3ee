package admin_test

import (
	"encoding/csv"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/store"
)

// GET /usage sums the ledger by the groups asked, as JSON or CSV, and a
// tenant's credentials see their tenant's usage only.
func TestUsage(t *testing.T) {
	eachDriver(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		a, b := e.tenant("acme"), e.tenant("beta")
		keyA, _ := e.key(rootToken, `{"tenant":"acme","name":"app"}`)
		_, adminA := e.key(rootToken, `{"tenant":"acme","name":"ops","role":"tenant_admin"}`)
		keyB, _ := e.key(rootToken, `{"tenant":"beta","name":"app"}`)
		day := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
		var recs []store.UsageRecord
		for i := range 12 {
			r := store.UsageRecord{RequestID: "req-" + itoa(i), At: day.Add(time.Duration(i) * 4 * time.Hour),
				Model: []string{"gpt", "=cmd()"}[i%2], Provider: "p", InputTokens: 100, OutputTokens: 10,
				CostPico: 1_500_000, CostKnown: i != 0, Status: 200}
			if i == 0 {
				r.CostPico = 0
			}
			if i%3 == 0 {
				r.TenantID, r.Tenant, r.KeyID, r.KeyName = b, "beta", keyB, "app"
			} else {
				r.TenantID, r.Tenant, r.KeyID, r.KeyName = a, "acme", keyA, "app"
			}
			recs = append(recs, r)
		}
		if _, err := st.Ledger().Insert(t.Context(), recs); err != nil {
			t.Fatal(err)
		}
		// The default grouping: tenant and model.
		all := e.must(200, "GET", "/admin/v1/usage", rootToken, "").obj(t)["data"].([]any)
		if len(all) != 4 {
			t.Fatalf("groups: %v", all)
		}
		got := map[string]any{}
		for _, g := range all {
			m := g.(map[string]any)
			got[m["tenant"].(string)+"/"+m["model"].(string)] = []any{m["requests"], m["input_tokens"], m["cost_usd"], m["unpriced_requests"]}
		}
		// acme: i = 1,2,4,5,7,8,10,11 -> gpt at even i (2,4,8,10), "=cmd()" at odd (1,5,7,11).
		want := map[string]any{
			"acme/gpt":    []any{4.0, 400.0, 0.000006, 0.0},
			"acme/=cmd()": []any{4.0, 400.0, 0.000006, 0.0},
			"beta/gpt":    []any{2.0, 200.0, 0.0000015, 1.0}, // i = 0 (unpriced), 6
			"beta/=cmd()": []any{2.0, 200.0, 0.000003, 0.0},  // i = 3, 9
		}
		for k, v := range want {
			if g, ok := got[k]; !ok || itoaAny(g) != itoaAny(v) {
				t.Errorf("%s = %v, want %v", k, got[k], v)
			}
		}
		// A tenant admin sees its tenant only, filtered or not; another
		// tenant is a 404.
		mine := e.must(200, "GET", "/admin/v1/usage?group_by=tenant,day", adminA, "").obj(t)["data"].([]any)
		for _, g := range mine {
			if g.(map[string]any)["tenant_id"] != a {
				t.Fatalf("tenant admin sees %v", g)
			}
		}
		if len(mine) != 3 {
			t.Fatalf("acme by day: %v", mine)
		}
		e.must(404, "GET", "/admin/v1/usage?tenant=beta", adminA, "")
		e.must(404, "GET", "/admin/v1/usage?key="+keyB, adminA, "")
		// By key, for one key, by hour.
		byKey := e.must(200, "GET", "/admin/v1/usage?group_by=key&key="+keyA+"&from=2026-12-01&to=2026-12-02", rootToken, "").obj(t)["data"].([]any)
		if len(byKey) != 1 || byKey[0].(map[string]any)["key"] != "app" || byKey[0].(map[string]any)["key_id"] != keyA {
			t.Fatalf("by key: %v", byKey)
		}
		// CSV, with a model name that would be a formula kept inert.
		r := e.must(200, "GET", "/admin/v1/usage?group_by=model&format=csv", rootToken, "")
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Fatalf("content type %q", ct)
		}
		rows, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
		if err != nil || len(rows) != 3 || strings.Join(rows[0], ",") != "model,requests,input_tokens,output_tokens,cached_tokens,cache_write_tokens,reasoning_tokens,cost_usd,unpriced_requests" {
			t.Fatalf("csv: %q %v", r.body, err)
		}
		if rows[1][0] != "'=cmd()" || rows[1][1] != "6" || rows[2][0] != "gpt" {
			t.Fatalf("csv rows: %v", rows)
		}
		// Truncated answers say so.
		lim := e.must(200, "GET", "/admin/v1/usage?group_by=key,model&limit=2", rootToken, "").obj(t)
		if lim["truncated"] != true || len(lim["data"].([]any)) != 2 {
			t.Fatalf("limited: %v", lim)
		}
		for _, bad := range []string{"group_by=bogus", "group_by=day,hour", "group_by=model,model", "from=2026-12-02&to=2026-12-01",
			"from=yesterday", "format=xml", "limit=0", "limit=abc", "cursor=abc", "tenant=nobody", "key=key_nothing", "key=../x", "extra=1"} {
			if r := e.do("GET", "/admin/v1/usage?"+bad, rootToken, ""); r.status/100 != 4 {
				t.Errorf("%s: %d %s", bad, r.status, r.body)
			}
		}
	})
}

// itoaAny renders a value for comparison.
func itoaAny(v any) string {
	b := strings.Builder{}
	for _, x := range v.([]any) {
		b.WriteString(strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(itoa0(x), "\n", ""), " ", "")))
		b.WriteString("|")
	}
	return b.String()
}

func itoa0(x any) string {
	switch v := x.(type) {
	case float64:
		return strings.TrimRight(strings.TrimRight(strconvF(v), "0"), ".")
	case string:
		return v
	}
	return "?"
}

func strconvF(f float64) string { return strconv.FormatFloat(f, 'f', 12, 64) }
