package server

import (
	"testing"

	"github.com/tidwall/gjson"
)

// A path with an encoded slash is not the route it decodes to: the mux does
// not match it, and the answer is 404, not a 405 claiming the route exists.
func TestEncodedSlashIsNoRoute(t *testing.T) {
	g := newGateway(t, baseConfig, nil)
	for _, path := range []string{"/v1/chat%2Fcompletions", "/v1%2Fmodels", "/v1/messages%2Fcount_tokens"} {
		resp, body := g.do("POST", path, `{}`)
		if resp.StatusCode != 404 || !gjson.Get(body, "error.message").Exists() {
			t.Errorf("POST %s: %d %s", path, resp.StatusCode, body)
		}
		if resp.Header.Get("Allow") != "" {
			t.Errorf("POST %s: Allow %q", path, resp.Header.Get("Allow"))
		}
	}
	// The decoded spelling still gets its 405.
	if resp, body := g.do("GET", "/v1/chat/completions", ""); resp.StatusCode != 405 {
		t.Errorf("GET /v1/chat/completions: %d %s", resp.StatusCode, body)
	}
}
