package config

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// envOf returns an env lookup over m.
func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// problemLines splits a joined error into its lines.
func problemLines(err error) []string {
	if err == nil {
		return nil
	}
	return strings.Split(err.Error(), "\n")
}

// minimal is a small valid configuration that cases extend.
const minimal = `
providers:
  - name: m
    type: mock
models:
  - name: a
    targets: [{provider: m, model: x}]
`

func TestParseStrictUnknownFields(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"top level", "servr: {}\n", []string{"servr: unknown field"}},
		{"server", "server:\n  listn: ':1'\n", []string{"server.listn: unknown field"}},
		{"provider", `
providers:
  - name: m
    type: mock
    api_kye: x
models:
  - name: a
    targets: [{provider: m, model: x}]
`, []string{"providers[0].api_kye: unknown field"}},
		{"mock block", `
providers:
  - name: m
    type: mock
    mock: {latencyy: "1s"}
models:
  - name: a
    targets: [{provider: m, model: x}]
`, []string{"providers[0].mock.latencyy: unknown field"}},
		{"target", `
providers: [{name: m, type: mock}]
models:
  - name: a
    targets: [{provider: m, model: x, wieght: 2}]
`, []string{"models[0].targets[0].wieght: unknown field"}},
		{"key limits", minimal + `
keys:
  - name: k
    key: secret
    limits: {rpm: 1, rph: 2}
`, []string{"keys[0].limits.rph: unknown field"}},
		{"several at once", "server: {listn: x, log: y}\nfoo: 1\n", []string{
			"server.listn: unknown field", "server.log: unknown field", "foo: unknown field",
		}},
		{"duplicate key", "server:\n  listen: ':1'\n  listen: ':2'\n", []string{"server.listen: duplicate key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tt.yaml), nil)
			require.Error(t, err)
			assert.Nil(t, cfg)
			if diff := cmp.Diff(tt.want, problemLines(err)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseTypeErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{"duration as number", "server: {shutdown_timeout: 30}\n", `server.shutdown_timeout: durations must be strings like "30s"`},
		{"bad duration", "server: {shutdown_timeout: soon}\n", `server.shutdown_timeout: invalid duration "soon": want a string like "30s"`},
		{"int from text", "server: {max_body_bytes: lots}\n", `server.max_body_bytes: expected an integer, got a string "lots"`},
		{"bool from text", "server: {access_log: maybe}\n", `server.access_log: expected true or false, got a string "maybe"`},
		{"list for struct", "server: [1]\n", `server: expected a mapping, got a list`},
		{"mapping for string", "server: {listen: {a: b}}\n", `server.listen: expected a string, got a mapping`},
		{"scalar for list", "providers: nope\n", `providers: expected a list, got a string`},
		{"not a mapping", "- a\n", `the configuration must be a mapping, got a list`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), nil)
			require.Error(t, err)
			assert.Contains(t, problemLines(err), tt.want)
		})
	}
}

func TestParseEmptyGivesDefaults(t *testing.T) {
	for _, doc := range []string{"", "  \n\t\n", "# only a comment\n", "~\n", "---\n"} {
		cfg, err := Parse([]byte(doc), nil)
		require.NoError(t, err, "document %q", doc)
		want := &Config{}
		want.ApplyDefaults()
		if diff := cmp.Diff(want, cfg); diff != "" {
			t.Errorf("document %q (-want +got):\n%s", doc, diff)
		}
	}
}

func TestParseDefaultsApplied(t *testing.T) {
	cfg, err := Parse([]byte(`
server: {max_body_bytes: 1000}
providers:
  - {name: o, type: openai, api_key: k}
  - {name: c, type: openai_compatible, base_url: "http://h:1/v1", connect_timeout: "1s"}
  - {name: l, type: vllm}
models:
  - name: a
    targets: [{provider: o, model: x}, {provider: c, model: y, weight: 0}]
`), nil)
	require.NoError(t, err)
	s := cfg.Server
	assert.Equal(t, "127.0.0.1:8080", s.Listen)
	assert.Equal(t, int64(1000), s.MaxBodyBytes, "explicit value kept")
	assert.Equal(t, 30*time.Second, s.ShutdownTimeout.Std())
	assert.Equal(t, 10*time.Second, s.ReadHeaderTimeout.Std())
	assert.Equal(t, 60*time.Second, s.ReadTimeout.Std())
	assert.Equal(t, 120*time.Second, s.IdleTimeout.Std())
	assert.Equal(t, 60*time.Second, s.StreamIdleTimeout.Std())
	assert.Equal(t, 10*time.Minute, s.RequestTimeout.Std())
	assert.Equal(t, "info", s.LogLevel)
	assert.True(t, cfg.AccessLogEnabled())

	o, c, l := cfg.Providers[0], cfg.Providers[1], cfg.Providers[2]
	assert.Equal(t, "https://api.openai.com/v1", o.BaseURL)
	assert.Equal(t, "http://h:1/v1", c.BaseURL)
	assert.Equal(t, "http://127.0.0.1:8000/v1", l.BaseURL)
	assert.Equal(t, 10*time.Second, o.ConnectTimeout.Std())
	assert.Equal(t, time.Second, c.ConnectTimeout.Std(), "explicit value kept")
	assert.Equal(t, 2*time.Minute, o.ResponseHeaderTimeout.Std())
	assert.Equal(t, 256, o.MaxIdleConnsPerHost)

	targets := cfg.Models[0].Targets
	assert.Equal(t, 1, targets[0].Weight, "weight defaults to 1")
	assert.Equal(t, 0, targets[1].Weight, "explicit weight 0 kept")
}

func TestParseAccessLogOff(t *testing.T) {
	cfg, err := Parse([]byte("server: {access_log: false}\n"), nil)
	require.NoError(t, err)
	assert.False(t, cfg.AccessLogEnabled())
}

func TestParseEnvExpansion(t *testing.T) {
	env := envOf(map[string]string{
		"TOKEN":  "tok-123",
		"EMPTY":  "",
		"PORT":   "9090",
		"RPM":    "600",
		"INJECT": "x\nlisten: \":1\"\nfoo: bar",
		"COLON":  "a: b",
		"NULLY":  "null",
	})
	tests := []struct {
		name  string
		value string
		want  string
	}{
		{"set", `"${TOKEN}"`, "tok-123"},
		{"set, plain scalar", `${TOKEN}`, "tok-123"},
		{"unset", `"${NOPE}"`, ""},
		{"unset with default", `"${NOPE:-fallback}"`, "fallback"},
		{"empty with default", `"${EMPTY:-fallback}"`, "fallback"},
		{"set ignores default", `"${TOKEN:-fallback}"`, "tok-123"},
		{"surrounded", `"Bearer ${TOKEN}!"`, "Bearer tok-123!"},
		{"dollar dollar", `"pa$$word"`, "pa$word"},
		{"escaped reference", `"$${TOKEN}"`, "${TOKEN}"},
		{"lone dollar kept", `"cost $5 $"`, "cost $5 $"},
		{"number-looking value stays text", `${PORT}`, "9090"},
		{"injection stays a string", `"${INJECT}"`, "x\nlisten: \":1\"\nfoo: bar"},
		{"injection in a plain scalar", `${INJECT}`, "x\nlisten: \":1\"\nfoo: bar"},
		{"colon value", `${COLON}`, "a: b"},
		{"null-looking value", `${NULLY}`, "null"},
		{"two references", `"${TOKEN}-${PORT}"`, "tok-123-9090"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte("server:\n  admin_token: "+tt.value+"\n"), env)
			require.NoError(t, err)
			assert.Equal(t, tt.want, cfg.Server.AdminToken.Value())
			assert.Equal(t, "127.0.0.1:8080", cfg.Server.Listen, "listen must not be injected")
		})
	}
}

func TestParseEnvTypedValues(t *testing.T) {
	env := envOf(map[string]string{"RPM": "600", "OFF": "false", "WAIT": "5s", "RATE": "0.5"})
	cfg, err := Parse([]byte(`
providers:
  - name: m
    type: mock
    mock: {error_rate: "${RATE}", latency: "${WAIT}"}
models:
  - name: a
    targets: [{provider: m, model: x}]
server: {access_log: "${OFF}", shutdown_timeout: "${WAIT}"}
keys:
  - name: k
    key: v
    limits:
      rpm: "${RPM}"
      tpm: ${TPM:-7}
`), env)
	require.NoError(t, err)
	assert.Equal(t, int64(600), cfg.Keys[0].Limits.RPM, "quoted reference to a number")
	assert.Equal(t, int64(7), cfg.Keys[0].Limits.TPM, "default used as a number")
	assert.False(t, cfg.AccessLogEnabled())
	assert.Equal(t, 5*time.Second, cfg.Server.ShutdownTimeout.Std())
	assert.Equal(t, 0.5, cfg.Providers[0].Mock.ErrorRate)
	assert.Equal(t, 5*time.Second, cfg.Providers[0].Mock.Latency.Std())
}

func TestParseEnvErrors(t *testing.T) {
	tests := []struct {
		name, value, want string
	}{
		{"unterminated", `"${TOKEN"`, "server.admin_token: unterminated ${ reference (write $$ for a literal $)"},
		{"bad name", `"${1X}"`, "server.admin_token: invalid ${...} reference: want ${NAME} or ${NAME:-default}, NAME made of letters, digits and _"},
		{"shell form without colon", `"${X-y}"`, "server.admin_token: invalid ${...} reference: want ${NAME} or ${NAME:-default}, NAME made of letters, digits and _"},
		{"empty", `"${}"`, "server.admin_token: invalid ${...} reference: want ${NAME} or ${NAME:-default}, NAME made of letters, digits and _"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte("server:\n  admin_token: "+tt.value+"\n"), nil)
			require.Error(t, err)
			assert.Equal(t, []string{tt.want}, problemLines(err))
		})
	}
}

func TestParseUnsetRequiredReportedByValidate(t *testing.T) {
	_, err := Parse([]byte(`
providers: [{name: o, type: openai, api_key: "${OPENAI_API_KEY}"}]
`), envOf(nil))
	require.Error(t, err)
	assert.Equal(t, []string{"providers[0].api_key: required for type openai"}, problemLines(err))
}

func TestParseDecodeAndValidationProblemsTogether(t *testing.T) {
	_, err := Parse([]byte(`
server: {listn: x, log_level: loud}
providers: [{name: o, type: openai, api_kye: k}]
`), nil)
	want := []string{
		"server.listn: unknown field",
		"providers[0].api_kye: unknown field",
		`server.log_level: unknown level "loud" (want debug, info, warn or error)`,
		"providers[0].api_key: required for type openai",
	}
	if diff := cmp.Diff(want, problemLines(err)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestParseAnchorsAndMergeKeys(t *testing.T) {
	cfg, err := Parse([]byte(`
providers:
  - &base {name: a, type: openai, api_key: k, connect_timeout: "3s"}
  - <<: *base
    name: b
models:
  - name: m
    targets: &t [{provider: a, model: x}]
  - name: n
    targets: *t
`), nil)
	require.NoError(t, err)
	b := cfg.Providers[1]
	assert.Equal(t, "b", b.Name, "explicit key overrides merged one")
	assert.Equal(t, 3*time.Second, b.ConnectTimeout.Std())
	assert.Equal(t, Secret("k"), b.APIKey)
	assert.Equal(t, "x", cfg.Models[1].Targets[0].Model)
}

func TestParseMultipleDocuments(t *testing.T) {
	_, err := Parse([]byte("server: {}\n---\nserver: {}\n"), nil)
	require.EqualError(t, err, "config: more than one YAML document")
}

func TestParseSyntaxError(t *testing.T) {
	_, err := Parse([]byte("server: [\n"), nil)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "config: yaml:"), err.Error())
}

func TestParseAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 {x: 1}\n")
	for i := 1; i < 12; i++ {
		b.WriteString("a" + strconv.Itoa(i) + ": &a" + strconv.Itoa(i) + " {<<: [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + strconv.Itoa(i-1))
		}
		b.WriteString("]}\n")
	}
	b.WriteString("providers: [{name: p, type: mock, headers: *a11}]\n")
	_, err := Parse([]byte(b.String()), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "document too complex")
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "llmgw.yaml")
	require.NoError(t, os.WriteFile(path, []byte("server: {listen: \"${LLMGW_TEST_LISTEN:-:7000}\"}\n"), 0o600))
	t.Setenv("LLMGW_TEST_LISTEN", ":7001")
	cfg, err := Load(path)
	require.NoError(t, err)
	assert.Equal(t, ":7001", cfg.Server.Listen, "expanded from the process environment")

	missing := filepath.Join(dir, "missing.yaml")
	_, err = Load(missing)
	require.Error(t, err)
	assert.Contains(t, err.Error(), missing)
}

func TestExampleConfig(t *testing.T) {
	data, err := os.ReadFile("testdata/example.yaml")
	require.NoError(t, err)
	cfg, err := Parse(data, envOf(map[string]string{
		"LLMGW_ADMIN_TOKEN": "admin-secret",
		"OPENAI_API_KEY":    "sk-openai",
		"ANTHROPIC_API_KEY": "sk-ant",
		"LLMGW_CI_KEY":      "ci-secret",
	}))
	require.NoError(t, err)
	assert.Len(t, cfg.Providers, 4)
	assert.Len(t, cfg.Models, 4)
	assert.Equal(t, Secret("org-example"), cfg.Providers[0].Headers["OpenAI-Organization"])
	assert.Equal(t, int64(42), cfg.Providers[3].Mock.Seed)
	assert.Equal(t, &Limits{RPM: 600, TPM: 1000000}, cfg.Keys[0].Limits)
}

func TestContractConfig(t *testing.T) {
	data, err := os.ReadFile("testdata/contract.yaml")
	require.NoError(t, err)
	env := envOf(map[string]string{
		"LLMGW_ADMIN_TOKEN": "admin-secret",
		"OPENAI_API_KEY":    "sk-openai",
		"LLMGW_CI_KEY":      "ci-secret",
	})

	// The contract's example names a fallback, claude-haiku, that it does
	// not define; that is the only problem reported.
	_, err = Parse(data, env)
	assert.Equal(t, []string{`models[0].fallbacks[0]: unknown model "claude-haiku"`}, problemLines(err))

	withFallback := strings.Replace(string(data), "\nkeys:", `  - name: claude-haiku
    targets: [{provider: openai-main, model: gpt-4o-mini}]

keys:`, 1)
	cfg, err := Parse([]byte(withFallback), env)
	require.NoError(t, err)
	assert.Equal(t, "admin-secret", cfg.Server.AdminToken.Value())
	assert.Equal(t, "sk-openai", cfg.Providers[0].APIKey.Value())
	assert.Equal(t, "ci-secret", cfg.Keys[0].Key.Value())
	require.NotNil(t, cfg.Keys[0].Budget)
	assert.Equal(t, int64(50_000_000_000_000), cfg.Keys[0].Budget.Pico(), "budget: { usd: 50 } in picodollars")
	assert.Equal(t, "monthly", cfg.Keys[0].Budget.Period)
	assert.Equal(t, []string{"claude-haiku"}, cfg.Models[0].Fallbacks)

	_, err = Parse(data, envOf(nil))
	assert.Contains(t, problemLines(err), "providers[0].api_key: required for type openai")
	assert.Contains(t, problemLines(err), "keys[0].key: required")
}
