package config

import (
	"net"
	"path/filepath"
	"strings"
	"time"
)

// DefaultOverloadQueueTimeout is server.overload_queue.timeout's: long
// enough to absorb a burst, short enough that a load balancer sees the 503
// before its own timeout.
const DefaultOverloadQueueTimeout = time.Second

// Server defaults.
const (
	DefaultListen            = "127.0.0.1:8080"
	DefaultMaxBodyBytes      = 10 << 20
	DefaultShutdownTimeout   = 30 * time.Second
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 60 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultStreamIdleTimeout = 60 * time.Second
	DefaultRequestTimeout    = 10 * time.Minute
	DefaultLogLevel          = "info"
	DefaultDataDir           = "llmgw-data"
	DefaultStorageDriver     = DriverSQLite
	// SQLiteFile is the SQLite store's file name in the data directory.
	SQLiteFile = "llmgw.db"
	// DefaultUnsupportedParams is server.unsupported_params by default.
	DefaultUnsupportedParams = UnsupportedDrop
)

// Values of server.unsupported_params.
const (
	UnsupportedDrop   = "drop"
	UnsupportedRefuse = "refuse"
)

// DefaultRedisTimeout bounds each call to Redis by default.
const DefaultRedisTimeout = 50 * time.Millisecond

// DefaultVertexLocation is a vertex provider's location when none is set,
// the Google Gen AI SDK's default.
const DefaultVertexLocation = "global"

// Provider defaults.
const (
	DefaultConnectTimeout        = 10 * time.Second
	DefaultResponseHeaderTimeout = 2 * time.Minute
	DefaultMaxIdleConnsPerHost   = 256
)

// defaultBaseURLs are the API roots of provider types that have a single
// well-known one (or a well-known local one).
var defaultBaseURLs = map[string]string{
	TypeOpenAI:    "https://api.openai.com/v1",
	TypeAnthropic: "https://api.anthropic.com",
	TypeGemini:    "https://generativelanguage.googleapis.com",
	TypeMistral:   "https://api.mistral.ai/v1",
	TypeCohere:    "https://api.cohere.com",
	TypeOllama:    "http://127.0.0.1:11434",
	TypeVLLM:      "http://127.0.0.1:8000/v1",
}

// DefaultBaseURL returns the base URL used for a provider type when none is
// configured, or "" if the type has none.
func DefaultBaseURL(providerType string) string {
	return defaultBaseURLs[providerType]
}

// ApplyDefaults fills every unset (zero) setting with its default. Parse
// calls it; code that builds a Config by hand calls it before Validate. A
// target's weight is the exception: 0 is meaningful, so its default of 1 is
// applied while decoding.
func (c *Config) ApplyDefaults() {
	c.Secrets.applyDefaults()
	s := &c.Server
	setDefault(&s.Listen, DefaultListen)
	setDefault(&s.MaxBodyBytes, DefaultMaxBodyBytes)
	setDefault(&s.ShutdownTimeout, Duration(DefaultShutdownTimeout))
	setDefault(&s.OverloadQueue.Timeout, Duration(DefaultOverloadQueueTimeout))
	setDefault(&s.ReadHeaderTimeout, Duration(DefaultReadHeaderTimeout))
	setDefault(&s.ReadTimeout, Duration(DefaultReadTimeout))
	setDefault(&s.IdleTimeout, Duration(DefaultIdleTimeout))
	setDefault(&s.StreamIdleTimeout, Duration(DefaultStreamIdleTimeout))
	setDefault(&s.RequestTimeout, Duration(DefaultRequestTimeout))
	setDefault(&s.LogLevel, DefaultLogLevel)
	setDefault(&s.UnsupportedParams, DefaultUnsupportedParams)
	setDefault(&s.DataDir, DefaultDataDir)
	setDefault(&c.Storage.Driver, DefaultStorageDriver)
	if c.Storage.Driver == DriverSQLite && c.Storage.DSN == "" {
		c.Storage.DSN = Secret(filepath.Join(s.DataDir, SQLiteFile))
	}
	if s.AccessLog == nil {
		on := true
		s.AccessLog = &on
	}
	for i := range c.Providers {
		p := &c.Providers[i]
		setDefault(&p.BaseURL, DefaultBaseURL(p.Type))
		setDefault(&p.ConnectTimeout, Duration(DefaultConnectTimeout))
		setDefault(&p.ResponseHeaderTimeout, Duration(DefaultResponseHeaderTimeout))
		setDefault(&p.MaxIdleConnsPerHost, DefaultMaxIdleConnsPerHost)
		p.HealthCheck.applyDefaults()
		if p.Vertex != nil {
			setDefault(&p.Vertex.Location, DefaultVertexLocation)
		}
	}
	for i := range c.Models {
		c.Models[i].applyRoutingDefaults(s.StreamIdleTimeout)
	}
	c.Auth.applyDefaults()
	c.Alerts.applyDefaults()
	c.Responses.applyDefaults()
	c.Idempotency.applyDefaults()
	c.Logging.applyDefaults()
	if c.Redis.URL != "" {
		setDefault(&c.Redis.OnFailure, RedisFailOpen)
		setDefault(&c.Redis.Timeout, Duration(DefaultRedisTimeout))
	}
}

// setDefault sets *v to def if *v is the zero value.
func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// envProvider is a provider that Default adds when an environment variable
// holding its credential is set.
type envProvider struct {
	name       string // provider name, also the wildcard model prefix
	typ        string
	keyVar     string // credential; the provider is added when it is non-empty
	baseURLVar string // optional base URL override
}

// envProviders is the table Default consults. A provider type gets its entry
// here once the gateway can serve it, so that "llmgw serve" with no config
// never offers a model it cannot answer. The usual variables are
// ANTHROPIC_API_KEY, GEMINI_API_KEY, MISTRAL_API_KEY, COHERE_API_KEY, the
// AWS credentials and OLLAMA_HOST; Azure OpenAI's are read by azureFromEnv.
var envProviders = []envProvider{
	{name: "openai", typ: TypeOpenAI, keyVar: "OPENAI_API_KEY", baseURLVar: "OPENAI_BASE_URL"},
	{name: "anthropic", typ: TypeAnthropic, keyVar: "ANTHROPIC_API_KEY", baseURLVar: "ANTHROPIC_BASE_URL"},
	{name: "gemini", typ: TypeGemini, keyVar: "GEMINI_API_KEY"},
	{name: "mistral", typ: TypeMistral, keyVar: "MISTRAL_API_KEY"},
	{name: "cohere", typ: TypeCohere, keyVar: "COHERE_API_KEY"},
}

// Default returns the configuration used when no file is given: the server
// defaults, the built-in provider "mock" with the model "mock", and for each
// provider whose credential is found in env (OPENAI_API_KEY, ANTHROPIC_API_KEY,
// GEMINI_API_KEY, MISTRAL_API_KEY, COHERE_API_KEY) a
// provider of that name and a wildcard model "<name>/*", so that
// "openai/gpt-4o" reaches OpenAI's "gpt-4o"; AZURE_OPENAI_ENDPOINT with
// its key or an Entra application adds "azure" (see azureFromEnv);
// GOOGLE_APPLICATION_CREDENTIALS with GOOGLE_CLOUD_PROJECT adds "vertex"
// and "vertex/*" (see vertexFromEnv); AWS credentials with a region add
// the provider "bedrock" and the models "bedrock/*" (see bedrockFromEnv);
// OLLAMA_HOST, which needs no
// credential, adds the provider "ollama" at that address and the models
// "ollama/*"; LLMGW_ADMIN_TOKEN turns the
// admin API on and LLMGW_DATA_DIR moves the data directory. A nil env is an empty
// environment. The result has defaults applied; callers still Validate it,
// since an environment value such as a base URL may be invalid.
func Default(env func(string) (string, bool)) *Config {
	if env == nil {
		env = func(string) (string, bool) { return "", false }
	}
	c := &Config{
		Providers: []Provider{{Name: "mock", Type: TypeMock}},
		Models: []Model{{
			Name:    "mock",
			Targets: []Target{{Provider: "mock", Model: "mock", Weight: 1}},
		}},
	}
	for _, ep := range envProviders {
		key, ok := env(ep.keyVar)
		if !ok || key == "" {
			continue
		}
		p := Provider{Name: ep.name, Type: ep.typ, APIKey: Secret(key)}
		if ep.baseURLVar != "" {
			if u, ok := env(ep.baseURLVar); ok {
				p.BaseURL = u
			}
		}
		c.Providers = append(c.Providers, p)
		c.Models = append(c.Models, Model{
			Name:    ep.name + "/*",
			Targets: []Target{{Provider: ep.name, Model: "*", Weight: 1}},
		})
	}
	if p, ok := azureFromEnv(env); ok {
		c.Providers = append(c.Providers, p)
		c.Models = append(c.Models, Model{
			Name:    p.Name + "/*",
			Targets: []Target{{Provider: p.Name, Model: "*", Weight: 1}},
		})
	}
	if p, m, ok := vertexFromEnv(env); ok {
		c.Providers, c.Models = append(c.Providers, p), append(c.Models, m)
	}
	if p, ok := bedrockFromEnv(env); ok {
		c.Providers = append(c.Providers, p)
		c.Models = append(c.Models, Model{
			Name:    "bedrock/*",
			Targets: []Target{{Provider: "bedrock", Model: "*", Weight: 1}},
		})
	}
	if v, ok := env("OLLAMA_HOST"); ok && strings.TrimSpace(v) != "" {
		c.Providers = append(c.Providers, Provider{Name: "ollama", Type: TypeOllama, BaseURL: OllamaBaseURL(v)})
		c.Models = append(c.Models, Model{
			Name:    "ollama/*",
			Targets: []Target{{Provider: "ollama", Model: "*", Weight: 1}},
		})
	}
	if v, ok := env("LLMGW_ADMIN_TOKEN"); ok {
		c.Server.AdminToken = Secret(v)
	}
	if v, ok := env("LLMGW_DATA_DIR"); ok {
		c.Server.DataDir = v
	}
	c.ApplyDefaults()
	return c
}

// azureFromEnv returns the provider "azure" of an Azure OpenAI resource
// named by the variables Azure's own SDKs read: AZURE_OPENAI_ENDPOINT, and
// AZURE_OPENAI_API_KEY, or else a Microsoft Entra application in
// AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (those of
// azidentity's EnvironmentCredential); OPENAI_API_VERSION, when set, is the
// api-version (as the OpenAI SDKs' Azure clients take it). Its models,
// "azure/<deployment>", are the resource's deployments.
func azureFromEnv(env func(string) (string, bool)) (Provider, bool) {
	get := func(k string) string {
		v, _ := env(k)
		return strings.TrimSpace(v)
	}
	endpoint := get("AZURE_OPENAI_ENDPOINT")
	if endpoint == "" {
		return Provider{}, false
	}
	p := Provider{Name: "azure", Type: TypeAzureOpenAI, BaseURL: strings.TrimRight(endpoint, "/"), APIVersion: get("OPENAI_API_VERSION")}
	switch key := get("AZURE_OPENAI_API_KEY"); {
	case key != "":
		p.APIKey = Secret(key)
	case get("AZURE_TENANT_ID") != "" && get("AZURE_CLIENT_ID") != "" && get("AZURE_CLIENT_SECRET") != "":
		p.Entra = &Entra{TenantID: Secret(get("AZURE_TENANT_ID")), ClientID: Secret(get("AZURE_CLIENT_ID")),
			ClientSecret: Secret(get("AZURE_CLIENT_SECRET"))}
	default:
		return Provider{}, false
	}
	return p, true
}

// OllamaBaseURL returns the base URL of an OLLAMA_HOST value, read as
// Ollama's own client reads it: "host", "host:port" or a URL, with http and
// port 11434 when not given.
func OllamaBaseURL(host string) string {
	host = strings.TrimSpace(host)
	scheme := "http"
	if s, rest, ok := strings.Cut(host, "://"); ok {
		scheme, host = s, rest
	}
	host, path, _ := strings.Cut(host, "/")
	if _, _, err := net.SplitHostPort(host); err != nil {
		host = net.JoinHostPort(strings.Trim(host, "[]"), "11434")
	}
	if path != "" {
		return scheme + "://" + host + "/" + strings.TrimRight(path, "/")
	}
	return scheme + "://" + host
}
