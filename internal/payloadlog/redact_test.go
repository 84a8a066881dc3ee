package payloadlog

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/llmgw/llmgw/internal/config"
)

// Each shape of secret is redacted wherever it is, and the text around it
// is kept.
func TestRedactPatterns(t *testing.T) {
	r := NewRedactor([]string{"configured-provider-secret-1", "short", `p/a"ss<wo>rd&9`})
	for _, tc := range []struct {
		name, in, secret, want string
	}{
		{"openai key", "use sk-proj-abcdefghijklmnop1234567890 now", "sk-proj-abcdefghijklmnop1234567890", "use [redacted] now"},
		{"openai legacy key", `{"k":"sk-abcdefghijklmnopqrstuvwxyz012345"}`, "sk-abcdefghijklmnopqrstuvwxyz012345", `{"k":"[redacted]"}`},
		{"anthropic key", "key sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv_wx-yz0123 end", "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv_wx-yz0123", "key [redacted] end"},
		{"gateway key", "sk-llmgw-Q2FsbCBtZSBJc2htYWVsLiBTb21lIHllYXJzIGFnbw", "sk-llmgw-Q2FsbCBtZSBJc2htYWVsLiBTb21lIHllYXJzIGFnbw", "[redacted]"},
		{"aws access key", "id=AKIAIOSFODNN7EXAMPLE;", "AKIAIOSFODNN7EXAMPLE", "id=[redacted];"},
		{"aws temporary key", "ASIAY34FZKBOKMUTVV7A", "ASIAY34FZKBOKMUTVV7A", "[redacted]"},
		{"google key", "AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe x", "AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe", "[redacted] x"},
		{"github token", "ghp_1234567890abcdefghijklmnopqrstuvwxyz", "ghp_1234567890abcdefghijklmnopqrstuvwxyz", "[redacted]"},
		{"slack token", "xoxb-1234567890-abcdefghij", "xoxb-1234567890-abcdefghij", "[redacted]"},
		{"stripe key", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "[redacted]"},
		{"bearer token", "Authorization: Bearer abc.DEF-ghi_jkl~123", "abc.DEF-ghi_jkl~123", "Authorization: Bearer [redacted]"},
		{"bearer lower case", "bearer opaque-token-0987654321", "opaque-token-0987654321", "bearer [redacted]"},
		{"basic credentials", "Authorization: Basic dXNlcjpodW50ZXIyMg==", "dXNlcjpodW50ZXIyMg", "Authorization: Basic [redacted]"},
		{"jwt", "t=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U&x",
			"dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "t=[redacted]&x"},
		{"unsigned jwt", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.", "eyJzdWIiOiJhbGljZSJ9", "[redacted]"},
		{"private key", "k: -----BEGIN RSA PRIVATE KEY-----\\nMIIEowIBAAKCAQEAsecretbits\\n-----END RSA PRIVATE KEY----- ok", "MIIEowIBAAKCAQEAsecretbits", "k: [redacted] ok"},
		{"private key cut off", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA", "b3BlbnNzaC1rZXktdjEAAAAA", "[redacted]"},
		{"url password", "postgres://app:s3cr3tpass@db.internal:5432/x", "s3cr3tpass", "postgres://app:[redacted]@db.internal:5432/x"},
		{"url password json-escaped", `"redis:\/\/user:hunter2hunter@cache\/0"`, "hunter2hunter", `"redis:\/\/user:[redacted]@cache\/0"`},
		{"url password without user", "redis://:topsecretpw@cache:6379", "topsecretpw", "redis://:[redacted]@cache:6379"},
		{"password field", `{"password": "correct-horse"}`, "correct-horse", `{"password": "[redacted]"}`},
		{"password field escaped", `{\"api_key\":\"zzzz-9999\"}`, "zzzz-9999", `{\"api_key\":\"[redacted]\"}`},
		{"password assignment", "PASSWORD=hunter22 next", "hunter22", "PASSWORD=[redacted] next"},
		{"configured secret", "x configured-provider-secret-1 y", "configured-provider-secret-1", "x [redacted] y"},
		{"configured secret json-escaped", `"p\/a\"ss\u003cwo\u003erd\u00269"`, `ss\u003cwo`, `"[redacted]"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := r.Redact(tc.in)
			if strings.Contains(got, tc.secret) {
				t.Errorf("secret left in %q", got)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	// Text without secrets, and a configured secret too short to look
	// for, are left as they are.
	for _, s := range []string{
		"The quick brown fox; a short value; sk-short; max_tokens: 100; the password is in the drawer",
		`{"model":"gpt-4o","messages":[{"role":"user","content":"https://example.com/a:b@c"}],"stream":true}`,
	} {
		if got := r.Redact(s); got != s {
			t.Errorf("changed %q to %q", s, got)
		}
	}
}

func testPolicy(t *testing.T, yaml string, env map[string]string) *Policy {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	return New(cfg)
}

func TestPolicy(t *testing.T) {
	if p := testPolicy(t, "", nil); p != nil || p.Logs("acme") {
		t.Fatal("a policy without tenants")
	}
	p := testPolicy(t, "logging: {payloads: {tenants: [acme, beta], max_bytes: 64}}\n", nil)
	for tenant, want := range map[string]bool{"acme": true, "beta": true, "gamma": false, "": false, "ACME": false} {
		if p.Logs(tenant) != want {
			t.Errorf("Logs(%q) = %v", tenant, !want)
		}
	}
	if p.MaxBytes() != 64 || p.Window() != 64+Lookahead {
		t.Errorf("bounds %d %d", p.MaxBytes(), p.Window())
	}
	if p := testPolicy(t, "logging: {payloads: {tenants: [acme]}}\n", nil); p.MaxBytes() != config.DefaultPayloadMaxBytes {
		t.Errorf("default bound %d", p.MaxBytes())
	}
}

// Text is bounded, valid UTF-8 whatever the input, cut on a character
// boundary, and redacts a secret that crosses the cut.
func TestPolicyText(t *testing.T) {
	p := testPolicy(t, "logging: {payloads: {tenants: [acme], max_bytes: 32}}\n", nil)
	for _, tc := range []struct {
		name string
		in   []byte
		want string
		cut  bool
	}{
		{"short", []byte("hello"), "hello", false},
		{"exact", []byte(strings.Repeat("a", 32)), strings.Repeat("a", 32), false},
		{"long", []byte(strings.Repeat("b", 10<<20)), strings.Repeat("b", 32), true},
		{"invalid utf-8", []byte("ok \xff\xfe end"), "ok \uFFFD end", false},
		{"cut inside a character", []byte(strings.Repeat("a", 31) + "é"), strings.Repeat("a", 31), true},
		{"secret across the cut", []byte(strings.Repeat("x", 28) + " sk-abcdefghijklmnopqrstuvwxyz"), strings.Repeat("x", 28) + " [re", true},
		{"redacted to fit", []byte(strings.Repeat("x", 20) + " sk-abcdefghijklmnopqrstuvwxyz"), strings.Repeat("x", 20) + " [redacted]", false},
		{"private key past the window", []byte("-----BEGIN PRIVATE KEY-----" + strings.Repeat("A", 2*Lookahead)), "[redacted]", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, cut := p.Text(tc.in)
			if got != tc.want || cut != tc.cut {
				t.Errorf("got %q %v, want %q %v", got, cut, tc.want, tc.cut)
			}
			if len(got) > p.MaxBytes() || !utf8.ValidString(got) {
				t.Errorf("%d bytes, valid %v", len(got), utf8.ValidString(got))
			}
		})
	}
}

// Every secret of the configuration is found, wherever it is.
func TestSecrets(t *testing.T) {
	yaml := `
server: {admin_token: "admin-token-value", metrics_token: "metrics-token-value"}
providers:
  - {name: o, type: openai, api_key: "openai-key-value", headers: {X-Org: "header-secret-value"}}
keys:
  - {name: k, key: "static-key-value"}
redis: {url: "redis://:redis-password@127.0.0.1:6379/0"}
`
	cfg, err := config.Parse([]byte(yaml), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(Secrets(cfg), " ")
	for _, want := range []string{"admin-token-value", "metrics-token-value", "openai-key-value", "header-secret-value", "static-key-value", "redis-password"} {
		if !strings.Contains(got, want) {
			t.Errorf("%s not among %q", want, got)
		}
	}
	if strings.Contains(got, "openai ") || strings.Contains(got, "127.0.0.1:6379 ") {
		t.Errorf("non-secrets among %q", got)
	}
}

// BenchmarkPolicyText is what logging a body of the default bound costs: a
// chat request of about 12 KiB (the bound and the lookahead), without a
// secret and with a key in it.
func BenchmarkPolicyText(b *testing.B) {
	cfg, err := config.Parse([]byte("providers: [{name: o, type: openai, api_key: sk-configured-0123456789}]\nlogging: {payloads: {tenants: [acme]}}\n"),
		func(string) (string, bool) { return "", false })
	if err != nil {
		b.Fatal(err)
	}
	p := New(cfg)
	text := strings.Repeat("The gateway forwards the request to the upstream and relays its answer. ", 170)
	for _, bc := range []struct{ name, extra string }{{"clean", ""}, {"key", " sk-proj-abcdefghijklmnop1234567890"}} {
		b.Run(bc.name, func(b *testing.B) {
			body := []byte(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"` + text + bc.extra + `"}]}`)
			b.SetBytes(int64(p.Window()))
			b.ReportAllocs()
			for b.Loop() {
				p.Text(body)
			}
		})
	}
}
