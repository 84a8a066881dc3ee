package server

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

const keysConfig = baseConfig + `
keys:
  - name: ci
    key: "sk-ci-key"
    tenant: acme
    models: ["mock"]
  - name: admin
    key: "sk-all-models"
`

func TestNoKeysMeansNoAuth(t *testing.T) {
	g := newGateway(t, baseConfig, nil)
	resp, body := g.do("GET", "/v1/models", "")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var ids []string
	for _, m := range gjson.Get(body, "data.#.id").Array() {
		ids = append(ids, m.String())
	}
	if strings.Join(ids, ",") != "gpt,mock" || gjson.Get(body, "object").String() != "list" {
		t.Errorf("models %v in %s", ids, body)
	}
}

func TestVirtualKeys(t *testing.T) {
	g := newGateway(t, keysConfig, nil)
	chat := fmt.Sprintf(userHello, "mock", "")
	cases := []struct {
		name    string
		body    string
		headers []string
		status  int
		code    string
	}{
		{"no key", chat, nil, 401, "invalid_api_key"},
		{"wrong key", chat, []string{"Authorization", "Bearer sk-nope"}, 401, "invalid_api_key"},
		{"bearer", chat, []string{"Authorization", "Bearer sk-ci-key"}, 200, ""},
		{"x-api-key", chat, []string{"x-api-key", "sk-ci-key"}, 200, ""},
		{"model not allowed", fmt.Sprintf(userHello, "gpt", ""), []string{"Authorization", "Bearer sk-ci-key"}, 403, "model_not_allowed"},
		{"all models key", fmt.Sprintf(userHello, "gpt", ""), []string{"Authorization", "Bearer sk-all-models"}, 200, ""},
		{"embeddings checked too", `{"model":"gpt","input":"x"}`, []string{"Authorization", "Bearer sk-ci-key"}, 403, "model_not_allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := "/v1/chat/completions"
			if strings.Contains(tc.body, `"input"`) {
				path = "/v1/embeddings"
			}
			resp, body := g.do("POST", path, tc.body, tc.headers...)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if tc.code != "" && gjson.Get(body, "error.code").String() != tc.code {
				t.Errorf("code %s, want %s", body, tc.code)
			}
		})
	}
	resp, body := g.do("GET", "/v1/models", "", "Authorization", "Bearer sk-ci-key")
	if resp.StatusCode != 200 || gjson.Get(body, "data.#.id").String() != `["mock"]` {
		t.Errorf("models for a restricted key: %d %s", resp.StatusCode, body)
	}
	if resp, _ := g.do("GET", "/v1/models", ""); resp.StatusCode != 401 {
		t.Errorf("models without a key: %d", resp.StatusCode)
	}
	// Health endpoints need no key.
	for _, p := range []string{"/healthz", "/readyz"} {
		if resp, _ := g.do("GET", p, ""); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
}
