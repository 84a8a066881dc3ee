package server

import (
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/auth"
	"github.com/llmgw/llmgw/internal/auth/authtest"
	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// newJWTGateway serves cfgYAML, ${ISSUER} and ${ISSUER2} replaced by the
// issuers' URLs, with a process set of key sets of its own.
func newJWTGateway(t *testing.T, cfgYAML string, issuers ...*authtest.Issuer) *testGateway {
	t.Helper()
	up := providertest.NewOpenAI(t)
	env := map[string]string{"UPSTREAM": up.URL}
	for i, is := range issuers {
		env[[]string{"ISSUER", "ISSUER2"}[i]] = is.URL
	}
	cfg, err := config.Parse([]byte(cfgYAML), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	v := auth.NewVerifiers(auth.VerifierOptions{FetchTimeout: 2 * time.Second})
	t.Cleanup(v.Close)
	snap, err := gateway.Compile(cfg, gateway.Options{JWT: v})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	logs := &syncBuffer{}
	srv := New(snap, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &testGateway{t: t, srv: srv, http: ts, up: up, logs: logs}
}

const jwtConfig = baseConfig + `
keys:
  - name: static
    key: sk-static-key
auth:
  jwt:
    issuers:
      - issuer: "${ISSUER}"
        audiences: [llmgw, other-aud]
        tenant_claim: org_id
        models_claim: llm.models
      - issuer: "${ISSUER2}"
        jwks_url: "${ISSUER2}/jwks"
        audiences: [llmgw]
        algorithms: [RS256]
`

// Every bad token is a 401 invalid_api_key in the route's shape, never a
// 500, and neither the answer nor the log repeats any of the token.
func TestJWTBadTokens(t *testing.T) {
	is, is2 := authtest.New(t), authtest.New(t)
	g := newJWTGateway(t, jwtConfig, is, is2)
	claims := func(edit func(jwt.MapClaims)) jwt.MapClaims {
		c := is.Claims("llmgw", "alice")
		c["llm"] = map[string]any{"models": []any{"mock"}}
		if edit != nil {
			edit(c)
		}
		return c
	}
	now := time.Now()
	other := authtest.New(t) // not configured: an unknown issuer, and foreign keys
	is.AddRSA("unpublished")
	forged := other.Sign("rsa-1", claims(nil)) // signed by another key...
	forgedHdr, _, _ := strings.Cut(is.Sign("rsa-1", claims(nil)), ".")
	_, rest, _ := strings.Cut(forged, ".")
	forged = forgedHdr + "." + rest // ...under the configured issuer's kid
	twoToken := is.Sign("rsa-1", claims(nil))
	bad := []struct{ name, token string }{
		{"malformed", "aaaa.bbbb.cccc"},
		{"not base64 json", "e30.e30.e30"},
		{"unknown issuer", other.Sign("rsa-1", other.Claims("llmgw", "alice"))},
		{"wrong audience", is.Sign("rsa-1", claims(func(c jwt.MapClaims) { c["aud"] = "someone-else" }))},
		{"no audience", is.Sign("rsa-1", claims(func(c jwt.MapClaims) { delete(c, "aud") }))},
		{"expired", is.Sign("rsa-1", claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-2 * time.Minute).Unix() }))},
		{"no exp", is.Sign("rsa-1", claims(func(c jwt.MapClaims) { delete(c, "exp") }))},
		{"not yet valid", is.Sign("rsa-1", claims(func(c jwt.MapClaims) { c["nbf"] = now.Add(2 * time.Minute).Unix() }))},
		{"issued in the future", is.Sign("rsa-1", claims(func(c jwt.MapClaims) { c["iat"] = now.Add(2 * time.Minute).Unix() }))},
		{"unknown kid", is.Sign("unpublished", claims(nil))},
		{"bad signature", forged},
		{"alg none", is.SignNone("rsa-1", claims(nil))},
		{"HS256 with the public key", is.SignHS256WithPublicKey("rsa-1", claims(nil))},
		{"ES256 where only RS256 is allowed", is2.Sign("ec-1", is2.Claims("llmgw", "bob"))},
		{"truncated", twoToken[:len(twoToken)-5]},
	}
	for _, path := range []string{"/v1/chat/completions", "/v1/messages"} {
		body := fmt.Sprintf(userHello, "mock", "")
		if path == "/v1/messages" {
			body = `{"model":"mock","max_tokens":5,"messages":[{"role":"user","content":"x"}]}`
		}
		for _, tc := range bad {
			t.Run(path+"/"+tc.name, func(t *testing.T) {
				resp, got := g.do("POST", path, body, "Authorization", "Bearer "+tc.token)
				if resp.StatusCode != 401 {
					t.Fatalf("status %d: %s", resp.StatusCode, got)
				}
				if path == "/v1/messages" {
					if gjson.Get(got, "type").String() != "error" || gjson.Get(got, "error.type").String() != "authentication_error" {
						t.Errorf("body %s", got)
					}
				} else if gjson.Get(got, "error.code").String() != "invalid_api_key" {
					t.Errorf("body %s", got)
				}
				for seg := range strings.SplitSeq(tc.token, ".") {
					if len(seg) >= 8 && (strings.Contains(got, seg) || strings.Contains(g.logs.String(), seg)) {
						t.Fatalf("a part of the token is repeated: %s", got)
					}
				}
			})
		}
		// The valid tokens of both issuers, RS256 and ES256, pass.
		for _, tok := range []string{is.Sign("rsa-1", claims(nil)), is.Sign("ec-1", claims(nil)), is2.Sign("rsa-1", is2.Claims("llmgw", "bob")),
			// within the minute of clock skew
			is.Sign("rsa-1", claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-20 * time.Second).Unix() })),
			is.Sign("ec-1", claims(func(c jwt.MapClaims) { c["aud"] = []any{"x", "other-aud"} }))} {
			if resp, got := g.do("POST", path, body, "Authorization", "Bearer "+tok); resp.StatusCode != 200 {
				t.Fatalf("%s valid token: status %d: %s", path, resp.StatusCode, got)
			}
		}
	}
}

// JWT issuers alone turn authentication on; static keys keep working beside
// them; the token's models claim bounds the models (403), and its subject
// and tenant are the caller's in the log.
func TestJWTAccess(t *testing.T) {
	is, is2 := authtest.New(t), authtest.New(t)
	onlyJWT := strings.Replace(jwtConfig, "keys:\n  - name: static\n    key: sk-static-key\n", "", 1)
	g := newJWTGateway(t, onlyJWT, is, is2)
	chat := fmt.Sprintf(userHello, "mock", "")
	if resp, got := g.do("POST", "/v1/chat/completions", chat); resp.StatusCode != 401 {
		t.Fatalf("no credentials with only JWT issuers: status %d: %s", resp.StatusCode, got)
	}
	if resp, got := g.do("GET", "/v1/models", ""); resp.StatusCode != 401 {
		t.Fatalf("models without credentials: status %d: %s", resp.StatusCode, got)
	}

	g = newJWTGateway(t, jwtConfig, is, is2)
	if resp, got := g.do("POST", "/v1/chat/completions", chat, "Authorization", "Bearer sk-static-key"); resp.StatusCode != 200 {
		t.Fatalf("static key beside JWT: status %d: %s", resp.StatusCode, got)
	}
	c := is.Claims("llmgw", "alice")
	c["org_id"] = "acme"
	c["llm"] = map[string]any{"models": []any{"mock"}}
	tok := is.Sign("rsa-1", c)
	if resp, got := g.do("POST", "/v1/chat/completions", chat, "x-api-key", tok); resp.StatusCode != 200 {
		t.Fatalf("JWT as x-api-key: status %d: %s", resp.StatusCode, got)
	}
	resp, got := g.do("POST", "/v1/chat/completions", fmt.Sprintf(userHello, "gpt", ""), "Authorization", "Bearer "+tok)
	if resp.StatusCode != 403 || gjson.Get(got, "error.code").String() != "model_not_allowed" {
		t.Fatalf("model outside the claim: status %d: %s", resp.StatusCode, got)
	}
	resp, got = g.do("POST", "/v1/messages", `{"model":"gpt","max_tokens":5,"messages":[{"role":"user","content":"x"}]}`, "Authorization", "Bearer "+tok)
	if resp.StatusCode != 403 || gjson.Get(got, "error.type").String() != "permission_error" {
		t.Fatalf("messages, model outside the claim: status %d: %s", resp.StatusCode, got)
	}
	delete(c, "llm")
	resp, got = g.do("POST", "/v1/chat/completions", chat, "Authorization", "Bearer "+is.Sign("rsa-1", c))
	if resp.StatusCode != 403 {
		t.Fatalf("no models claim: status %d: %s", resp.StatusCode, got)
	}
	host := strings.TrimPrefix(is.URL, "http://")
	if logs := g.logs.String(); !strings.Contains(logs, `"jwt:`+host+`:alice"`) || !strings.Contains(logs, `"acme"`) {
		t.Errorf("the log does not name the token's subject and tenant:\n%s", logs)
	}
}

// With the issuer down, tokens are refused with a 401 (no 500, no hang) and
// the gateway serves on.
func TestJWTIssuerDownServer(t *testing.T) {
	is, is2 := authtest.New(t), authtest.New(t)
	is.Hang()
	is2.SetDown(true)
	g := newJWTGateway(t, jwtConfig, is, is2)
	chat := fmt.Sprintf(userHello, "mock", "")
	for _, tok := range []string{is.Sign("rsa-1", is.Claims("llmgw", "a")), is2.Sign("rsa-1", is2.Claims("llmgw", "a"))} {
		if resp, got := g.do("POST", "/v1/chat/completions", chat, "Authorization", "Bearer "+tok); resp.StatusCode != 401 {
			t.Fatalf("issuer down: status %d: %s", resp.StatusCode, got)
		}
	}
	if resp, got := g.do("POST", "/v1/chat/completions", chat, "Authorization", "Bearer sk-static-key"); resp.StatusCode != 200 {
		t.Fatalf("static key with the issuers down: status %d: %s", resp.StatusCode, got)
	}
}
