package config

import (
	"encoding/base64"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// validConfig returns a valid configuration with defaults applied, for cases
// to break one rule at a time.
func validConfig() *Config {
	c := &Config{
		Providers: []Provider{
			{Name: "openai", Type: TypeOpenAI, APIKey: "sk-1"},
			{Name: "mock", Type: TypeMock, Mock: &Mock{ErrorRate: 0.5, TokensPerSecond: 10}},
		},
		Models: []Model{
			{Name: "gpt", Targets: []Target{{Provider: "openai", Model: "gpt-4o", Weight: 1}}, Fallbacks: []string{"mock"}},
			{Name: "mock", Targets: []Target{{Provider: "mock", Model: "mock", Weight: 1}}},
			{Name: "openai/*", Targets: []Target{{Provider: "openai", Model: "*", Weight: 1}}},
		},
		Keys: []Key{
			{Name: "ci", Key: "key-1", Models: []string{"gpt", "openai/gpt-4o-mini", "openai/*"}, Limits: &Limits{RPM: 1}},
			{Name: "dev", Key: "key-2"},
		},
	}
	c.ApplyDefaults()
	return c
}

func TestValidConfigIsValid(t *testing.T) {
	require.NoError(t, validConfig().Validate())
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *Config)
		want   []string
	}{
		// server
		{"listen empty", func(c *Config) { c.Server.Listen = "" }, []string{"server.listen: required"}},
		{"listen without port", func(c *Config) { c.Server.Listen = "localhost" },
			[]string{`server.listen: want host:port, such as "127.0.0.1:8080" or ":8080"`}},
		{"listen bad port", func(c *Config) { c.Server.Listen = "localhost:http" }, []string{`server.listen: invalid port "http"`}},
		{"listen port only", func(c *Config) { c.Server.Listen = ":0" }, nil},
		{"max body zero", func(c *Config) { c.Server.MaxBodyBytes = 0 }, []string{"server.max_body_bytes: must be > 0"}},
		{"negative durations", func(c *Config) {
			c.Server.ShutdownTimeout = -1
			c.Server.RequestTimeout = -1
		}, []string{"server.request_timeout: must not be negative", "server.shutdown_timeout: must not be negative"}},
		{"log level", func(c *Config) { c.Server.LogLevel = "trace" },
			[]string{`server.log_level: unknown level "trace" (want debug, info, warn or error)`}},
		{"unsupported params", func(c *Config) { c.Server.UnsupportedParams = "ignore" },
			[]string{`server.unsupported_params: unknown value "ignore" (want drop or refuse)`}},
		{"unsupported params refuse", func(c *Config) { c.Server.UnsupportedParams = "refuse" }, nil},
		{"read timeout negative", func(c *Config) { c.Server.ReadTimeout = -1 }, []string{"server.read_timeout: must not be negative"}},
		{"allowed hosts", func(c *Config) {
			c.Server.AllowedHosts = []string{"gw.internal", "*", "10.0.0.1", "::1", "http://x", "", "h:80"}
		}, []string{
			`server.allowed_hosts[4]: want a host name without scheme, port or path, such as "gateway.internal"; got "http://x"`,
			"server.allowed_hosts[5]: must not be empty",
			`server.allowed_hosts[6]: want a host name without scheme, port or path, such as "gateway.internal"; got "h:80"`,
		}},
		{"cors origins", func(c *Config) {
			c.Server.CORS.AllowedOrigins = []string{"https://app.example.com", "http://localhost:3000", "*", "app.example.com", "https://a.example/path"}
		}, []string{
			`server.cors.allowed_origins[3]: want an origin such as "https://app.example.com" (scheme, host and port only); got "app.example.com"`,
			`server.cors.allowed_origins[4]: want an origin such as "https://app.example.com" (scheme, host and port only); got "https://a.example/path"`,
		}},
		{"metrics listen", func(c *Config) { c.Server.MetricsListen = "127.0.0.1:9090" }, nil},
		{"storage notify with sqlite", func(c *Config) { off := false; c.Storage.Notify = &off },
			[]string{"storage.notify: applies to driver postgres only"}},
		{"storage notify with postgres", func(c *Config) {
			off := false
			c.Storage = Storage{Driver: DriverPostgres, DSN: "postgres://db/llmgw", Notify: &off}
		}, nil},
		{"metrics listen without port", func(c *Config) { c.Server.MetricsListen = "localhost" },
			[]string{`server.metrics_listen: want host:port, such as "127.0.0.1:9090" or ":9090"`}},
		{"metrics listen same as listen", func(c *Config) { c.Server.MetricsListen = c.Server.Listen },
			[]string{"server.metrics_listen: must differ from server.listen"}},

		// providers
		{"provider name required", func(c *Config) { c.Providers[1].Name = "" }, []string{
			"providers[1].name: required",
			`models[1].targets[0].provider: unknown provider "mock"`,
		}},
		{"provider name with space", func(c *Config) {
			c.Providers[1].Name = "my mock"
			c.Models[1].Targets[0].Provider = "my mock"
		}, []string{"providers[1].name: must not contain spaces or control characters"}},
		{"duplicate provider", func(c *Config) { c.Providers[1].Name = "openai" }, []string{
			`providers[1].name: duplicate provider name "openai" (also at index 0)`,
			`models[1].targets[0].provider: unknown provider "mock"`,
		}},
		{"type required", func(c *Config) { c.Providers[1].Type = "" }, []string{
			"providers[1].type: required (one of openai, azure_openai, anthropic, gemini, vertex, bedrock, mistral, cohere, ollama, vllm, openai_compatible, mock)",
			"providers[1].mock: only allowed for type mock",
		}},
		{"unknown type", func(c *Config) { c.Providers[0].Type = "openia" }, []string{
			`providers[0].type: unknown type "openia" (want one of openai, azure_openai, anthropic, gemini, vertex, bedrock, mistral, cohere, ollama, vllm, openai_compatible, mock)`,
		}},
		{"api key required", func(c *Config) { c.Providers[0].APIKey = "" }, []string{"providers[0].api_key: required for type openai"}},
		{"base url required", func(c *Config) { c.Providers[0].Type = TypeOpenAICompatible; c.Providers[0].BaseURL = "" },
			[]string{"providers[0].base_url: required for type openai_compatible"}},
		{"base url relative", func(c *Config) { c.Providers[0].BaseURL = "/v1" },
			[]string{"providers[0].base_url: must be an absolute http:// or https:// URL"}},
		{"base url scheme", func(c *Config) { c.Providers[0].BaseURL = "ftp://h/v1" },
			[]string{"providers[0].base_url: must be an absolute http:// or https:// URL"}},
		{"base url no host", func(c *Config) { c.Providers[0].BaseURL = "https:///v1" },
			[]string{"providers[0].base_url: must have a host"}},
		{"base url query", func(c *Config) { c.Providers[0].BaseURL = "https://h/v1?x=1" },
			[]string{"providers[0].base_url: must not have a query"}},
		{"base url fragment", func(c *Config) { c.Providers[0].BaseURL = "https://h/v1#x" },
			[]string{"providers[0].base_url: must not have a fragment"}},
		{"base url user info", func(c *Config) { c.Providers[0].BaseURL = "https://u:p@h/v1" },
			[]string{"providers[0].base_url: must not contain user info (put credentials in api_key)"}},
		{"base url unparsable", func(c *Config) { c.Providers[0].BaseURL = "http://h:port/" },
			[]string{"providers[0].base_url: not a valid URL"}},
		{"azure with key", func(c *Config) {
			c.Providers[0] = Provider{Name: "openai", Type: TypeAzureOpenAI, BaseURL: "https://r.openai.azure.com", APIKey: "k", APIVersion: "2025-04-01-preview"}
		}, nil},
		{"azure v1 with entra", func(c *Config) {
			c.Providers[0] = Provider{Name: "openai", Type: TypeAzureOpenAI, BaseURL: "https://r.openai.azure.com", APIVersion: "v1",
				Entra: &Entra{TenantID: "t", ClientID: "c", ClientSecret: "s", AuthorityHost: "https://login.microsoftonline.us/"}}
		}, nil},
		{"azure needs a credential", func(c *Config) {
			c.Providers[0] = Provider{Name: "openai", Type: TypeAzureOpenAI, BaseURL: "https://r.openai.azure.com"}
		}, []string{"providers[0].api_key: required for type azure_openai unless entra is set"}},
		{"azure needs its endpoint", func(c *Config) {
			c.Providers[0] = Provider{Name: "openai", Type: TypeAzureOpenAI, APIKey: "k"}
		}, []string{"providers[0].base_url: required for type azure_openai"}},
		{"azure entra fields", func(c *Config) {
			c.Providers[0] = Provider{Name: "openai", Type: TypeAzureOpenAI, BaseURL: "https://r.openai.azure.com", APIKey: "k",
				APIVersion: "latest", Entra: &Entra{AuthorityHost: "http://login.example"}}
		}, []string{
			`providers[0].api_version: want "v1" or a dated version such as "2024-10-21" or "2025-04-01-preview"`,
			"providers[0].entra: set either api_key or entra, not both",
			"providers[0].entra.tenant_id: required",
			"providers[0].entra.client_id: required",
			"providers[0].entra.client_secret: required",
			`providers[0].entra.authority_host: must be an https:// URL such as "https://login.microsoftonline.us/"`,
		}},
		{"azure fields on another type", func(c *Config) {
			c.Providers[0].APIVersion = "2024-10-21"
			c.Providers[0].Entra = &Entra{TenantID: "t", ClientID: "c", ClientSecret: "s"}
		}, []string{
			"providers[0].api_version: only allowed for type azure_openai",
			"providers[0].entra: only allowed for type azure_openai",
		}},
		{"headers", func(c *Config) {
			c.Providers[0].Headers = map[string]Secret{"Bad Name": "v", "X-Ok": "a\nb", "X-Fine": "v"}
		}, []string{
			"providers[0].headers.Bad Name: invalid header name",
			"providers[0].headers.X-Ok: invalid header value (control characters or newlines)",
		}},
		{"provider durations and conns", func(c *Config) {
			c.Providers[0].ConnectTimeout = -1
			c.Providers[0].ResponseHeaderTimeout = -1
			c.Providers[0].MaxIdleConnsPerHost = -1
		}, []string{
			"providers[0].connect_timeout: must not be negative",
			"providers[0].response_header_timeout: must not be negative",
			"providers[0].max_idle_conns_per_host: must not be negative",
		}},
		{"connection bound", func(c *Config) { c.Providers[0].MaxConnections = -1 }, []string{"providers[0].max_connections: must not be negative"}},
		{"pool timeout alone", func(c *Config) { c.Providers[0].PoolTimeout = Duration(time.Second) }, []string{"providers[0].pool_timeout: only with max_connections: without a bound on connections, no request waits for one"}},
		{"mock on other type", func(c *Config) { c.Providers[0].Mock = &Mock{} }, []string{"providers[0].mock: only allowed for type mock"}},
		{"mock values", func(c *Config) {
			c.Providers[1].Mock = &Mock{Latency: -1, TimeToFirstToken: -1, TokensPerSecond: -1, ErrorRate: 1.5}
		}, []string{
			"providers[1].mock.latency: must not be negative",
			"providers[1].mock.time_to_first_token: must not be negative",
			"providers[1].mock.tokens_per_second: must be a finite number >= 0",
			"providers[1].mock.error_rate: must be between 0 and 1",
		}},
		{"mock NaN and Inf", func(c *Config) {
			c.Providers[1].Mock = &Mock{TokensPerSecond: math.Inf(1), ErrorRate: math.NaN()}
		}, []string{
			"providers[1].mock.tokens_per_second: must be a finite number >= 0",
			"providers[1].mock.error_rate: must be between 0 and 1",
		}},
		{"mock error rate bounds ok", func(c *Config) { c.Providers[1].Mock = &Mock{ErrorRate: 1} }, nil},

		// models
		{"model name required", func(c *Config) { c.Models[1].Name = "" }, []string{
			"models[1].name: required",
			`models[0].fallbacks[0]: unknown model "mock"`,
		}},
		{"duplicate model", func(c *Config) { c.Models[1].Name = "gpt"; c.Models[0].Fallbacks = nil },
			[]string{`models[1].name: duplicate model name "gpt" (also at index 0)`}},
		{"no targets", func(c *Config) { c.Models[0].Targets = nil }, []string{"models[0].targets: at least one target is required"}},
		{"unknown target provider", func(c *Config) { c.Models[0].Targets[0].Provider = "x" },
			[]string{`models[0].targets[0].provider: unknown provider "x"`}},
		{"target fields required", func(c *Config) { c.Models[0].Targets[0] = Target{Weight: 1} }, []string{
			"models[0].targets[0].provider: required",
			"models[0].targets[0].model: required",
		}},
		{"negative weight", func(c *Config) {
			c.Models[0].Targets = append(c.Models[0].Targets, Target{Provider: "mock", Model: "m", Weight: -1})
		}, []string{"models[0].targets[1].weight: must not be negative"}},
		{"all weights zero", func(c *Config) { c.Models[0].Targets[0].Weight = 0 },
			[]string{"models[0].targets: at least one target needs a weight above 0"}},
		{"some weight zero ok", func(c *Config) {
			c.Models[0].Targets = append(c.Models[0].Targets, Target{Provider: "mock", Model: "m", Weight: 0})
		}, nil},
		{"unknown fallback", func(c *Config) { c.Models[0].Fallbacks = []string{"claude"} },
			[]string{`models[0].fallbacks[0]: unknown model "claude"`}},
		{"fallback to wildcard expansion ok", func(c *Config) { c.Models[0].Fallbacks = []string{"openai/gpt-4o-mini"} }, nil},
		{"fallback to wildcard pattern", func(c *Config) { c.Models[0].Fallbacks = []string{"openai/*"} },
			[]string{`models[0].fallbacks[0]: cannot fall back to a wildcard; name a model it serves, such as "openai/gpt-4o"`}},
		{"fallback to self", func(c *Config) { c.Models[0].Fallbacks = []string{"gpt"} },
			[]string{"models[0].fallbacks[0]: a model cannot fall back to itself"}},
		{"fallback duplicate and empty", func(c *Config) { c.Models[0].Fallbacks = []string{"mock", "mock", ""} }, []string{
			`models[0].fallbacks[1]: duplicate fallback "mock"`,
			"models[0].fallbacks[2]: must not be empty",
		}},
		{"wildcard not trailing", func(c *Config) {
			c.Models[2].Name = "openai/*/x"
			c.Keys[0].Models = nil
		}, []string{
			`models[2].name: a wildcard is only allowed as a trailing "/*" after a prefix, as in "openai/*"`,
			`models[2].targets[0].model: "*" is only allowed in a wildcard model such as "openai/*"`,
		}},
		{"bare wildcard", func(c *Config) { c.Models[2].Name = "*"; c.Keys[0].Models = nil }, []string{
			`models[2].name: a wildcard is only allowed as a trailing "/*" after a prefix, as in "openai/*"`,
			`models[2].targets[0].model: "*" is only allowed in a wildcard model such as "openai/*"`,
		}},
		{"wildcard target not star", func(c *Config) { c.Models[2].Targets[0].Model = "gpt-4o" },
			[]string{`models[2].targets[0].model: must be "*" in a wildcard model`}},

		// keys
		{"key name and value required", func(c *Config) { c.Keys[1] = Key{} }, []string{
			"keys[1].name: required",
			"keys[1].key: required",
		}},
		{"duplicate key name", func(c *Config) { c.Keys[1].Name = "ci" },
			[]string{`keys[1].name: duplicate key name "ci" (also at index 0)`}},
		{"duplicate key value", func(c *Config) { c.Keys[1].Key = "key-1" }, []string{"keys[1].key: same key as keys[0]"}},
		{"key unknown model", func(c *Config) { c.Keys[0].Models = []string{"gpt", "claude", "openai/"} }, []string{
			`keys[0].models[1]: unknown model "claude"`,
			`keys[0].models[2]: unknown model "openai/"`,
		}},
		{"negative limits", func(c *Config) { c.Keys[0].Limits = &Limits{RPM: -1, TPM: -1} }, []string{
			"keys[0].limits.rpm: must not be negative",
			"keys[0].limits.tpm: must not be negative",
		}},
		{"negative model and target limits", func(c *Config) {
			c.Models[0].Limits = &Limits{Concurrent: -1}
			c.Models[0].Targets[0].Limits = &Limits{RPM: -2}
			c.Keys[0].Limits = &Limits{Concurrent: -3}
		}, []string{
			"models[0].targets[0].limits.rpm: must not be negative",
			"models[0].limits.concurrent: must not be negative",
			"keys[0].limits.concurrent: must not be negative",
		}},
		{"key budget", func(c *Config) { c.Keys[0].Budget = &Budget{USD: 50, Period: "monthly"} }, nil},
		{"key budgets bad", func(c *Config) {
			c.Keys[0].Budget = &Budget{USD: 0, Period: "hourly"}
			c.Keys[1].Budget = &Budget{USD: math.NaN()}
		}, []string{
			"keys[0].budget.usd: must be above 0 and at most 9000000",
			`keys[0].budget.period: unknown period "hourly": daily, weekly, monthly or total`,
			"keys[1].budget.usd: must be above 0 and at most 9000000",
			"keys[1].budget.period: required: daily, weekly, monthly or total",
		}},
		{"key budget too large", func(c *Config) { c.Keys[0].Budget = &Budget{USD: 1e7, Period: "total"} },
			[]string{"keys[0].budget.usd: must be above 0 and at most 9000000"}},
		{"model and target limits", func(c *Config) {
			c.Models[0].Limits = &Limits{RPM: 10, TPM: 1000, Concurrent: 2}
			c.Models[0].Targets[0].Limits = &Limits{RPM: 5}
		}, nil},

		// redis
		{"redis", func(c *Config) {
			c.Redis = Redis{URL: "redis://:pw@127.0.0.1:6379/0", OnFailure: "closed", Timeout: Duration(time.Second)}
		}, nil},
		{"redis bad", func(c *Config) { c.Redis = Redis{URL: "http://user:hunter2@x", OnFailure: "maybe", Timeout: -1} }, []string{
			`redis.on_failure: must be "open" or "closed"`,
			"redis.timeout: must not be negative",
			"redis.url: must be a redis:// or rediss:// URL",
		}},
		{"redis no host", func(c *Config) { c.Redis = Redis{URL: "redis:///0"} }, []string{"redis.url: must have a host"}},
		{"redis settings without url", func(c *Config) { c.Redis = Redis{OnFailure: "open"} },
			[]string{"redis.url: required when redis.on_failure or redis.timeout is set"}},

		// alerts
		{"alerts", func(c *Config) {
			c.Alerts = Alerts{Webhook: Webhook{URL: "https://hooks.example.com/llmgw?token=t", Secret: testWebhookSecret},
				BudgetThresholds: []int{25, 90, 100}, MaxAttempts: 3}
		}, nil},
		{"alerts bad", func(c *Config) {
			c.Alerts = Alerts{Webhook: Webhook{URL: "ftp://hooks.example.com/hunter2", Secret: "hunter2-not-a-whsec"},
				BudgetThresholds: []int{0, 80, 80, 101}, MaxAttempts: -1}
		}, []string{
			"alerts.budget_thresholds[0]: must be a percentage from 1 to 100",
			"alerts.budget_thresholds[2]: thresholds must be in increasing order, each once",
			"alerts.budget_thresholds[3]: must be a percentage from 1 to 100",
			"alerts.max_attempts: must be from 1 to 50",
			"alerts.webhook.url: must be an http:// or https:// URL",
			`alerts.webhook.secret: required with alerts.webhook.url: "whsec_" followed by the base64 of 24 to 64 random bytes`,
		}},
		{"alerts secret too short", func(c *Config) {
			c.Alerts = Alerts{Webhook: Webhook{URL: "http://127.0.0.1:9000/", Secret: "whsec_" + Secret(base64.StdEncoding.EncodeToString(make([]byte, 23)))}}
		}, []string{`alerts.webhook.secret: required with alerts.webhook.url: "whsec_" followed by the base64 of 24 to 64 random bytes`}},
		{"alerts relative url", func(c *Config) { c.Alerts = Alerts{Webhook: Webhook{URL: "https:///x", Secret: testWebhookSecret}} },
			[]string{"alerts.webhook.url: must have a host"}},
		{"alerts without url", func(c *Config) { c.Alerts = Alerts{BudgetThresholds: []int{50}} },
			[]string{"alerts.webhook.url: required when the alerts section sets anything else"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.mutate(c)
			if diff := cmp.Diff(tt.want, problemLines(c.Validate())); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	_, err := Parse([]byte(`
server:
  listen: nowhere
  max_body_bytes: -1
providers:
  - {name: p, type: openai}
  - {name: p, type: mock, mock: {error_rate: 2}}
models:
  - name: a
    targets: [{provider: p, model: x}]
  - name: b
    targets: [{provider: q, model: y}]
  - name: c
    targets: [{provider: x, model: z}]
    fallbacks: [zz]
keys:
  - {name: k, key: same, models: [nope]}
  - {name: k2, key: same}
`), nil)
	want := []string{
		`server.listen: want host:port, such as "127.0.0.1:8080" or ":8080"`,
		"server.max_body_bytes: must be > 0",
		"providers[0].api_key: required for type openai",
		`providers[1].name: duplicate provider name "p" (also at index 0)`,
		"providers[1].mock.error_rate: must be between 0 and 1",
		`models[1].targets[0].provider: unknown provider "q"`,
		`models[2].targets[0].provider: unknown provider "x"`,
		`models[2].fallbacks[0]: unknown model "zz"`,
		`keys[0].models[0]: unknown model "nope"`,
		"keys[1].key: same key as keys[0]",
	}
	if diff := cmp.Diff(want, problemLines(err)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestModelMatch(t *testing.T) {
	tests := []struct {
		model, name, rest string
		ok                bool
	}{
		{"gpt", "gpt", "", true},
		{"gpt", "gpt2", "", false},
		{"openai/*", "openai/gpt-4o", "gpt-4o", true},
		{"openai/*", "openai/org/model", "org/model", true},
		{"openai/*", "openai/", "", false},
		{"openai/*", "openai/*", "", false},
		{"openai/*", "openai/x/*", "", false},
		{"openai/*", "anthropic/x", "", false},
		{"a*/*", "a*/x", "", false},
	}
	for _, tt := range tests {
		m := Model{Name: tt.model}
		rest, ok := m.Match(tt.name)
		if rest != tt.rest || ok != tt.ok {
			t.Errorf("Model{%q}.Match(%q) = %q, %v; want %q, %v", tt.model, tt.name, rest, ok, tt.rest, tt.ok)
		}
	}
}

// A type the schema knows but this version cannot serve is reported with
// every other problem, in one run.
// Every provider type the configuration names is served by this build.
func TestEveryProviderTypeServed(t *testing.T) {
	for _, typ := range ProviderTypes() {
		if !slices.Contains(servedTypes, typ) {
			t.Errorf("provider type %q is named but not served", typ)
		}
	}
}

func TestValidateUnknownTypeWithOtherProblems(t *testing.T) {
	_, err := Parse([]byte(`
server: {listn: x}
providers:
  - {name: c, type: watsonx, api_key: k}
  - {name: o, type: openai, api_key: k}
models:
  - {name: m, targets: [{provider: c, model: x}, {provider: nope, model: y}]}
`), nil)
	if err == nil {
		t.Fatal("an unknown provider type was accepted")
	}
	for _, want := range []string{
		"server.listn: unknown field",
		`providers[0].type: unknown type "watsonx"`,
		`models[0].targets[1].provider: unknown provider "nope"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("problems lack %q:\n%v", want, err)
		}
	}
}

// The secret of the Standard Webhooks reference tests.
const testWebhookSecret Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func TestAlertsDefaultsAndRedaction(t *testing.T) {
	c, err := Parse([]byte("alerts:\n  webhook:\n    url: https://hooks.example.com/x?token=hunter2\n    secret: "+
		testWebhookSecret.Value()+"\n"), nil)
	require.NoError(t, err)
	require.Equal(t, []int{50, 80, 100}, c.Alerts.BudgetThresholds)
	require.Equal(t, 8, c.Alerts.MaxAttempts)
	y, err := yaml.Marshal(c.Redacted())
	require.NoError(t, err)
	require.NotContains(t, string(y), "hunter2")
	require.NotContains(t, string(y), "MfKQ9r8")
	require.Equal(t, testWebhookSecret, c.Alerts.Webhook.Secret)
	r := c.Redacted()
	require.Equal(t, Secret("[redacted]"), r.Alerts.Webhook.URL)
	require.Equal(t, Secret("[redacted]"), r.Alerts.Webhook.Secret)
	r.Alerts.BudgetThresholds[0] = 1
	require.Equal(t, 50, c.Alerts.BudgetThresholds[0], "the copy shares no thresholds with the original")
	c, err = Parse([]byte("alerts: {}\n"), nil)
	require.NoError(t, err)
	require.Nil(t, c.Alerts.BudgetThresholds, "no defaults without a webhook")
	_, err = Parse([]byte("alerts:\n  webhook: {url: https://x, secret: "+testWebhookSecret.Value()+", events: [a]}\n"), nil)
	require.Error(t, err, "an unknown webhook field is refused")
}

func TestRedisDefaultsAndRedaction(t *testing.T) {
	c, err := Parse([]byte("redis:\n  url: redis://:hunter2@127.0.0.1:6379/0\n"), nil)
	require.NoError(t, err)
	require.Equal(t, RedisFailOpen, c.Redis.OnFailure)
	require.Equal(t, DefaultRedisTimeout, c.Redis.Timeout.Std())
	r := c.Redacted()
	require.NotContains(t, string(r.Redis.URL), "hunter2")
	require.Equal(t, "redis://:hunter2@127.0.0.1:6379/0", c.Redis.URL.Value())
	_, err = Parse([]byte("redis:\n  url: redis://x:6379\n  pool: 3\n"), nil)
	require.Error(t, err, "an unknown redis field is refused")
	_, err = Parse([]byte("keys:\n  - {name: a, key: k-1, limits: {rpm: 1, burst: 2}}\n"), nil)
	require.Error(t, err, "an unknown limits field is refused")
}

// An azure_openai provider's fields parse from YAML, its Entra
// credentials as secrets.
func TestParseAzure(t *testing.T) {
	c, err := Parse([]byte(`
providers:
  - name: az
    type: azure_openai
    base_url: https://r.openai.azure.com
    api_version: v1
    entra: {tenant_id: "${T}", client_id: cid, client_secret: "${S}"}
models:
  - {name: m, targets: [{provider: az, model: gpt-4o-prod}]}
`), func(k string) (string, bool) { return map[string]string{"T": "tenant", "S": "s3cret-value"}[k], true })
	require.NoError(t, err)
	p := c.Providers[0]
	require.Equal(t, "v1", p.APIVersion)
	require.NotNil(t, p.Entra)
	require.Equal(t, "tenant", p.Entra.TenantID.Value())
	require.Equal(t, "s3cret-value", p.Entra.ClientSecret.Value())
	out, err := yaml.Marshal(c.Redacted())
	require.NoError(t, err)
	require.NotContains(t, string(out), "s3cret-value")
}
