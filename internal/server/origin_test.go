package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/gateway"
)

// doHost is g.do with the Host header set to host.
func (g *testGateway) doHost(host, method, path, body string, headers ...string) (*http.Response, string) {
	g.t.Helper()
	req, err := http.NewRequest(method, g.http.URL+path, strings.NewReader(body))
	if err != nil {
		g.t.Fatal(err)
	}
	req.Host = host
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// With no key configured, a local gateway serves only loopback Host names
// (and those listed), and no web page but the listed origins.
func TestLocalGatewayRefusesForeignHostsAndOrigins(t *testing.T) {
	yaml := strings.Replace(baseConfig, "server:\n", `server:
  allowed_hosts: ["gw.internal"]
  cors: {allowed_origins: ["http://localhost:3000"]}
`, 1)
	g := newGateway(t, yaml, nil)
	chat := fmt.Sprintf(userHello, "mock", "")
	cases := []struct {
		name, host, path, origin string
		status                   int
		code                     string
	}{
		{"localhost", "localhost:8080", "/v1/chat/completions", "", 200, ""},
		{"localhost without port", "localhost", "/v1/chat/completions", "", 200, ""},
		{"a .localhost name", "app.localhost:8080", "/v1/chat/completions", "", 200, ""},
		{"127.0.0.2", "127.0.0.2:8080", "/v1/chat/completions", "", 200, ""},
		{"[::1]", "[::1]:8080", "/v1/chat/completions", "", 200, ""},
		{"[::1] without port", "[::1]", "/v1/chat/completions", "", 200, ""},
		{"listed host", "GW.internal:8080", "/v1/chat/completions", "", 200, ""},
		{"rebinding name", "attacker.example:8080", "/v1/chat/completions", "", 403, "host_not_allowed"},
		{"rebinding name on an open route", "attacker.example", "/metrics", "", 403, "host_not_allowed"},
		{"private address", "192.168.1.10:8080", "/v1/chat/completions", "", 403, "host_not_allowed"},
		{"lookalike", "localhost.attacker.example", "/v1/chat/completions", "", 403, "host_not_allowed"},
		{"cross-site page", "127.0.0.1:8080", "/v1/chat/completions", "https://attacker.example", 403, "origin_not_allowed"},
		{"null origin", "127.0.0.1:8080", "/v1/models", "null", 403, "origin_not_allowed"},
		{"listed origin", "127.0.0.1:8080", "/v1/chat/completions", "http://localhost:3000", 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var headers []string
			if tc.origin != "" {
				headers = []string{"Origin", tc.origin}
			}
			method, body := "POST", chat
			if tc.path != "/v1/chat/completions" {
				method, body = "GET", ""
			}
			resp, got := g.doHost(tc.host, method, tc.path, body, headers...)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, got)
			}
			if tc.code != "" {
				checkErrorShape(t, got)
				if c := gjson.Get(got, "error.code").String(); c != tc.code {
					t.Errorf("code %q, want %q", c, tc.code)
				}
			}
			acao := resp.Header.Get("Access-Control-Allow-Origin")
			if tc.origin == "http://localhost:3000" {
				if acao != tc.origin || !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "X-Request-Id") {
					t.Errorf("listed origin: Access-Control-Allow-Origin %q, expose %q", acao, resp.Header.Get("Access-Control-Expose-Headers"))
				}
			} else if acao != "" {
				t.Errorf("Access-Control-Allow-Origin %q for origin %q", acao, tc.origin)
			}
			if !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Origin") {
				t.Errorf("no Vary: Origin")
			}
		})
	}
	// Anthropic's route answers in Anthropic's shape.
	resp, body := g.do("POST", "/v1/messages", `{"model":"mock","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, "Origin", "https://attacker.example")
	if resp.StatusCode != 403 || gjson.Get(body, "error.type").String() != "permission_error" || gjson.Get(body, "type").String() != "error" {
		t.Errorf("/v1/messages: %d %s", resp.StatusCode, body)
	}
}

// Once keys exist, a request needs one, so any Host and Origin are served;
// CORS headers still go to the listed origins only.
func TestKeysLiftHostAndOriginChecks(t *testing.T) {
	yaml := strings.Replace(keysConfig, "server:\n", "server:\n  cors: {allowed_origins: [\"https://app.example.com\"]}\n", 1)
	g := newGateway(t, yaml, nil)
	chat := fmt.Sprintf(userHello, "mock", "")
	resp, body := g.doHost("gateway.example.com", "POST", "/v1/chat/completions", chat, "Authorization", "Bearer sk-ci-key", "Origin", "https://other.example")
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("foreign host and origin with a key: %d %q %s", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"), body)
	}
	resp, body = g.do("POST", "/v1/chat/completions", chat, "Authorization", "Bearer sk-ci-key", "Origin", "https://app.example.com")
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("listed origin with a key: %d %q %s", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"), body)
	}
	// An error answer carries the CORS headers too, so the page can read it.
	resp, _ = g.do("POST", "/v1/chat/completions", chat, "Origin", "https://app.example.com")
	if resp.StatusCode != 401 || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("401 to a listed origin: %d %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
}

// Preflights are answered for listed origins only, with the methods and
// the requested headers the gateway reads.
func TestCORSPreflight(t *testing.T) {
	for _, keys := range []bool{false, true} {
		yaml := baseConfig
		if keys {
			yaml = keysConfig
		}
		yaml = strings.Replace(yaml, "server:\n", "server:\n  cors: {allowed_origins: [\"https://app.example.com\"]}\n", 1)
		g := newGateway(t, yaml, nil)
		resp, body := g.do("OPTIONS", "/v1/chat/completions", "",
			"Origin", "https://app.example.com",
			"Access-Control-Request-Method", "POST",
			"Access-Control-Request-Headers", "authorization, content-type, x-stainless-os, x-llmgw-max-cost-usd, anthropic-version, idempotency-key, x-evil")
		if resp.StatusCode != 204 {
			t.Fatalf("keys %v: preflight %d %s", keys, resp.StatusCode, body)
		}
		h := resp.Header
		if h.Get("Access-Control-Allow-Origin") != "https://app.example.com" || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") {
			t.Errorf("keys %v: preflight headers %v", keys, h)
		}
		if got := h.Get("Access-Control-Allow-Headers"); got != "authorization, content-type, x-stainless-os, x-llmgw-max-cost-usd, anthropic-version, idempotency-key" {
			t.Errorf("keys %v: Access-Control-Allow-Headers %q", keys, got)
		}
		if v := strings.Join(h.Values("Vary"), ","); !strings.Contains(v, "Origin") {
			t.Errorf("keys %v: Vary %q", keys, v)
		}
		resp, body = g.do("OPTIONS", "/v1/chat/completions", "",
			"Origin", "https://attacker.example", "Access-Control-Request-Method", "POST")
		if resp.StatusCode != 403 || gjson.Get(body, "error.code").String() != "origin_not_allowed" || h.Get("Access-Control-Allow-Origin") == "" {
			t.Errorf("keys %v: preflight from another origin: %d %s", keys, resp.StatusCode, body)
		}
		if resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("keys %v: preflight from another origin allowed", keys)
		}
	}
}

// Listening on every interface (behind a load balancer), the gateway serves
// any Host with no setting; listening on loopback, through the real server,
// it refuses a foreign one.
func TestHostCheckFollowsTheListener(t *testing.T) {
	for _, tc := range []struct {
		addr   string
		status int
	}{{"127.0.0.1:0", 403}, {"0.0.0.0:0", 200}} {
		cfg, err := config.Parse([]byte(baseConfig), func(k string) (string, bool) { return "http://upstream.invalid/v1", k == "UPSTREAM" })
		if err != nil {
			t.Fatal(err)
		}
		snap, err := gateway.Compile(cfg, gateway.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", tc.addr)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- New(snap, slog.New(slog.DiscardHandler)).Run(ctx, ln) }()
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		req, _ := http.NewRequest("GET", "http://127.0.0.1:"+port+"/v1/models", nil)
		req.Host = "gateway.example.com"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("listening on %s: Host gateway.example.com got %d, want %d", tc.addr, resp.StatusCode, tc.status)
		}
		cancel()
		<-done
		http.DefaultClient.CloseIdleConnections()
	}
}
