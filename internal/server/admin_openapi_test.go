package server

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/admin"
	"github.com/llmgw/llmgw/internal/store"
)

// adminSpec loads docs/admin-openapi.yaml and its router.
func adminSpec(t *testing.T) (*openapi3.T, routers.Router) {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(repoFile(t, "docs/admin-openapi.yaml"))
	if err != nil {
		t.Fatalf("load docs/admin-openapi.yaml: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("docs/admin-openapi.yaml is not valid OpenAPI: %v", err)
	}
	// The document names no host: match paths wherever the gateway runs.
	doc.Servers = nil
	rt, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return doc, rt
}

// Every route of the admin mux has its operation in the document, and the
// document describes no route the API does not serve.
func TestAdminOpenAPICoversEveryRoute(t *testing.T) {
	doc, _ := adminSpec(t)
	served := map[string]bool{}
	for _, rt := range admin.Routes() {
		served[rt.Method+" "+rt.Pattern] = true
		item := doc.Paths.Value(rt.Pattern)
		if item == nil || item.GetOperation(rt.Method) == nil {
			t.Errorf("%s %s is served but not in docs/admin-openapi.yaml", rt.Method, rt.Pattern)
		}
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !served[method+" "+path] {
				t.Errorf("docs/admin-openapi.yaml describes %s %s, which the API does not serve", method, path)
			}
		}
	}
}

// specCheck validates live exchanges against the document.
type specCheck struct {
	t      *testing.T
	g      *adminGateway
	router routers.Router
	// ok counts, per operation, the successful answers validated.
	ok map[string]int
}

// do sends a request to the live gateway, validates the request (when it
// is meant to succeed) and the answer against the document, and returns
// the answer's status and body.
func (c *specCheck) do(method, path, token, body string) (int, string) {
	c.t.Helper()
	resp, got := c.g.do(method, path, body, "Authorization", "Bearer "+token)
	req, err := http.NewRequest(method, "http://gateway"+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		c.t.Errorf("%s %s: not in the document: %v", method, path, err)
		return resp.StatusCode, got
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	if resp.StatusCode < 300 {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			c.t.Errorf("%s %s: the request the gateway accepted breaks the document: %v", method, path, err)
		}
		c.ok[method+" "+route.Path]++
	}
	if route.Operation.Responses.Status(resp.StatusCode) == nil {
		c.t.Errorf("%s %s answered %d, which the document does not list: %s", method, path, resp.StatusCode, got)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode,
		Header: resp.Header, Body: io.NopCloser(bytes.NewReader([]byte(got))),
		Options: &openapi3filter.Options{IncludeResponseStatus: true}}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		c.t.Errorf("%s %s: %d answer breaks the document: %v\n%s", method, path, resp.StatusCode, err, got)
	}
	return resp.StatusCode, got
}

// Live answers of every admin route, successes and errors, match the
// document.
func TestAdminAnswersMatchOpenAPI(t *testing.T) {
	_, router := adminSpec(t)
	g := newAdminGateway(t)
	c := &specCheck{t: t, g: g, router: router, ok: map[string]int{}}
	root := adminRoot
	must := func(status int, method, path, token, body string) string {
		t.Helper()
		got, b := c.do(method, path, token, body)
		if got != status {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, got, status, b)
		}
		return b
	}
	tenant := gjson.Get(must(201, "POST", "/admin/v1/tenants", root, `{"name":"acme","labels":{"env":"prod"}}`), "id").String()
	must(201, "POST", "/admin/v1/tenants", root, `{"name":"other"}`)
	must(200, "GET", "/admin/v1/tenants?limit=1", root, "")
	must(200, "GET", "/admin/v1/tenants/acme", root, "")
	must(200, "PATCH", "/admin/v1/tenants/"+tenant, root, `{"labels":null}`)
	must(204, "DELETE", "/admin/v1/tenants/other", root, "")
	team := gjson.Get(must(201, "POST", "/admin/v1/tenants/acme/teams", root, `{"name":"ads"}`), "id").String()
	must(200, "GET", "/admin/v1/tenants/acme/teams", root, "")
	must(200, "GET", "/admin/v1/tenants/acme/teams/ads", root, "")
	must(200, "PATCH", "/admin/v1/tenants/acme/teams/"+team, root, `{"name":"ads2"}`)
	must(201, "POST", "/admin/v1/tenants/acme/teams", root, `{"name":"gone"}`)
	must(204, "DELETE", "/admin/v1/tenants/acme/teams/gone", root, "")
	created := must(201, "POST", "/admin/v1/keys", root,
		`{"tenant":"acme","name":"ci","team":"ads2","models":["gpt"],"labels":{"o":"ci"},"expires_at":"2090-01-01T00:00:00Z","role":"tenant_admin"}`)
	key, secret := gjson.Get(created, "id").String(), gjson.Get(created, "key").String()
	must(201, "POST", "/admin/v1/keys", root, `{"tenant":"acme","name":"all"}`)
	must(200, "GET", "/admin/v1/keys?tenant=acme&team=ads2", root, "")
	must(200, "GET", "/admin/v1/keys?limit=1", secret, "")
	must(200, "GET", "/admin/v1/keys/"+key, root, "")
	must(200, "PATCH", "/admin/v1/keys/"+key, root, `{"team":null,"labels":{"x":"y"}}`)
	must(200, "POST", "/admin/v1/keys/"+key+"/rotate", root, `{"grace":"1h"}`)
	must(200, "POST", "/admin/v1/keys/"+key+"/rotate", root, "")
	must(200, "GET", "/admin/v1/keys/"+key, root, "") // with previous_valid_until
	must(200, "POST", "/admin/v1/keys/"+key+"/revoke", root, "")
	must(200, "GET", "/admin/v1/audit?tenant=acme&action=key.create", root, "")
	must(200, "GET", "/admin/v1/audit?limit=2", root, "")
	must(200, "GET", "/admin/v1/audit/verify", root, "")
	if _, err := g.st.Ledger().Insert(context.Background(), []store.UsageRecord{
		{RequestID: "u1", At: time.Now(), TenantID: tenant, Tenant: "acme", TeamID: team, KeyID: key, KeyName: "ci", Model: "gpt",
			Provider: "p", UpstreamModel: "gpt-4o-mini", InputTokens: 10, OutputTokens: 5, CostPico: 42, CostKnown: true, Status: 200},
		{RequestID: "u2", At: time.Now(), TenantID: tenant, Tenant: "acme", Model: "gpt", Provider: "p", Status: 502},
	}); err != nil {
		t.Fatal(err)
	}
	if b := must(200, "GET", "/admin/v1/usage?group_by=tenant,key,model,day", root, ""); !strings.Contains(b, `"cost_usd":0.000000000042`) {
		t.Fatalf("usage: %s", b)
	}
	must(200, "GET", "/admin/v1/usage?group_by=team,provider,hour&tenant=acme&limit=1", root, "")
	must(200, "GET", "/admin/v1/usage?group_by=&from=2020-01-01", root, "")
	must(400, "GET", "/admin/v1/usage?group_by=colour", root, "")
	if _, err := g.st.Alerts().Claim(context.Background(), store.AlertEvent{TenantID: tenant, Subject: "key:" + key, Period: "daily",
		Window: "2026-12-02", Threshold: 50, At: time.Now(), Delivery: store.Delivery{ID: "msg_1", Type: "budget.threshold_crossed",
			Payload: []byte(`{"type":"budget.threshold_crossed"}`)}}); err != nil {
		t.Fatal(err)
	}
	if b := must(200, "GET", "/admin/v1/alerts/deliveries?tenant=acme&limit=5", root, ""); !strings.Contains(b, `"next_attempt_at"`) {
		t.Fatalf("deliveries: %s", b)
	}
	must(400, "GET", "/admin/v1/alerts/deliveries?cursor=%%%", root, "")
	must(200, "GET", "/admin/v1/targets", root, "")
	must(200, "POST", "/admin/v1/targets/reset", root, `{"all":true}`)
	must(200, "GET", "/admin/v1/config", root, "")
	must(200, "POST", "/admin/v1/config/reload", root, "")
	must(200, "GET", "/admin/v1/config", root, "") // with the last reload

	// Errors, each in the documented shape and status.
	must(400, "POST", "/admin/v1/tenants", root, `{"name":"x","colour":"red"}`)
	must(400, "GET", "/admin/v1/keys?limit=abc", root, "")
	must(401, "GET", "/admin/v1/tenants", "wrong", "")
	must(403, "POST", "/admin/v1/tenants", adminViewer, `{"name":"x"}`)
	must(404, "GET", "/admin/v1/keys/key_nope", root, "")
	must(404, "GET", "/admin/v1/tenants/nope/teams/x", root, "")
	must(404, "POST", "/admin/v1/targets/reset", root, `{"model":"nope"}`)
	must(409, "POST", "/admin/v1/tenants", root, `{"name":"acme"}`)
	must(409, "POST", "/admin/v1/keys/"+key+"/rotate", root, "")
	must(409, "DELETE", "/admin/v1/tenants/acme", root, "")
	must(413, "POST", "/admin/v1/keys", root, `{"name":"`+strings.Repeat("x", admin.MaxBody)+`"}`)
	must(400, "POST", "/admin/v1/config/reload", root, `{"force":true}`)
	bad := "bogus: 1\n" + adminConfig
	g.config.Store(&bad)
	must(422, "POST", "/admin/v1/config/reload", root, "")
	must(200, "GET", "/admin/v1/config", root, "") // with the error

	for _, rt := range admin.Routes() {
		if c.ok[rt.Method+" "+rt.Pattern] == 0 {
			t.Errorf("%s %s: no successful answer was validated", rt.Method, rt.Pattern)
		}
	}
}
