package server

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/llmgw/llmgw/internal/store"
)

// distinctive is a string no log line has unless a body is logged.
const distinctive = "zebra-quasar-4242"

// prompt is a chat body whose message is text.
func prompt(text string, stream bool) string {
	extra := ""
	if stream {
		extra = `,"stream":true`
	}
	return fmt.Sprintf(`{"model":"gpt","messages":[{"role":"user","content":%q}]%s}`, text, extra)
}

var (
	acmeKey = []string{"Authorization", "Bearer acme-static-key-0001"}
	betaKey = []string{"Authorization", "Bearer beta-static-key-0001"}
)

// Bodies are never logged by default, whatever the request.
func TestPayloadLogOffByDefault(t *testing.T) {
	g := newGateway(t, outcomeConfig, nil)
	for _, stream := range []bool{false, true} {
		resp, out := g.do("POST", "/v1/chat/completions", prompt("say "+distinctive, stream), acmeKey...)
		if resp.StatusCode != 200 || !strings.Contains(out, distinctive) {
			t.Fatalf("status %d: %s", resp.StatusCode, out)
		}
		g.waitLogged(resp.Header.Get("X-Request-Id"))
	}
	resp, _ := g.do("POST", "/v1/chat/completions", `{"model":"gpt","messages":"`+distinctive+`"}`, acmeKey...)
	g.waitLogged(resp.Header.Get("X-Request-Id"))
	if logs := g.logs.String(); strings.Contains(logs, distinctive) || len(g.logLines("payload")) != 0 {
		t.Errorf("a body was logged:\n%s", logs)
	}
}

// Bodies are logged for the tenants listed, and only for them: redacted,
// bounded, the response of a stream as the text it delivered.
func TestPayloadLogTenant(t *testing.T) {
	g := newGateway(t, outcomeConfig+"logging: {payloads: {tenants: [acme]}}\n", nil)

	// Tenant beta did not opt in.
	resp, _ := g.do("POST", "/v1/chat/completions", prompt("beta says "+distinctive, false), betaKey...)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	g.waitLogged(resp.Header.Get("X-Request-Id"))
	if strings.Contains(g.logs.String(), distinctive) {
		t.Fatalf("tenant beta's body was logged:\n%s", g.logs.String())
	}

	// Tenant acme did: unary.
	body := prompt("acme says "+distinctive, false)
	resp, out := g.do("POST", "/v1/chat/completions", body, acmeKey...)
	line := g.logLine("payload", resp)
	if line["request"] != body || line["request_bytes"] != float64(len(body)) || line["request_truncated"] != false {
		t.Errorf("request logged as %v", line)
	}
	if line["response"] != out || line["response_kind"] != "body" || line["response_bytes"] != float64(len(out)) || line["response_truncated"] != false {
		t.Errorf("response logged as %v, sent %s", line, out)
	}
	if line["tenant"] != "acme" || line["key"] != "acme-key" || line["model"] != "gpt" || line["level"] != "INFO" {
		t.Errorf("payload line %v", line)
	}

	// A stream: the text it delivered.
	resp, out = g.do("POST", "/v1/chat/completions", prompt("streamed "+distinctive, true), acmeKey...)
	line = g.logLine("payload", resp)
	if line["response"] != "streamed "+distinctive || line["response_kind"] != "text" || line["response_truncated"] != false {
		t.Errorf("stream logged as %v, sent %s", line, out)
	}

	// A refused request: its body and the error it got.
	resp, out = g.do("POST", "/v1/chat/completions", `{"model":"gpt","messages":"`+distinctive+`"}`, acmeKey...)
	line = g.logLine("payload", resp)
	if resp.StatusCode != 400 || !strings.Contains(line["request"].(string), distinctive) || line["response"] != out {
		t.Errorf("status %d, logged %v", resp.StatusCode, line)
	}
	if n := len(g.logLines("payload")); n != 3 {
		t.Errorf("%d payload lines, want 3", n)
	}
}

// What is logged is redacted of secrets, in the request and in the
// response, and of the configuration's own secrets.
func TestPayloadLogRedacts(t *testing.T) {
	g := newGateway(t, outcomeConfig+"logging: {payloads: {tenants: [acme]}}\n", nil)
	secrets := []string{
		"sk-proj-abcdefghijklmnop1234567890",
		"sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv",
		"AKIAIOSFODNN7EXAMPLE",
		"AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe",
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
		"hunter2hunter2",
		"upstream-configured-secret-0001", // the provider's api key, of no known shape
		"acme-static-key-0001",            // a static key
	}
	text := "keys: " + secrets[0] + " " + secrets[1] + " " + secrets[2] + " " + secrets[3] + " jwt " + secrets[4] +
		" db postgres://app:" + secrets[5] + "@db:5432/x, " + secrets[6] + " and " + secrets[7] + " end"
	for _, stream := range []bool{false, true} {
		resp, out := g.do("POST", "/v1/chat/completions", prompt(text, stream), acmeKey...)
		if resp.StatusCode != 200 || !strings.Contains(out, secrets[0]) {
			t.Fatalf("status %d: %s", resp.StatusCode, out)
		}
		line := g.logLine("payload", resp)
		for _, field := range []string{"request", "response"} {
			got := line[field].(string)
			for _, s := range secrets {
				if strings.Contains(got, s) {
					t.Errorf("stream %v: %s holds %s: %s", stream, field, s, got)
				}
			}
			if !strings.Contains(got, "keys: [redacted] [redacted]") || !strings.Contains(got, "postgres://app:[redacted]@db") || !strings.Contains(got, " end") {
				t.Errorf("stream %v: %s redacted as %s", stream, field, got)
			}
		}
	}
}

// What is logged of a body is bounded, says it was cut and how large the
// body was, and is valid UTF-8 whatever the client sent.
func TestPayloadLogBounded(t *testing.T) {
	g := newGateway(t, outcomeConfig+"logging: {payloads: {tenants: [acme], max_bytes: 64}}\n", nil)
	long := strings.Repeat("lorem ipsum ", 2000)
	for _, stream := range []bool{false, true} {
		body := prompt(long, stream)
		resp, _ := g.do("POST", "/v1/chat/completions", body, acmeKey...)
		line := g.logLine("payload", resp)
		req, res := line["request"].(string), line["response"].(string)
		if len(req) != 64 || req != body[:64] || line["request_bytes"] != float64(len(body)) || line["request_truncated"] != true {
			t.Errorf("stream %v: request %q (%v bytes, cut %v)", stream, req, line["request_bytes"], line["request_truncated"])
		}
		if len(res) != 64 || line["response_truncated"] != true || line["response_bytes"].(float64) < float64(len(long))-1 {
			t.Errorf("stream %v: response %q (%v bytes, cut %v)", stream, res, line["response_bytes"], line["response_truncated"])
		}
	}
	// Invalid UTF-8 in the body: the line holds U+FFFD in its place (one
	// for a run of invalid bytes), and is still one line of JSON.
	resp, _ := g.do("POST", "/v1/chat/completions", "{\"model\":\"gpt\",\"messages\":[{\"role\":\"user\",\"content\":\"a\xff\xfeb\"}]}", acmeKey...)
	line := g.logLine("payload", resp)
	req := line["request"].(string)
	if !utf8.ValidString(req) || !strings.Contains(req, "a\uFFFDb") {
		t.Errorf("status %d, request logged as %q", resp.StatusCode, req)
	}
}

// A tenant of the store opts in by its name, and a key of the store in a
// body is redacted; the store's other tenants are not logged.
func TestPayloadLogStoreTenant(t *testing.T) {
	g := newStoreKeys(t, keysConfig+"logging: {payloads: {tenants: [acme]}}\n")
	secret := g.key(store.Key{Name: "svc"})
	other, err := g.st.Store.Tenants().Create(t.Context(), store.Tenant{Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	g.tenant = other
	otherSecret := g.key(store.Key{Name: "other-svc"})

	resp, out := g.do("POST", "/v1/chat/completions", prompt("my key is "+secret+" and "+distinctive, false), bearer(secret)...)
	if resp.StatusCode != 200 || !strings.Contains(out, secret) {
		t.Fatalf("status %d: %s", resp.StatusCode, out)
	}
	line := g.logLine("payload", resp)
	if line["tenant"] != "acme" || line["key"] != "svc" {
		t.Errorf("payload line %v", line)
	}
	for _, field := range []string{"request", "response"} {
		if got := line[field].(string); strings.Contains(got, secret) || !strings.Contains(got, "my key is [redacted] and "+distinctive) {
			t.Errorf("%s logged as %s", field, got)
		}
	}

	resp, _ = g.do("POST", "/v1/chat/completions", prompt("other says zebra-other-77", false), bearer(otherSecret)...)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	g.waitLogged(resp.Header.Get("X-Request-Id"))
	if logs := g.logs.String(); strings.Contains(logs, "zebra-other-77") || strings.Contains(logs, secret) || strings.Contains(logs, otherSecret) {
		t.Errorf("logged:\n%s", logs)
	}
}
