package hostile

import (
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// modelBodies are a request for model on each route that names one.
func modelBodies(model string) []struct{ path, body string } {
	q := `"` + model + `"`
	return []struct{ path, body string }{
		{"/v1/chat/completions", `{"model":` + q + `,"messages":[{"role":"user","content":"hi"}]}`},
		{"/v1/messages", `{"model":` + q + `,"max_tokens":16,"messages":[{"role":"user","content":"hi"}]}`},
		{"/v1/messages/count_tokens", `{"model":` + q + `,"messages":[{"role":"user","content":"hi"}]}`},
		{"/v1/embeddings", `{"model":` + q + `,"input":"hi"}`},
	}
}

// listed returns the model ids of a /v1/models answer.
func listed(t *testing.T, a answer) []string {
	t.Helper()
	if a.status != 200 {
		t.Fatalf("/v1/models: %d %s", a.status, a.body)
	}
	var ids []string
	for _, m := range gjson.GetBytes(a.body, "data").Array() {
		ids = append(ids, m.Get("id").String())
	}
	return ids
}

// TestEmptyModelList: a key whose models list is empty may use no model on
// any route, and lists none; a key with a list may use exactly those.
func TestEmptyModelList(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, gatewayConfig(up.URL, "", true))
	for _, model := range []string{"oa-ok", "an-ok", "mock"} {
		for _, c := range modelBodies(model) {
			if c.path == "/v1/embeddings" && model == "an-ok" {
				continue // no embeddings upstream: a 400 is as right
			}
			t.Run("none"+c.path+"/"+model, func(t *testing.T) {
				a := g.do("POST", c.path, []byte(c.body), auth(canaryNoModelsKey)...)
				wantError(t, c.path, a, 403, "model_not_allowed")
				if shapeOf(c.path) == anthropicShape && a.status == 403 {
					if typ := gjson.GetBytes(a.body, "error.type").String(); typ != "permission_error" {
						t.Errorf("error type %q, want permission_error", typ)
					}
				}
			})
		}
	}
	t.Run("none/v1/models", func(t *testing.T) {
		for _, h := range [][]string{nil, {"anthropic-version", "2023-06-01"}} {
			ids := listed(t, g.do("GET", "/v1/models", nil, append(auth(canaryNoModelsKey), h...)...))
			if len(ids) != 0 {
				t.Errorf("a key with no models lists %q (headers %q)", ids, h)
			}
		}
	})
	t.Run("one", func(t *testing.T) {
		for _, c := range modelBodies("oa-ok") {
			if a := g.do("POST", c.path, []byte(c.body), auth(canaryOneModelKey)...); a.status != 200 {
				t.Errorf("%s with an allowed model: %d %.300s", c.path, a.status, a.body)
			}
		}
		for _, c := range modelBodies("oa-alt") {
			wantError(t, c.path, g.do("POST", c.path, []byte(c.body), auth(canaryOneModelKey)...), 403, "model_not_allowed")
		}
		ids := listed(t, g.do("GET", "/v1/models", nil, auth(canaryOneModelKey)...))
		slices.Sort(ids)
		if !slices.Equal(ids, []string{"an-ok", "oa-ok"}) {
			t.Errorf("lists %q, want [an-ok oa-ok]", ids)
		}
	})
	g.finish(t)
}

// TestOriginAndHostWithoutKeys: with no key configured, a gateway on
// loopback answers only requests that a local client made: an Origin not
// listed in server.cors.allowed_origins is 403 origin_not_allowed, and a
// Host that is neither a loopback name nor listed in server.allowed_hosts
// is 403 host_not_allowed (what a DNS-rebinding page would send).
func TestOriginAndHostWithoutKeys(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, gatewayConfig(up.URL, "", false))
	_, port, _ := net.SplitHostPort(g.addr)
	chat := modelBodies("oa-ok")[0]
	msgs := modelBodies("an-ok")[1]
	t.Run("no-origin", func(t *testing.T) {
		if a := g.do("POST", chat.path, []byte(chat.body)); a.status != 200 {
			t.Errorf("a local request: %d %s", a.status, a.body)
		}
	})
	t.Run("foreign-origin", func(t *testing.T) {
		for _, c := range []struct{ path, body string }{chat, msgs} {
			a := g.do("POST", c.path, []byte(c.body), "Origin", "https://evil.example")
			wantError(t, c.path, a, 403, "origin_not_allowed")
		}
		wantError(t, "/v1/models", g.do("GET", "/v1/models", nil, "Origin", "https://evil.example"), 403, "origin_not_allowed")
		wantError(t, "/v1/chat/completions", g.do("OPTIONS", "/v1/chat/completions", nil, "Origin", "https://evil.example",
			"Access-Control-Request-Method", "POST"), 403, "origin_not_allowed")
	})
	t.Run("loopback-hosts", func(t *testing.T) {
		for _, h := range []string{"127.0.0.1:" + port, "localhost:" + port, "localhost", "[::1]:" + port} {
			if a := g.do("POST", chat.path, []byte(chat.body), "Host", h); a.status != 200 {
				t.Errorf("Host %s: %d %s", h, a.status, a.body)
			}
		}
	})
	t.Run("foreign-hosts", func(t *testing.T) {
		for _, h := range []string{"evil.example", "evil.example:" + port, "127.0.0.1.nip.io:" + port, "localhost.evil.example"} {
			wantError(t, chat.path, g.do("POST", chat.path, []byte(chat.body), "Host", h), 403, "host_not_allowed")
			wantError(t, msgs.path, g.do("POST", msgs.path, []byte(msgs.body), "Host", h), 403, "host_not_allowed")
			wantError(t, "/v1/models", g.do("GET", "/v1/models", nil, "Host", h), 403, "host_not_allowed")
		}
	})
	g.finish(t)
}

// TestOriginAndHostListed: what server.cors.allowed_origins and
// server.allowed_hosts list is let through, with the CORS answer a browser
// needs; anything else is still refused.
func TestOriginAndHostListed(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, gatewayConfig(up.URL, `  allowed_hosts: ["gw.internal"]
  cors: {allowed_origins: ["https://app.example"]}`, false))
	chat := modelBodies("oa-ok")[0]
	a := g.do("POST", chat.path, []byte(chat.body), "Origin", "https://app.example")
	if a.status != 200 {
		t.Errorf("listed origin: %d %s", a.status, a.body)
	}
	if got := a.header.Get("Access-Control-Allow-Origin"); got != "https://app.example" {
		t.Errorf("listed origin: Access-Control-Allow-Origin %q", got)
	}
	wantError(t, chat.path, g.do("POST", chat.path, []byte(chat.body), "Origin", "https://evil.example"), 403, "origin_not_allowed")
	if a := g.do("POST", chat.path, []byte(chat.body), "Host", "gw.internal"); a.status != 200 {
		t.Errorf("listed host: %d %s", a.status, a.body)
	}
	wantError(t, chat.path, g.do("POST", chat.path, []byte(chat.body), "Host", "evil.example"), 403, "host_not_allowed")
	g.finish(t)
}

// TestHostWithKeys: once keys exist, the key is what admits a request: a
// gateway reached under any name answers a valid key.
func TestHostWithKeys(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, gatewayConfig(up.URL, "", true))
	chat := modelBodies("oa-ok")[0]
	if a := g.do("POST", chat.path, []byte(chat.body), append(auth(canaryVirtualKey), "Host", "gw.example.com")...); a.status != 200 {
		t.Errorf("a valid key under another host name: %d %s", a.status, a.body)
	}
	g.finish(t)
}

// TestFallbacksRespectKey: a fallback, configured or named by the client
// in x-llmgw-fallbacks, is a model like any other: when the key may not use
// it, the request never reaches it, whether it is refused or answered with
// the failure of the model the key may use.
func TestFallbacksRespectKey(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, gatewayConfig(up.URL, "", true))
	var cases []struct{ name, path, body, header string }
	for _, model := range []string{"oa-429", "oa-fallback"} {
		for _, c := range modelBodies(model) {
			if c.path == "/v1/messages/count_tokens" {
				continue // no routing, no fallbacks
			}
			header := ""
			if model == "oa-429" {
				header = "oa-alt"
			}
			cases = append(cases, struct{ name, path, body, header string }{model + c.path, c.path, c.body, header})
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(up.requests())
			headers := auth(canaryFailingKey)
			if c.header != "" {
				headers = append(headers, "X-Llmgw-Fallbacks", c.header)
			}
			a := g.do("POST", c.path, []byte(c.body), headers...)
			if a.status == 200 || a.header.Get("X-Llmgw-Provider") == "up-openai-alt" {
				t.Errorf("served by %q through a fallback the key may not use: %d %.300s", a.header.Get("X-Llmgw-Provider"), a.status, a.body)
			}
			for _, r := range up.requests()[before:] {
				if strings.Contains(string(r.Body), `"alt"`) {
					t.Errorf("the upstream was asked for the fallback the key may not use: %s", r.Body)
				}
			}
			checkRetryAfter(t, a)
			errorShape(t, c.path, a)
		})
	}
	g.finish(t)
}
