package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/catalog"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// modelsConfig routes exact names and two wildcards, one per upstream
// protocol, and has keys with different model lists.
const modelsConfig = `
providers:
  - name: oai
    type: openai
    base_url: "${OPENAI_URL}"
    api_key: "sk-upstream-openai-secret"
  - name: ant
    type: anthropic
    base_url: "${ANTHROPIC_URL}"
    api_key: "sk-ant-upstream-secret"
  - name: mock
    type: mock
models:
  - name: gpt
    targets: [{provider: oai, model: "gpt-4o-mini"}]
  - name: mock
    targets: [{provider: mock, model: mock}]
  - name: "openai/*"
    targets: [{provider: oai, model: "*"}]
  - name: "anthropic/*"
    targets: [{provider: ant, model: "*"}]
keys:
  - name: all
    key: "sk-all"
  - name: claude-only
    key: "sk-claude"
    models: ["gpt", "anthropic/*"]
  - name: none
    key: "sk-none"
    models: []
`

// modelsGateway is a gateway in front of a fake OpenAI and a fake
// Anthropic upstream, with its own model list cache.
type modelsGateway struct {
	*testGateway
	oai   *providertest.OpenAI
	ant   *providertest.Anthropic
	lists *catalog.Cache
}

func newModelsGateway(t *testing.T, o catalog.Options) *modelsGateway {
	t.Helper()
	oai, ant := providertest.NewOpenAI(t), providertest.NewAnthropic(t)
	lists := catalog.New(o)
	t.Cleanup(lists.Close)
	snap := compileConfig(t, modelsConfig, map[string]string{"OPENAI_URL": oai.URL, "ANTHROPIC_URL": ant.URL}, gateway.Options{ModelLists: lists})
	logs := &syncBuffer{}
	srv := New(snap, slog.New(slog.NewJSONHandler(logs, nil)))
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &modelsGateway{testGateway: &testGateway{t: t, srv: srv, http: ts, logs: logs}, oai: oai, ant: ant, lists: lists}
}

func ids(body string) []string {
	var out []string
	for _, v := range gjson.Get(body, "data.#.id").Array() {
		out = append(out, v.String())
	}
	return out
}

// Every model of the OpenAI list: configured names first, then each
// wildcard's upstream models under its prefix, in the OpenAI shape.
func TestModelsListOpenAIShape(t *testing.T) {
	g := newModelsGateway(t, catalog.Options{})
	resp, body := g.do("GET", "/v1/models", "", "Authorization", "Bearer sk-all")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	want := "gpt,mock,openai/gpt-4o-mini,openai/gpt-4o,openai/text-embedding-3-small,openai/ft:gpt-4o-mini-2024-07-18:acme::9abcDEF1," +
		"anthropic/claude-sonnet-4-20250514,anthropic/claude-3-7-sonnet-20250219,anthropic/claude-3-5-haiku-20241022"
	if got := strings.Join(ids(body), ","); got != want {
		t.Errorf("ids:\n got %s\nwant %s", got, want)
	}
	if gjson.Get(body, "object").String() != "list" {
		t.Errorf("object: %s", body)
	}
	for _, m := range gjson.Get(body, "data").Array() {
		if m.Get("object").String() != "model" || m.Get("created").Type != gjson.Number || m.Get("owned_by").Type != gjson.String {
			t.Errorf("not an OpenAI model object: %s", m.Raw)
		}
		if m.Get("type").Exists() || m.Get("display_name").Exists() {
			t.Errorf("Anthropic fields in an OpenAI answer: %s", m.Raw)
		}
	}
	if c := gjson.Get(body, `data.#(id=="openai/gpt-4o").created`).Int(); c != 1715367049 {
		t.Errorf("upstream created not carried: %d", c)
	}
	// The upstreams were asked with their own credentials, never the
	// caller's.
	for _, r := range g.oai.Requests() {
		if r.Path == "/v1/models" && r.Header.Get("Authorization") != "Bearer sk-upstream-openai-secret" {
			t.Errorf("OpenAI models fetched with %q", r.Header.Get("Authorization"))
		}
	}
	for _, r := range g.ant.Requests() {
		if r.Path == "/v1/models" && (r.Header.Get("x-api-key") != "sk-ant-upstream-secret" || r.Header.Get("anthropic-version") == "") {
			t.Errorf("Anthropic models fetched with %v", r.Header)
		}
	}
}

// An Anthropic client (anthropic-version) gets ModelInfo objects and the
// page fields; its pagination parameters work as the reference defines.
func TestModelsListAnthropicShape(t *testing.T) {
	g := newModelsGateway(t, catalog.Options{})
	h := []string{"x-api-key", "sk-all", "anthropic-version", "2023-06-01"}
	resp, body := g.do("GET", "/v1/models", "", h...)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	all := ids(body)
	if len(all) != 9 || gjson.Get(body, "has_more").Bool() || gjson.Get(body, "has_more").Type != gjson.False {
		t.Fatalf("first page of 20: %s", body)
	}
	if gjson.Get(body, "first_id").String() != all[0] || gjson.Get(body, "last_id").String() != all[8] {
		t.Errorf("first_id/last_id: %s", body)
	}
	for _, m := range gjson.Get(body, "data").Array() {
		if m.Get("type").String() != "model" || m.Get("display_name").Type != gjson.String {
			t.Errorf("not a ModelInfo: %s", m.Raw)
		}
		if _, err := time.Parse(time.RFC3339, m.Get("created_at").String()); err != nil {
			t.Errorf("created_at: %v in %s", err, m.Raw)
		}
		if m.Get("object").Exists() || m.Get("owned_by").Exists() {
			t.Errorf("OpenAI fields in an Anthropic answer: %s", m.Raw)
		}
	}
	if d := gjson.Get(body, `data.#(id=="anthropic/claude-sonnet-4-20250514")`); d.Get("display_name").String() != "Claude Sonnet 4" ||
		d.Get("created_at").String() != "2025-05-22T00:00:00Z" {
		t.Errorf("upstream ModelInfo not carried: %s", d.Raw)
	}

	page := func(q string) (string, []string, bool) {
		t.Helper()
		resp, body := g.do("GET", "/v1/models"+q, "", h...)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d: %s", q, resp.StatusCode, body)
		}
		return body, ids(body), gjson.Get(body, "has_more").Bool()
	}
	body, got, more := page("?limit=4")
	if strings.Join(got, ",") != strings.Join(all[:4], ",") || !more {
		t.Errorf("limit=4: %s", body)
	}
	last := gjson.Get(body, "last_id").String()
	body, got, more = page("?limit=4&after_id=" + last)
	if strings.Join(got, ",") != strings.Join(all[4:8], ",") || !more {
		t.Errorf("after_id=%s: %s", last, body)
	}
	body, got, more = page("?limit=4&after_id=" + gjson.Get(body, "last_id").String())
	if strings.Join(got, ",") != all[8] || more {
		t.Errorf("last page: %s", body)
	}
	first := gjson.Get(body, "first_id").String()
	body, got, more = page("?limit=4&before_id=" + first)
	if strings.Join(got, ",") != strings.Join(all[4:8], ",") || !more {
		t.Errorf("before_id=%s: %s", first, body)
	}
	body, got, more = page("?limit=5&before_id=" + all[4])
	if strings.Join(got, ",") != strings.Join(all[:4], ",") || more {
		t.Errorf("before_id=%s: %s", all[4], body)
	}
	body, got, more = page("?after_id=unknown-model")
	if len(got) != 0 || more || gjson.Get(body, "first_id").Type != gjson.Null || gjson.Get(body, "last_id").Type != gjson.Null {
		t.Errorf("unknown cursor: %s", body)
	}
	for _, q := range []string{"?limit=0", "?limit=1001", "?limit=x", "?limit=99999999999999999999", "?after_id=gpt&before_id=mock"} {
		resp, body := g.do("GET", "/v1/models"+q, "", h...)
		if resp.StatusCode != 400 || gjson.Get(body, "type").String() != "error" || gjson.Get(body, "error.type").String() != "invalid_request_error" {
			t.Errorf("%s: %d %s, want 400 in Anthropic's shape", q, resp.StatusCode, body)
		}
	}
}

// GET /v1/models/{id} takes ids with slashes, raw or escaped as the SDKs
// send them, and answers in the route's shape; an unknown id is a 404 in it.
func TestModelRetrieve(t *testing.T) {
	g := newModelsGateway(t, catalog.Options{})
	auth := []string{"Authorization", "Bearer sk-all"}
	anth := []string{"x-api-key", "sk-all", "anthropic-version", "2023-06-01"}
	for _, path := range []string{"/v1/models/openai/gpt-4o", "/v1/models/openai%2Fgpt-4o"} {
		resp, body := g.do("GET", path, "", auth...)
		if resp.StatusCode != 200 || gjson.Get(body, "id").String() != "openai/gpt-4o" || gjson.Get(body, "object").String() != "model" ||
			gjson.Get(body, "created").Int() != 1715367049 || gjson.Get(body, "owned_by").String() != "system" {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	resp, body := g.do("GET", "/v1/models/gpt", "", auth...)
	if resp.StatusCode != 200 || gjson.Get(body, "id").String() != "gpt" || gjson.Get(body, "object").String() != "model" {
		t.Errorf("configured model: %d %s", resp.StatusCode, body)
	}
	resp, body = g.do("GET", "/v1/models/anthropic%2Fclaude-sonnet-4-20250514", "", anth...)
	if resp.StatusCode != 200 || gjson.Get(body, "type").String() != "model" || gjson.Get(body, "id").String() != "anthropic/claude-sonnet-4-20250514" ||
		gjson.Get(body, "display_name").String() != "Claude Sonnet 4" || gjson.Get(body, "created_at").String() != "2025-05-22T00:00:00Z" {
		t.Errorf("Anthropic retrieve: %d %s", resp.StatusCode, body)
	}
	for _, id := range []string{"nope", "openai/not-listed", "openai/*", "openai/", "anthropic/gpt-4o"} {
		resp, body := g.do("GET", "/v1/models/"+id, "", auth...)
		if resp.StatusCode != 404 || gjson.Get(body, "error.code").String() != "model_not_found" {
			t.Errorf("%s: %d %s, want 404 model_not_found", id, resp.StatusCode, body)
		}
		resp, body = g.do("GET", "/v1/models/"+id, "", anth...)
		if resp.StatusCode != 404 || gjson.Get(body, "type").String() != "error" || gjson.Get(body, "error.type").String() != "not_found_error" {
			t.Errorf("%s (Anthropic): %d %s, want 404 not_found_error", id, resp.StatusCode, body)
		}
	}
	// Hostile ids: long, invalid UTF-8, control bytes; a 404 that does not
	// echo a long one.
	long := strings.Repeat("x", 64<<10)
	for _, id := range []string{"openai/" + long, "%ff%fe", "openai/%00%0a", "anthropic/claude-sonnet-4-20250514%00"} {
		resp, body := g.do("GET", "/v1/models/"+id, "", auth...)
		if resp.StatusCode != 404 || gjson.Get(body, "error.code").String() != "model_not_found" || len(body) > 1024 || !gjson.Valid(body) {
			t.Errorf("%.40s: %d %.200s", id, resp.StatusCode, body)
		}
	}
	// An Anthropic client's 401 is in its shape too.
	resp, body = g.do("GET", "/v1/models/gpt", "", "x-api-key", "sk-wrong", "anthropic-version", "2023-06-01")
	if resp.StatusCode != 401 || gjson.Get(body, "error.type").String() != "authentication_error" {
		t.Errorf("bad key (Anthropic): %d %s", resp.StatusCode, body)
	}
}

// A key lists and retrieves only the models it may use; one it may not use
// answers exactly as one that does not exist.
func TestModelsFilteredByKey(t *testing.T) {
	g := newModelsGateway(t, catalog.Options{})
	resp, body := g.do("GET", "/v1/models", "", "Authorization", "Bearer sk-claude")
	want := "gpt,anthropic/claude-sonnet-4-20250514,anthropic/claude-3-7-sonnet-20250219,anthropic/claude-3-5-haiku-20241022"
	if got := strings.Join(ids(body), ","); resp.StatusCode != 200 || got != want {
		t.Errorf("claude-only key: %d %s", resp.StatusCode, body)
	}
	_, hidden := g.do("GET", "/v1/models/openai/gpt-4o", "", "Authorization", "Bearer sk-claude")
	_, unknown := g.do("GET", "/v1/models/openai/does-not-exist", "", "Authorization", "Bearer sk-claude")
	if strings.Replace(hidden, "gpt-4o", "does-not-exist", 1) != unknown || !strings.Contains(hidden, "model_not_found") {
		t.Errorf("a hidden model answers unlike an unknown one:\n%s\n%s", hidden, unknown)
	}
	resp, body = g.do("GET", "/v1/models/mock", "", "Authorization", "Bearer sk-claude")
	if resp.StatusCode != 404 {
		t.Errorf("configured model the key may not use: %d %s", resp.StatusCode, body)
	}
	// Pagination cursors do not reveal hidden models either.
	_, body = g.do("GET", "/v1/models?after_id=mock", "", "x-api-key", "sk-claude", "anthropic-version", "2023-06-01")
	if len(ids(body)) != 0 {
		t.Errorf("cursor of a hidden model: %s", body)
	}
	resp, body = g.do("GET", "/v1/models", "", "Authorization", "Bearer sk-none")
	if resp.StatusCode != 200 || len(ids(body)) != 0 || !gjson.Get(body, "data").IsArray() {
		t.Errorf("key with no models: %d %s", resp.StatusCode, body)
	}
	resp, _ = g.do("GET", "/v1/models", "", "Authorization", "Bearer sk-wrong")
	if resp.StatusCode != 401 {
		t.Errorf("unknown key: %d", resp.StatusCode)
	}
}

// An upstream that fails, hangs or answers junk costs its wildcard's
// entries only: the list still answers, from what is cached or configured.
func TestModelsUpstreamFailure(t *testing.T) {
	t.Run("error status", func(t *testing.T) {
		g := newModelsGateway(t, catalog.Options{})
		g.oai.Enqueue(providertest.Response{Status: 500, Body: []byte(`{"error":{"message":"boom sk-upstream-openai-secret","type":"server_error"}}`)})
		resp, body := g.do("GET", "/v1/models", "", "Authorization", "Bearer sk-all")
		if resp.StatusCode != 200 || strings.Contains(body, "openai/") || !strings.Contains(body, `"anthropic/claude-sonnet-4-20250514"`) ||
			!strings.Contains(body, `"gpt"`) {
			t.Errorf("%d %s", resp.StatusCode, body)
		}
		if strings.Contains(g.logs.String(), "sk-upstream-openai-secret") {
			t.Errorf("secret in the logs: %s", g.logs.String())
		}
	})
	t.Run("junk", func(t *testing.T) {
		g := newModelsGateway(t, catalog.Options{})
		g.ant.Enqueue(providertest.Response{Body: []byte(`{"data":"not a list"`)})
		resp, body := g.do("GET", "/v1/models", "", "Authorization", "Bearer sk-all")
		if resp.StatusCode != 200 || strings.Contains(body, "anthropic/") || !strings.Contains(body, `"openai/gpt-4o"`) {
			t.Errorf("%d %s", resp.StatusCode, body)
		}
	})
	t.Run("hangs", func(t *testing.T) {
		g := newModelsGateway(t, catalog.Options{Timeout: 300 * time.Millisecond})
		hold := make(chan struct{})
		t.Cleanup(func() { close(hold) })
		g.oai.Enqueue(providertest.Response{Hold: hold, Header: http.Header{"Content-Type": {"application/json"}}})
		// The bound only tells a hang from an answer, however loaded the
		// machine: the fetch gives up after 300ms.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", g.http.URL+"/v1/models", nil)
		req.Header.Set("Authorization", "Bearer sk-all")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("the list waited for a hanging upstream: %v", err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if body := string(b); resp.StatusCode != 200 || strings.Contains(body, "openai/") || !strings.Contains(body, `"gpt"`) {
			t.Errorf("%d %s", resp.StatusCode, body)
		}
	})
	t.Run("stale list served when the refresh fails", func(t *testing.T) {
		now := time.Unix(1_800_000_000, 0)
		var mu = make(chan struct{}, 1)
		mu <- struct{}{}
		clock := func() time.Time { <-mu; defer func() { mu <- struct{}{} }(); return now }
		g := newModelsGateway(t, catalog.Options{Now: clock, TTL: time.Minute})
		_, before := g.do("GET", "/v1/models", "", "Authorization", "Bearer sk-all")
		<-mu
		now = now.Add(2 * time.Minute)
		mu <- struct{}{}
		g.oai.Enqueue(providertest.Response{Status: 503, Body: []byte(`{"error":{"message":"down","type":"server_error"}}`)})
		_, stale := g.do("GET", "/v1/models", "", "Authorization", "Bearer sk-all")
		fetches := func() int {
			n := 0
			for _, r := range g.oai.Requests() {
				if r.Path == "/v1/models" {
					n++
				}
			}
			return n
		}
		// The stale answer started one background refresh, which fails;
		// Close would cancel it if it had not reached the upstream yet.
		for deadline := time.Now().Add(10 * time.Second); fetches() < 2 && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		g.lists.Close() // waits for the refresh to end
		_, after := g.do("GET", "/v1/models", "", "Authorization", "Bearer sk-all")
		if !strings.Contains(before, `"openai/gpt-4o"`) || stale != before || after != before {
			t.Errorf("before %s\nstale %s\nafter %s", before, stale, after)
		}
		if n := fetches(); n != 2 {
			t.Errorf("%d fetches of the OpenAI list, want 2 (first, refresh)", n)
		}
	})
}
