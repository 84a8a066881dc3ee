package server

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/store"
)

// The callers of the isolation matrix, in the order of its columns.
var matrixCallers = []string{"global", "viewer", "adminA", "adminB", "readerA", "keyA", "none"}

// statuses is one expectation per caller, in matrixCallers' order.
type statuses [7]int

// matrixRow is what every caller gets from one route: on tenant A's
// objects and on tenant B's (the same for routes that take none).
type matrixRow struct {
	onA, onB statuses
}

// isolationMatrix has a row for every route of the gateway: the admin
// API's and the data plane's. A route added without its row fails the
// test.
var isolationMatrix = map[string]matrixRow{
	//                                                  global viewer adminA adminB readerA keyA none
	"GET /admin/v1/targets":                          {statuses{200, 200, 403, 403, 403, 403, 401}, statuses{200, 200, 403, 403, 403, 403, 401}},
	"POST /admin/v1/targets/reset":                   {statuses{200, 403, 403, 403, 403, 403, 401}, statuses{200, 403, 403, 403, 403, 403, 401}},
	"GET /admin/v1/config":                           {statuses{200, 200, 403, 403, 403, 403, 401}, statuses{200, 200, 403, 403, 403, 403, 401}},
	"POST /admin/v1/config/reload":                   {statuses{200, 403, 403, 403, 403, 403, 401}, statuses{200, 403, 403, 403, 403, 403, 401}},
	"POST /admin/v1/tenants":                         {statuses{201, 403, 403, 403, 403, 403, 401}, statuses{201, 403, 403, 403, 403, 403, 401}},
	"GET /admin/v1/tenants":                          {statuses{200, 200, 403, 403, 403, 403, 401}, statuses{200, 200, 403, 403, 403, 403, 401}},
	"GET /admin/v1/tenants/{tenant}":                 {statuses{200, 200, 200, 404, 200, 403, 401}, statuses{200, 200, 404, 200, 404, 403, 401}},
	"PATCH /admin/v1/tenants/{tenant}":               {statuses{200, 403, 200, 404, 403, 403, 401}, statuses{200, 403, 404, 200, 403, 403, 401}},
	"DELETE /admin/v1/tenants/{tenant}":              {statuses{409, 403, 403, 403, 403, 403, 401}, statuses{409, 403, 403, 403, 403, 403, 401}},
	"POST /admin/v1/tenants/{tenant}/teams":          {statuses{201, 403, 201, 404, 403, 403, 401}, statuses{201, 403, 404, 201, 403, 403, 401}},
	"GET /admin/v1/tenants/{tenant}/teams":           {statuses{200, 200, 200, 404, 200, 403, 401}, statuses{200, 200, 404, 200, 404, 403, 401}},
	"GET /admin/v1/tenants/{tenant}/teams/{team}":    {statuses{200, 200, 200, 404, 200, 403, 401}, statuses{200, 200, 404, 200, 404, 403, 401}},
	"PATCH /admin/v1/tenants/{tenant}/teams/{team}":  {statuses{200, 403, 200, 404, 403, 403, 401}, statuses{200, 403, 404, 200, 403, 403, 401}},
	"DELETE /admin/v1/tenants/{tenant}/teams/{team}": {statuses{204, 403, 204, 404, 403, 403, 401}, statuses{204, 403, 404, 204, 403, 403, 401}},
	"POST /admin/v1/keys":                            {statuses{201, 403, 201, 404, 403, 403, 401}, statuses{201, 403, 404, 201, 403, 403, 401}},
	"GET /admin/v1/keys":                             {statuses{200, 200, 200, 404, 200, 403, 401}, statuses{200, 200, 404, 200, 404, 403, 401}},
	"GET /admin/v1/keys/{key}":                       {statuses{200, 200, 200, 404, 200, 403, 401}, statuses{200, 200, 404, 200, 404, 403, 401}},
	"PATCH /admin/v1/keys/{key}":                     {statuses{200, 403, 200, 404, 403, 403, 401}, statuses{200, 403, 404, 200, 403, 403, 401}},
	"POST /admin/v1/keys/{key}/rotate":               {statuses{200, 403, 200, 404, 403, 403, 401}, statuses{200, 403, 404, 200, 403, 403, 401}},
	"POST /admin/v1/keys/{key}/revoke":               {statuses{200, 403, 200, 404, 403, 403, 401}, statuses{200, 403, 404, 200, 403, 403, 401}},
	"GET /admin/v1/audit":                            {statuses{200, 200, 200, 404, 200, 403, 401}, statuses{200, 200, 404, 200, 404, 403, 401}},
	"GET /admin/v1/audit/verify":                     {statuses{200, 200, 403, 403, 403, 403, 401}, statuses{200, 200, 403, 403, 403, 403, 401}},
	"GET /admin/v1/usage":                            {statuses{200, 200, 200, 404, 200, 403, 401}, statuses{200, 200, 404, 200, 404, 403, 401}},
	"GET /admin/v1/alerts/deliveries":                {statuses{200, 200, 200, 404, 200, 403, 401}, statuses{200, 200, 404, 200, 404, 403, 401}},
	// The data plane: admin credentials are no data-plane keys; the
	// tenant's key works; open routes are open.
	"POST /v1/chat/completions":      {statuses{401, 401, 403, 403, 403, 200, 401}, statuses{401, 401, 403, 403, 403, 200, 401}},
	"POST /v1/completions":           {statuses{401, 401, 403, 403, 403, 200, 401}, statuses{401, 401, 403, 403, 403, 200, 401}},
	"POST /v1/messages":              {statuses{401, 401, 403, 403, 403, 200, 401}, statuses{401, 401, 403, 403, 403, 200, 401}},
	"POST /v1/messages/count_tokens": {statuses{401, 401, 403, 403, 403, 200, 401}, statuses{401, 401, 403, 403, 403, 200, 401}},
	"POST /v1/embeddings":            {statuses{401, 401, 403, 403, 403, 200, 401}, statuses{401, 401, 403, 403, 403, 200, 401}},
	"GET /v1/models":                 {statuses{401, 401, 403, 403, 403, 200, 401}, statuses{401, 401, 403, 403, 403, 200, 401}},
	// Stored responses: a tenant's key sees its tenant's only.
	"POST /v1/responses":                 {statuses{401, 401, 403, 403, 403, 200, 401}, statuses{401, 401, 403, 403, 403, 200, 401}},
	"GET /v1/responses/{id}":             {statuses{401, 401, 403, 403, 403, 200, 401}, statuses{401, 401, 403, 403, 403, 404, 401}},
	"DELETE /v1/responses/{id}":          {statuses{401, 401, 403, 403, 403, 200, 401}, statuses{401, 401, 403, 403, 403, 404, 401}},
	"GET /v1/responses/{id}/input_items": {statuses{401, 401, 403, 403, 403, 200, 401}, statuses{401, 401, 403, 403, 403, 404, 401}},
	"GET /v1/models/{id...}":             {statuses{401, 401, 403, 403, 403, 200, 401}, statuses{401, 401, 403, 403, 403, 200, 401}},
	"GET /healthz":                       {statuses{200, 200, 200, 200, 200, 200, 200}, statuses{200, 200, 200, 200, 200, 200, 200}},
	"GET /readyz":                        {statuses{200, 200, 200, 200, 200, 200, 200}, statuses{200, 200, 200, 200, 200, 200, 200}},
	"GET /startupz":                      {statuses{200, 200, 200, 200, 200, 200, 200}, statuses{200, 200, 200, 200, 200, 200, 200}},
	"GET /metrics":                       {statuses{200, 200, 200, 200, 200, 200, 200}, statuses{200, 200, 200, 200, 200, 200, 200}},
}

// matrixFixture is the state the matrix runs on: two tenants, each with
// a tenant admin key; A with a read-only key and a data-plane key.
type matrixFixture struct {
	g       *adminGateway
	tenants map[string]string // "A", "B" -> ID
	creds   map[string]string // caller -> bearer credential
	n       int
}

func newMatrixFixture(t *testing.T) *matrixFixture {
	g := newAdminGateway(t)
	f := &matrixFixture{g: g, tenants: map[string]string{}, creds: map[string]string{"global": adminRoot, "viewer": adminViewer}}
	for _, name := range []string{"A", "B"} {
		_, body := g.do("POST", "/admin/v1/tenants", `{"name":"`+name+`"}`, "Authorization", "Bearer "+adminRoot)
		f.tenants[name] = gjson.Get(body, "id").String()
		f.creds["admin"+name] = f.secret(t, `{"tenant":"`+name+`","name":"admin","role":"tenant_admin"}`)
	}
	// Each tenant has an alert's webhook delivery to list.
	for name, id := range f.tenants {
		ev := store.AlertEvent{TenantID: id, Subject: "tenant:" + id, Period: "daily", Window: "2026-12-02", Threshold: 80,
			At: time.Now(), Delivery: store.Delivery{ID: "msg_" + name, Type: "budget.threshold_crossed", Payload: []byte(`{"tenant":"` + id + `"}`)}}
		if _, err := g.st.Alerts().Claim(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	f.creds["readerA"] = f.secret(t, `{"tenant":"A","name":"reader","role":"read_only"}`)
	f.creds["keyA"] = f.secret(t, `{"tenant":"A","name":"app","models":["mock","gpt"]}`)
	return f
}

// secret creates a key as the global admin and returns its secret.
func (f *matrixFixture) secret(t *testing.T, body string) string {
	t.Helper()
	resp, out := f.g.do("POST", "/admin/v1/keys", body, "Authorization", "Bearer "+adminRoot)
	if resp.StatusCode != 201 {
		t.Fatalf("create key %s: %d %s", body, resp.StatusCode, out)
	}
	return gjson.Get(out, "key").String()
}

// request builds the request of one cell: fresh objects of tenant on
// which the route acts, and a body it accepts.
func (f *matrixFixture) request(t *testing.T, method, pattern, tenant string) (path, body string) {
	t.Helper()
	f.n++
	uniq := fmt.Sprintf("m%d", f.n)
	root := []string{"Authorization", "Bearer " + adminRoot}
	team, key := "", ""
	if strings.Contains(pattern, "{team}") {
		_, out := f.g.do("POST", "/admin/v1/tenants/"+tenant+"/teams", `{"name":"team-`+uniq+`"}`, root...)
		team = gjson.Get(out, "id").String()
	}
	if strings.Contains(pattern, "{key}") {
		_, out := f.g.do("POST", "/admin/v1/keys", `{"tenant":"`+tenant+`","name":"key-`+uniq+`"}`, root...)
		key = gjson.Get(out, "id").String()
	}
	resp := ""
	if strings.Contains(pattern, "/v1/responses/{id}") {
		resp = f.storedResponse(t, tenant, uniq)
	}
	path = strings.NewReplacer("{tenant}", f.tenants[tenant], "{team}", team, "{key}", key, "{id...}", "mock", "{id}", resp).Replace(pattern)
	switch method + " " + pattern {
	case "POST /admin/v1/tenants":
		body = `{"name":"tenant-` + uniq + `"}`
	case "PATCH /admin/v1/tenants/{tenant}":
		body = `{"labels":{"by":"` + uniq + `"}}`
	case "POST /admin/v1/tenants/{tenant}/teams", "PATCH /admin/v1/tenants/{tenant}/teams/{team}":
		body = `{"name":"t-` + uniq + `"}`
	case "POST /admin/v1/keys":
		body = `{"tenant":"` + tenant + `","name":"k-` + uniq + `"}`
	case "PATCH /admin/v1/keys/{key}":
		body = `{"labels":{"by":"` + uniq + `"}}`
	case "POST /admin/v1/targets/reset":
		body = `{"all":true}`
	case "POST /v1/chat/completions":
		body = `{"model":"mock","messages":[{"role":"user","content":"hi"}]}`
	case "POST /v1/completions":
		body = `{"model":"mock","prompt":"hi"}`
	case "POST /v1/messages":
		body = `{"model":"mock","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}`
	case "POST /v1/messages/count_tokens":
		body = `{"model":"mock","messages":[{"role":"user","content":"hi"}]}`
	case "POST /v1/embeddings":
		body = `{"model":"mock","input":"hi"}`
	case "POST /v1/responses":
		body = `{"model":"gpt","input":"hi"}`
	}
	switch {
	case pattern == "/admin/v1/keys" && method == "GET", pattern == "/admin/v1/audit", pattern == "/admin/v1/usage",
		pattern == "/admin/v1/alerts/deliveries":
		path += "?tenant=" + tenant
	}
	return path, body
}

// storedResponse stores a response of tenant and returns its id.
func (f *matrixFixture) storedResponse(t *testing.T, tenant, uniq string) string {
	t.Helper()
	id := "resp_" + uniq
	now := time.Now()
	r := store.StoredResponse{ID: id, TenantID: f.tenants[tenant], Model: "gpt", CreatedAt: now, ExpiresAt: now.Add(time.Hour),
		Input: []byte(`[{"id":"msg_1","type":"message","role":"user","content":"hi"}]`), Response: []byte(`{"id":"` + id + `","object":"response","output":[]}`)}
	if err := f.g.st.Responses().Put(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return id
}

// tenantState is everything of a tenant in the store, to tell whether a
// request changed any of it.
func (f *matrixFixture) tenantState(t *testing.T, tenant string) string {
	t.Helper()
	ctx := context.Background()
	st := f.g.st
	tn, err := st.Tenants().Get(ctx, f.tenants[tenant])
	if err != nil {
		t.Fatal(err)
	}
	teams, err := st.Teams().List(ctx, tn.ID, store.ListOptions{Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := st.Keys().List(ctx, store.KeyFilter{TenantID: tn.ID}, store.ListOptions{Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	for i := range keys.Items {
		keys.Items[i].LastUsedAt = keys.Items[i].CreatedAt // use is not a change
	}
	b, _ := json.Marshal([]any{tn, teams.Items, keys.Items})
	return string(b)
}

// scope is the one tenant a caller belongs to, "" for the global ones and
// for no credential.
func scope(caller string) string {
	switch caller {
	case "adminA", "readerA", "keyA":
		return "A"
	case "adminB":
		return "B"
	}
	return ""
}

// Every route of the gateway, admin and data plane, asked by every kind
// of caller on tenant A's objects and on tenant B's: each answers what its
// row says, no caller of one tenant changes anything of the other, and
// the lists a tenant's caller gets hold only its own tenant's rows.
func TestTenantIsolationMatrix(t *testing.T) {
	f := newMatrixFixture(t)
	seen := map[string]bool{}
	for _, rt := range f.g.srv.routeTable() {
		name := rt.method + " " + rt.path
		seen[name] = true
		row, ok := isolationMatrix[name]
		if !ok {
			t.Errorf("%s has no row in the isolation matrix", name)
			continue
		}
		for _, target := range []string{"A", "B"} {
			want := row.onA
			if target == "B" {
				want = row.onB
			}
			for i, caller := range matrixCallers {
				path, body := f.request(t, rt.method, rt.path, target)
				other := map[string]string{"A": "B", "B": "A"}[scope(caller)]
				var before string
				if other != "" {
					before = f.tenantState(t, other)
				}
				var headers []string
				if cred := f.creds[caller]; cred != "" {
					headers = []string{"Authorization", "Bearer " + cred}
				}
				resp, out := f.g.do(rt.method, path, body, headers...)
				if resp.StatusCode != want[i] {
					t.Errorf("%s on %s's objects by %s: %d, want %d: %.300s", name, target, caller, resp.StatusCode, want[i], out)
				}
				if other != "" && f.tenantState(t, other) != before {
					t.Errorf("%s on %s's objects by %s changed tenant %s", name, target, caller, other)
				}
				if other != "" && resp.StatusCode == 200 && strings.HasPrefix(rt.path, "/admin/") {
					for _, row := range gjson.Get(out, "data").Array() {
						if id := row.Get("tenant_id").String(); id != f.tenants[scope(caller)] {
							t.Errorf("%s by %s lists a row of tenant %q: %s", name, caller, id, row.Raw)
						}
					}
					if strings.Contains(out, f.tenants[other]) {
						t.Errorf("%s by %s shows tenant %s's ID: %.300s", name, caller, other, out)
					}
				}
			}
		}
	}
	// Unfiltered, the lists of a tenant's admin credentials hold their own
	// tenant's rows only.
	for _, path := range []string{"/admin/v1/keys", "/admin/v1/audit", "/admin/v1/alerts/deliveries"} {
		for _, caller := range []string{"adminA", "adminB", "readerA"} {
			resp, out := f.g.do("GET", path, "", "Authorization", "Bearer "+f.creds[caller])
			rows := gjson.Get(out, "data").Array()
			if resp.StatusCode != 200 || len(rows) == 0 {
				t.Fatalf("GET %s by %s: %d %.300s", path, caller, resp.StatusCode, out)
			}
			for _, row := range rows {
				if id := row.Get("tenant_id").String(); id != f.tenants[scope(caller)] {
					t.Errorf("GET %s by %s lists a row of tenant %q: %s", path, caller, id, row.Raw)
				}
			}
		}
	}
	for name := range isolationMatrix {
		if !seen[name] {
			t.Errorf("the isolation matrix has a row for %s, which the gateway does not serve", name)
		}
	}
}
