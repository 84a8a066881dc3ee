package server

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// allowListConfig has a key allowed no model (models: []), one allowed
// only gpt, and one allowed everything (no list).
const allowListConfig = baseConfig + `  - name: oai/*
    targets: [{provider: fake-openai, model: "*"}]
keys:
  - {name: none, key: sk-none, models: []}
  - {name: gpt-only, key: sk-gpt, models: [gpt]}
  - {name: all, key: sk-all}
`

// modelRoutes are the /v1 routes that take a model, each with a body for
// model "gpt" and the JSON path of an error's code in its error shape.
var modelRoutes = []struct{ path, body, code string }{
	{"/v1/chat/completions", `{"model":"%s","messages":[{"role":"user","content":"hi"}]}`, "error.code"},
	{"/v1/messages", `{"model":"%s","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`, "error.type"},
	{"/v1/messages/count_tokens", `{"model":"%s","messages":[{"role":"user","content":"hi"}]}`, "error.type"},
	{"/v1/embeddings", `{"model":"%s","input":"hi"}`, "error.code"},
}

// An empty allow-list allows no model, on every route, and the model list
// it sees is empty; a fallback override may not name a model the key may
// not use either.
func TestEmptyAllowListAllowsNothing(t *testing.T) {
	g := newGateway(t, allowListConfig, nil)
	for _, rt := range modelRoutes {
		for _, model := range []string{"gpt", "mock", "oai/gpt-4o"} {
			resp, body := g.do("POST", rt.path, fmt.Sprintf(rt.body, model), "Authorization", "Bearer sk-none")
			if resp.StatusCode != 403 || !isPermissionError(gjson.Get(body, rt.code).String()) {
				t.Errorf("%s %s with models: []: %d %s, want 403", rt.path, model, resp.StatusCode, body)
			}
		}
		// The same request with a key that names no list is served.
		if resp, body := g.do("POST", rt.path, fmt.Sprintf(rt.body, "gpt"), "Authorization", "Bearer sk-all"); resp.StatusCode != 200 {
			t.Errorf("%s with no list: %d %s", rt.path, resp.StatusCode, body)
		}
	}
	for _, rt := range modelRoutes {
		if rt.path == "/v1/messages/count_tokens" {
			continue // makes no upstream call, so has no fallbacks
		}
		resp, body := g.do("POST", rt.path, fmt.Sprintf(rt.body, "gpt"), "Authorization", "Bearer sk-gpt", "X-Llmgw-Fallbacks", "mock")
		if resp.StatusCode != 403 || !isPermissionError(gjson.Get(body, rt.code).String()) {
			t.Errorf("%s: override naming a model the key may not use: %d %s", rt.path, resp.StatusCode, body)
		}
	}

	resp, body := g.do("GET", "/v1/models", "", "Authorization", "Bearer sk-none")
	if resp.StatusCode != 200 || gjson.Get(body, "data.#").Int() != 0 || !gjson.Get(body, "data").IsArray() {
		t.Errorf("GET /v1/models with models: []: %d %s, want an empty list", resp.StatusCode, body)
	}
	resp, body = g.do("GET", "/v1/models", "", "Authorization", "Bearer sk-gpt")
	if ids := gjson.Get(body, "data.#.id").String(); resp.StatusCode != 200 || ids != `["gpt"]` {
		t.Errorf("GET /v1/models with models: [gpt]: %d %s", resp.StatusCode, ids)
	}
	// The key with no list sees every configured name and the models the
	// wildcard's upstream lists, never the pattern itself.
	resp, body = g.do("GET", "/v1/models", "", "Authorization", "Bearer sk-all")
	ids := gjson.Get(body, "data.#.id").String()
	if resp.StatusCode != 200 || !strings.HasPrefix(ids, `["gpt","mock","oai/`) || strings.Contains(ids, `"oai/*"`) {
		t.Errorf("GET /v1/models with no list: %d %s", resp.StatusCode, body)
	}
}

// isPermissionError reports whether code is the 403 of a model the key may
// not use, in the OpenAI or Anthropic shape.
func isPermissionError(code string) bool {
	return code == "model_not_allowed" || code == "permission_error"
}

// A wildcard pattern is not a model name: "oai/*" and "oai/" (and a name
// shaped like a pattern under it) are model_not_found on every route, in
// the override header too, while "oai/gpt-4o" is served everywhere.
func TestWildcardPatternIsNotAModel(t *testing.T) {
	g := newGateway(t, allowListConfig, nil)
	key := []string{"Authorization", "Bearer sk-all"}
	for _, rt := range modelRoutes {
		for _, model := range []string{"oai/*", "oai/", "oai/x/*"} {
			resp, body := g.do("POST", rt.path, fmt.Sprintf(rt.body, model), key...)
			code := gjson.Get(body, rt.code).String()
			if resp.StatusCode != 404 || (code != "model_not_found" && code != "not_found_error") {
				t.Errorf("%s %q: %d %s, want 404 model_not_found", rt.path, model, resp.StatusCode, body)
			}
		}
		if resp, body := g.do("POST", rt.path, fmt.Sprintf(rt.body, "oai/gpt-4o"), key...); resp.StatusCode != 200 {
			t.Errorf("%s oai/gpt-4o: %d %s", rt.path, resp.StatusCode, body)
		}
		if rt.path == "/v1/messages/count_tokens" {
			continue
		}
		resp, body := g.do("POST", rt.path, fmt.Sprintf(rt.body, "gpt"), append(key, "X-Llmgw-Fallbacks", "oai/*")...)
		if resp.StatusCode != 400 {
			t.Errorf("%s: override naming oai/*: %d %s", rt.path, resp.StatusCode, body)
		}
	}
}
