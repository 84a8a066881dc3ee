package config

import (
	"log/slog"
	"math"
	"strings"
)

// Config is the whole gateway configuration, as read from a YAML file.
type Config struct {
	// Server holds the settings of the gateway's own HTTP server.
	Server Server `yaml:"server" json:"server"`
	// Providers lists the upstream accounts or deployments the gateway may
	// call. Each has a unique name that model targets refer to.
	Providers []Provider `yaml:"providers,omitempty" json:"providers,omitempty"`
	// Models lists the model names clients may send, and where each goes.
	Models []Model `yaml:"models,omitempty" json:"models,omitempty"`
	// Keys lists static virtual keys. More keys can be created through the
	// admin API. With no key at all, the gateway requires none (local use);
	// once any key exists, every request to /v1/* must carry a valid one.
	Keys []Key `yaml:"keys,omitempty" json:"keys,omitempty"`
	// Auth holds the other ways callers authenticate: JWTs (auth.jwt).
	Auth Auth `yaml:"auth,omitempty" json:"auth,omitzero"`
	// Storage is where tenants, teams, keys created through the admin API
	// and the audit log are kept.
	Storage Storage `yaml:"storage,omitempty" json:"storage,omitzero"`
	// Pricing overrides and extends the built-in price table
	// (docs/pricing.md): each entry prices one upstream model on one
	// configured provider, in USD per million tokens. An entry replaces the
	// built-in price of that model for that provider as a whole.
	Pricing []Price `yaml:"pricing,omitempty" json:"pricing,omitempty"`
	// Redis, when its url is set, holds the rate limit counts shared by
	// every replica using it; without it each replica counts in its own
	// memory, and N replicas allow N times each limit.
	Redis Redis `yaml:"redis,omitempty" json:"redis,omitzero"`
	// Alerts sends budget alerts to a webhook.
	Alerts Alerts `yaml:"alerts,omitempty" json:"alerts,omitzero"`
	// Responses configures the state of the Responses API: how long
	// stored responses are kept and how large one may be.
	Responses Responses `yaml:"responses,omitempty" json:"responses,omitzero"`
	// Idempotency runs a request that carries an Idempotency-Key once per
	// key of a tenant, and answers its repeats with the same response.
	Idempotency Idempotency `yaml:"idempotency,omitempty" json:"idempotency,omitzero"`
	// Logging configures what is logged besides the access log: the
	// bodies of the tenants that opted in (logging.payloads).
	Logging Logging `yaml:"logging,omitempty" json:"logging,omitzero"`
	// Tracing exports OpenTelemetry traces over OTLP; the OTEL_*
	// environment variables are its defaults (docs/tracing.md).
	Tracing Tracing `yaml:"tracing,omitempty" json:"tracing,omitzero"`
	// Secrets says where secret references ("file:", "vault:") in any
	// secret field are resolved, and how often they are fetched again
	// (docs/secrets.md).
	Secrets Secrets `yaml:"secrets,omitempty" json:"secrets,omitzero"`
}

// Redis is the shared store of rate limit counts.
type Redis struct {
	// URL is redis://[user:password@]host:port/db (rediss:// for TLS). It
	// is treated as a secret, since it may hold a password. Empty: limits
	// are counted in each replica's memory.
	URL Secret `yaml:"url,omitempty" json:"url,omitempty"`
	// OnFailure is what happens while Redis does not answer: "open" (the
	// default) counts in this replica's memory meanwhile, so limits hold
	// per replica; "closed" refuses limited requests with 503.
	OnFailure string `yaml:"on_failure,omitempty" json:"on_failure,omitempty"`
	// Timeout bounds each call to Redis; default "50ms". After three
	// failures in a row Redis is not tried for two seconds.
	Timeout Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
}

// Values of redis.on_failure.
const (
	RedisFailOpen   = "open"
	RedisFailClosed = "closed"
)

// Storage selects the gateway's persistent store.
type Storage struct {
	// Driver is "sqlite" (the default: one embedded file, for one replica)
	// or "postgres" (shared by many replicas).
	Driver string `yaml:"driver" json:"driver"`
	// DSN is the SQLite file path, or the PostgreSQL connection string
	// (postgres://user:pass@host/db?search_path=...). It is treated as a
	// secret, since it may hold a password. Default for sqlite:
	// "<server.data_dir>/llmgw.db"; required for postgres.
	DSN Secret `yaml:"dsn,omitempty" json:"dsn,omitempty"`
	// Notify, for postgres only, says whether replicas learn of each
	// other's key changes at once by PostgreSQL's LISTEN/NOTIFY (default
	// true) or by polling alone, every 250ms: set it to false behind a
	// pooler that does not pass LISTEN through (PgBouncer in transaction
	// mode). Revocation reaches every replica within a second either way.
	Notify *bool `yaml:"notify,omitempty" json:"notify,omitempty"`
}

// NotifyOn reports whether replicas listen for change notifications.
func (s *Storage) NotifyOn() bool {
	return s.Driver == DriverPostgres && (s.Notify == nil || *s.Notify)
}

// The storage drivers.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// Server holds the settings of the gateway's own HTTP server.
type Server struct {
	// Listen is the host:port the gateway listens on. Default "127.0.0.1:8080".
	Listen string `yaml:"listen" json:"listen"`
	// AdminToken is the bearer token required by /admin/v1/*. Empty disables
	// the admin API.
	AdminToken Secret `yaml:"admin_token,omitempty" json:"admin_token,omitempty"`
	// MaxBodyBytes is the largest request body accepted, in bytes; larger
	// requests get 413. Default 10485760 (10 MiB).
	MaxBodyBytes int64 `yaml:"max_body_bytes" json:"max_body_bytes"`
	// ShutdownTimeout is how long in-flight requests and streams may take to
	// finish after SIGTERM. Those still running then end with an error in
	// their protocol (503 server_shutting_down, or an in-band error event
	// for a stream already begun), and their connections are closed a
	// second later. Default "30s".
	ShutdownTimeout Duration `yaml:"shutdown_timeout" json:"shutdown_timeout"`
	// ReadHeaderTimeout is how long a client may take to send request
	// headers. Default "10s".
	ReadHeaderTimeout Duration `yaml:"read_header_timeout" json:"read_header_timeout"`
	// ReadTimeout is how long a client may take to send a whole request,
	// headers and body, counted from its first byte: a request not complete
	// by then is cut, and the client gets 408 or a closed connection. It
	// covers only the request: a response, such as a long stream, may last
	// longer. Default "60s".
	ReadTimeout Duration `yaml:"read_timeout" json:"read_timeout"`
	// IdleTimeout is how long an idle keep-alive client connection is kept.
	// Default "120s".
	IdleTimeout Duration `yaml:"idle_timeout" json:"idle_timeout"`
	// StreamIdleTimeout is the longest gap allowed between two upstream
	// stream events before the stream is abandoned. Default "60s".
	StreamIdleTimeout Duration `yaml:"stream_idle_timeout" json:"stream_idle_timeout"`
	// RequestTimeout is the total time allowed for one request, retries and
	// fallbacks included. Default "10m".
	RequestTimeout Duration `yaml:"request_timeout" json:"request_timeout"`
	// LogLevel is the minimum level logged: debug, info, warn or error.
	// Default info.
	LogLevel string `yaml:"log_level" json:"log_level"`
	// UnsupportedParams is what happens to a request field that the
	// upstream's protocol has no equivalent for and that the gateway can
	// leave out without changing what the answer means (penalties, seed,
	// service_tier, store, thinking toward a model without reasoning, ...;
	// docs/compatibility.md lists them): "drop" (the default) leaves it out
	// and names it in the x-llmgw-dropped-params response header; "refuse"
	// answers 400 naming it. Fields without which the answer would mean
	// something else (n above 1, logprobs, audio, server tools, a message
	// thread to continue, ...) are refused either way.
	UnsupportedParams string `yaml:"unsupported_params" json:"unsupported_params"`
	// AccessLog turns the one-line-per-request access log on or off.
	// Default true.
	AccessLog *bool `yaml:"access_log,omitempty" json:"access_log,omitempty"`
	// AllowedHosts are the Host names (without port) served besides the
	// loopback ones while the gateway listens on a loopback address and no
	// key is configured: then a request for any other Host gets 403
	// host_not_allowed, so that a web page cannot reach a local gateway
	// through a name of its own (DNS rebinding). The loopback names are
	// localhost, *.localhost, 127.0.0.0/8 and [::1]. "*" allows every
	// Host. A gateway listening on any other address serves every Host.
	AllowedHosts []string `yaml:"allowed_hosts,omitempty" json:"allowed_hosts,omitempty"`
	// CORS sets which web pages may call the gateway from a browser.
	CORS CORS `yaml:"cors,omitempty" json:"cors,omitzero"`
	// MetricsListen is a host:port on which /metrics is served, and only
	// it; the main listener then answers /metrics with 404. Empty (the
	// default) serves /metrics on the main listener.
	MetricsListen string `yaml:"metrics_listen,omitempty" json:"metrics_listen,omitempty"`
	// TLS, when set, serves the main listener over HTTPS (HTTP/2 and
	// HTTP/1.1), with optional client certificates (mutual TLS);
	// docs/tls.md. metrics_listen stays plain HTTP.
	TLS *ServerTLS `yaml:"tls,omitempty" json:"tls,omitempty"`
	// MetricsToken, when set, is the bearer token /metrics requires
	// (Authorization: Bearer <token>), wherever it is served; compared
	// hashed, in constant time. Empty (the default): /metrics is open to
	// whoever reaches its address.
	MetricsToken Secret `yaml:"metrics_token,omitempty" json:"metrics_token,omitempty"`
	// AdminTokens are more global admin tokens, each with a name that the
	// audit log records as the actor; admin_token is the one named
	// "admin_token". A read_only token may only read.
	AdminTokens []AdminToken `yaml:"admin_tokens,omitempty" json:"admin_tokens,omitempty"`
	// Secret is the server secret, from which the keys of the key hashes
	// and of the audit log's chain are derived (HKDF, one key per
	// purpose). Every replica sharing a store must have the same one.
	// Empty: the LLMGW_SECRET environment variable, else a secret
	// generated once and kept in <data_dir>/secret (mode 0600), which is
	// refused with storage.driver postgres, since replicas would not
	// agree. At least 32 characters.
	Secret Secret `yaml:"secret,omitempty" json:"secret,omitempty"`
	// DataDir is the directory of the gateway's local state: the SQLite
	// store and the generated secret. Default "llmgw-data", relative to
	// the working directory; LLMGW_DATA_DIR sets it for the built-in
	// defaults.
	DataDir string `yaml:"data_dir" json:"data_dir"`
	// MaxConcurrentRequests is the most inference requests (POST
	// /v1/chat/completions, /v1/completions, /v1/messages,
	// /v1/messages/count_tokens, /v1/embeddings, /v1/responses) this
	// replica serves at once; one more waits in the overload queue
	// (overload_queue), then gets 503 overloaded with Retry-After. The
	// probes, /metrics, the model and stored-response routes and the admin
	// API are never queued nor refused. 0 (the default): no ceiling.
	// Reloadable.
	MaxConcurrentRequests int `yaml:"max_concurrent_requests,omitempty" json:"max_concurrent_requests,omitempty"`
	// MaxOpenStreams is the most streamed inference requests this replica
	// serves at once, counted from when the request is known to be a
	// stream (its body read) to its end; one more waits in the overload
	// queue, then gets 503 overloaded with Retry-After. 0 (the default):
	// no ceiling. Reloadable.
	MaxOpenStreams int `yaml:"max_open_streams,omitempty" json:"max_open_streams,omitempty"`
	// OverloadQueue is how requests over max_concurrent_requests or
	// max_open_streams wait for a place.
	OverloadQueue OverloadQueue `yaml:"overload_queue,omitempty" json:"overload_queue,omitzero"`
}

// OverloadQueue is the short queue in front of the concurrency ceilings.
type OverloadQueue struct {
	// Size is the most requests waiting for a place under each ceiling;
	// one more is refused at once. 0 (the default): none waits.
	Size int `yaml:"size,omitempty" json:"size,omitempty"`
	// Timeout is the longest a request waits in the queue before it is
	// refused. Default "1s".
	Timeout Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
}

// AdminToken is a named global admin token.
type AdminToken struct {
	// Name identifies the token in the audit log. Required, unique, and
	// not "admin_token".
	Name string `yaml:"name" json:"name"`
	// Token is the bearer token. Required, at least 16 characters.
	Token Secret `yaml:"token" json:"token"`
	// ReadOnly limits the token to reading.
	ReadOnly bool `yaml:"read_only,omitempty" json:"read_only,omitempty"`
}

// CORS is the cross-origin policy for browser clients.
type CORS struct {
	// AllowedOrigins are the origins ("https://app.example.com": scheme,
	// host and port, no path) whose pages may call the gateway: their
	// preflight requests are answered and their responses carry
	// Access-Control-Allow-Origin. "*" allows every origin. With no key
	// configured, a request carrying any other Origin gets 403
	// origin_not_allowed (SDKs and curl send none; browsers always do).
	// Default: none.
	AllowedOrigins []string `yaml:"allowed_origins,omitempty" json:"allowed_origins,omitempty"`
}

// Provider is one upstream account or deployment.
type Provider struct {
	// Name identifies the provider in model targets, logs, metrics and the
	// x-llmgw-provider response header. Required, unique.
	Name string `yaml:"name" json:"name"`
	// Type is the upstream API: openai, azure_openai, anthropic, gemini,
	// vertex, bedrock, mistral, cohere, ollama, vllm, openai_compatible or
	// mock. Required.
	Type string `yaml:"type" json:"type"`
	// BaseURL is the API root, as the provider's official SDK takes it
	// (OpenAI's is "https://api.openai.com/v1", Anthropic's
	// "https://api.anthropic.com"). Defaults by type for openai, anthropic,
	// gemini, mistral, cohere, ollama and vllm; required for
	// openai_compatible and azure_openai. An absolute http(s) URL without
	// query, fragment or user info.
	BaseURL string `yaml:"base_url,omitempty" json:"base_url,omitempty"`
	// APIKey is the upstream credential. Required for openai, anthropic,
	// gemini, mistral and cohere, and for azure_openai unless entra is set
	// (Azure takes it in the api-key header).
	APIKey Secret `yaml:"api_key,omitempty" json:"api_key,omitempty"`
	// APIVersion, for azure_openai only, is the api-version sent with
	// every request to {base_url}/openai/deployments/{model}/...; default
	// "2024-10-21", the latest GA version of the dated data plane API.
	// "v1" selects the v1 surface instead, {base_url}/openai/v1/..., which
	// takes no api-version and the deployment as the body's model.
	APIVersion string `yaml:"api_version,omitempty" json:"api_version,omitempty"`
	// Entra, for azure_openai only, authenticates with Microsoft Entra ID
	// tokens (client credentials) instead of api_key.
	Entra *Entra `yaml:"entra,omitempty" json:"entra,omitempty"`
	// Vertex, for type vertex only and required there, names the Google
	// Cloud project and location and the credentials.
	Vertex *Vertex `yaml:"vertex,omitempty" json:"vertex,omitempty"`
	// Bedrock, for bedrock only, sets the AWS region and credentials and
	// the request shape; see Bedrock.
	Bedrock *Bedrock `yaml:"bedrock,omitempty" json:"bedrock,omitempty"`
	// Headers are extra static headers sent upstream with every request.
	// Their values are treated as secrets.
	Headers map[string]Secret `yaml:"headers,omitempty" json:"headers,omitempty"`
	// ConnectTimeout bounds dialing (and TLS) to the upstream. Default "10s".
	ConnectTimeout Duration `yaml:"connect_timeout" json:"connect_timeout"`
	// ResponseHeaderTimeout bounds the wait for the first byte of the
	// upstream response. Default "2m".
	ResponseHeaderTimeout Duration `yaml:"response_header_timeout" json:"response_header_timeout"`
	// MaxIdleConnsPerHost is the number of idle upstream connections kept
	// for reuse. Default 256.
	MaxIdleConnsPerHost int `yaml:"max_idle_conns_per_host" json:"max_idle_conns_per_host"`
	// MaxConnections bounds the provider's upstream requests at once: the
	// connections of an http:// upstream (HTTP/1.1, one request each), the
	// concurrent requests of an https:// one (HTTP/2 multiplexes them). A
	// request over it waits up to pool_timeout for one to end, then fails
	// as the upstream being unavailable (retried on another target or
	// fallback as such failures are). 0, the default, is no bound.
	MaxConnections int `yaml:"max_connections,omitempty" json:"max_connections,omitempty"`
	// PoolTimeout bounds the wait for a free connection when
	// max_connections are all in use. Default "1s"; only with
	// max_connections.
	PoolTimeout Duration `yaml:"pool_timeout,omitempty" json:"pool_timeout,omitempty"`
	// Mock tunes the built-in mock provider; allowed only with type mock.
	Mock *Mock `yaml:"mock,omitempty" json:"mock,omitempty"`
	// HealthCheck turns on an active check of the provider, off when
	// absent; see HealthCheck.
	HealthCheck *HealthCheck `yaml:"health_check,omitempty" json:"health_check,omitempty"`
	// TLS sets a private CA and a client certificate for an https://
	// base_url (mutual TLS to an internal model server); the files are
	// read when the configuration is compiled, at start and on every
	// reload.
	TLS *UpstreamTLS `yaml:"tls,omitempty" json:"tls,omitempty"`
	// SecretRefs is not read from the file: loading sets it to the
	// reference each secret field of the provider held ("api_key",
	// "headers.X-Key" -> "vault:kv/llm#key"), read with SecretRef.
	SecretRefs map[string]string `yaml:"-" json:"-"`
}

// Entra is a Microsoft Entra ID application whose client secret gets the
// bearer tokens of an azure_openai provider, for the scope
// https://cognitiveservices.azure.com/.default. The application needs the
// Cognitive Services OpenAI User role on the resource.
type Entra struct {
	// TenantID is the directory (tenant) id. Required.
	TenantID Secret `yaml:"tenant_id" json:"tenant_id"`
	// ClientID is the application (client) id. Required.
	ClientID Secret `yaml:"client_id" json:"client_id"`
	// ClientSecret is the application's client secret. Required.
	ClientSecret Secret `yaml:"client_secret" json:"client_secret"`
	// AuthorityHost is the Entra authority of a sovereign cloud, such as
	// "https://login.microsoftonline.us/"; default the public cloud's,
	// https://login.microsoftonline.com/.
	AuthorityHost string `yaml:"authority_host,omitempty" json:"authority_host,omitempty"`
}

// Vertex is where a vertex provider's models are served and how it gets its
// access tokens (scope https://www.googleapis.com/auth/cloud-platform).
// Models whose id starts with "claude" are Anthropic's, "endpoints/{id}"
// names a tuned model's endpoint, other ids are Google's.
type Vertex struct {
	// Project is the Google Cloud project id. Required.
	Project string `yaml:"project" json:"project"`
	// Location is a region ("us-central1"), a multi-region ("us", "eu")
	// or "global", which picks the host: aiplatform.googleapis.com for
	// global, aiplatform.{us,eu}.rep.googleapis.com, or
	// {location}-aiplatform.googleapis.com. Default "global", as in the
	// Google Gen AI SDK.
	Location string `yaml:"location,omitempty" json:"location,omitempty"`
	// Credentials is the JSON of a service account key file (type
	// service_account) or of gcloud's user credentials (authorized_user).
	// At most one of credentials and credentials_file; with neither,
	// Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS,
	// gcloud's file, the metadata server).
	Credentials Secret `yaml:"credentials,omitempty" json:"credentials,omitempty"`
	// CredentialsFile is the path of such a file, read when the
	// configuration is compiled (at start and on every reload).
	CredentialsFile string `yaml:"credentials_file,omitempty" json:"credentials_file,omitempty"`
}

// Mock tunes the built-in mock provider, which answers with the text of the
// last user message, streamed word by word.
type Mock struct {
	// Latency is the delay before the response starts. Default "0s".
	Latency Duration `yaml:"latency,omitempty" json:"latency,omitempty"`
	// TimeToFirstToken is the further delay before the first token.
	TimeToFirstToken Duration `yaml:"time_to_first_token,omitempty" json:"time_to_first_token,omitempty"`
	// TokensPerSecond is the streaming rate; 0 means as fast as possible.
	TokensPerSecond float64 `yaml:"tokens_per_second,omitempty" json:"tokens_per_second,omitempty"`
	// ErrorRate is the fraction of requests, from 0 to 1, answered with an
	// upstream error.
	ErrorRate float64 `yaml:"error_rate,omitempty" json:"error_rate,omitempty"`
	// Seed seeds the random choice of failing requests, for reproducible
	// runs.
	Seed int64 `yaml:"seed,omitempty" json:"seed,omitempty"`
}

// Model is a model name clients may send, and where requests for it go.
type Model struct {
	// Name is what clients send as "model". Required, unique. A name ending
	// in "/*" (such as "openai/*") is a wildcard: "openai/<anything>" is
	// routed to upstream model <anything>, and its targets use model "*".
	Name string `yaml:"name" json:"name"`
	// Targets are the upstream deployments serving this model, balanced by
	// weight and retried or failed over on 429, 5xx and timeouts. At least
	// one target must have a weight above 0.
	Targets []Target `yaml:"targets" json:"targets"`
	// Fallbacks are other model names, tried in order when every target
	// has failed.
	Fallbacks []string `yaml:"fallbacks,omitempty" json:"fallbacks,omitempty"`
	// ContextWindowFallbacks are other model names, tried in order instead
	// of Fallbacks when a target answers that the request exceeds its
	// context window (usually models with a larger one).
	ContextWindowFallbacks []string `yaml:"context_window_fallbacks,omitempty" json:"context_window_fallbacks,omitempty"`
	// ContentPolicyFallbacks are other model names, tried in order instead
	// of Fallbacks when a target rejects the request under its content
	// policy.
	ContentPolicyFallbacks []string `yaml:"content_policy_fallbacks,omitempty" json:"content_policy_fallbacks,omitempty"`
	// Balancing chooses how requests are spread over the targets: weighted
	// (random by weight, the default), round_robin (in turn, by weight),
	// least_inflight (fewest requests in progress per unit of weight) or
	// latency (lowest moving average of time to first token, with a share
	// of requests exploring the others so a recovered target is noticed).
	Balancing string `yaml:"balancing" json:"balancing"`
	// Retry bounds the attempts made for one request on this model's
	// targets and the backoff between them.
	Retry Retry `yaml:"retry" json:"retry"`
	// Timeouts bound each attempt on this model's targets; a target's own
	// timeouts override them field by field.
	Timeouts Timeouts `yaml:"timeouts" json:"timeouts"`
	// Breaker configures the circuit breaker kept for each target.
	Breaker Breaker `yaml:"breaker" json:"breaker"`
	// AllOpenWait is how long a request waits for the first target to
	// recover when every target's breaker is open, before answering 503
	// upstream_unavailable. Default "2s".
	AllOpenWait Duration `yaml:"all_open_wait" json:"all_open_wait"`
	// Limits caps the requests to this model, whoever sends them.
	Limits *Limits `yaml:"limits,omitempty" json:"limits,omitempty"`
	// CostFallback names another configured model that serves a request
	// in this model's stead when the request's estimated cost here is
	// above its cost cap (x-llmgw-max-cost-usd, or its key's max_cost_usd)
	// and its estimated cost there is not, provided the caller's key may
	// use it; that model's own cost_fallback is tried next, and so on.
	// Absent: such a request is refused (400 cost_cap_exceeded). It must
	// name a configured model other than this one, and the chain of
	// cost fallbacks must not loop.
	CostFallback string `yaml:"cost_fallback,omitempty" json:"cost_fallback,omitempty"`
	// Routes are routing rules, evaluated in order, that send some of the
	// model's requests (by header, key label or tenant, or a sticky share
	// of them) to targets of their own: A/B tests and canaries. At most 32.
	Routes []Route `yaml:"routes,omitempty" json:"routes,omitempty"`
}

// Target is one upstream deployment serving a model.
type Target struct {
	// Provider is the name of a configured provider. Required.
	Provider string `yaml:"provider" json:"provider"`
	// Model is the upstream's own model id; "*" in wildcard models.
	// Required.
	Model string `yaml:"model" json:"model"`
	// Weight is the target's share of traffic relative to its siblings.
	// Default 1; 0 takes the target out of rotation.
	Weight int `yaml:"weight" json:"weight"`
	// Timeouts override the model's timeouts for this target; a zero field
	// keeps the model's.
	Timeouts Timeouts `yaml:"timeouts,omitempty" json:"timeouts,omitzero"`
	// Limits caps the requests sent to this target (the provider account's
	// own quota): a target at its limit is skipped like one cooling down,
	// and when every target is, the model's fallbacks are tried, else the
	// client gets 429 rate_limit_exceeded.
	Limits *Limits `yaml:"limits,omitempty" json:"limits,omitempty"`
}

// Key is a static virtual key.
type Key struct {
	// Name identifies the key in logs, usage and the admin API. Required,
	// unique.
	Name string `yaml:"name" json:"name"`
	// Key is the plaintext key clients send. It appears only here; the
	// gateway stores and compares it hashed. Required, unique.
	Key Secret `yaml:"key" json:"key"`
	// Tenant is the tenant the key's usage and budgets are counted against.
	Tenant string `yaml:"tenant,omitempty" json:"tenant,omitempty"`
	// Models are the model names the key may use (a wildcard model's
	// expansions, such as "openai/gpt-4o", included; naming the wildcard
	// "openai/*" itself allows all of them). Absent means all models; an
	// empty list, models: [], means none (the key authenticates but may
	// call no model, and GET /v1/models lists nothing). A null is refused
	// as ambiguous.
	Models AllowList `yaml:"models,omitempty" json:"models,omitzero"`
	// Limits caps the key's request and token rates. Absent means no limit.
	Limits *Limits `yaml:"limits,omitempty" json:"limits,omitempty"`
	// Budget caps the key's spending. Absent means no budget.
	Budget *Budget `yaml:"budget,omitempty" json:"budget,omitempty"`
	// MaxCostUSD caps the estimated cost of each of the key's requests, in
	// US dollars: a request whose prompt and largest answer, priced at
	// the most expensive target or fallback that may serve it, cost more
	// is refused before any upstream call (400 cost_cap_exceeded), or
	// sent to its model's cost_fallback. A request's x-llmgw-max-cost-usd
	// header may lower the cap, never raise it. With a cap, models
	// without a price are refused, their cost cannot be estimated. Above
	// 0 and at most 9,000,000. Absent means no cap.
	MaxCostUSD *float64 `yaml:"max_cost_usd,omitempty" json:"max_cost_usd,omitempty"`
}

// Budget caps spending: at most USD US dollars per Period.
type Budget struct {
	// USD is the limit in US dollars, above 0 and at most 9,000,000
	// (counted in picodollars, to the picodollar).
	USD float64 `yaml:"usd" json:"usd"`
	// Period is daily, weekly, monthly (calendar periods in UTC) or total
	// (never starts over).
	Period string `yaml:"period" json:"period"`
}

// MaxBudgetUSD is the largest budget: what an int64 of picodollars holds,
// rounded down.
const MaxBudgetUSD = 9_000_000

// Pico returns the budget's limit in picodollars.
func (b *Budget) Pico() int64 {
	return int64(math.Round(b.USD * 1e12))
}

// Limits caps request and token rates. A zero field means no limit.
type Limits struct {
	// RPM is the maximum number of requests per minute.
	RPM int64 `yaml:"rpm,omitempty" json:"rpm,omitempty"`
	// TPM is the maximum number of tokens (prompt plus completion) per
	// minute. A request reserves its prompt plus its max_tokens (4096 when
	// absent) before it is sent, reconciled with its real usage after.
	TPM int64 `yaml:"tpm,omitempty" json:"tpm,omitempty"`
	// Concurrent is the maximum number of requests in flight at once.
	Concurrent int64 `yaml:"concurrent,omitempty" json:"concurrent,omitempty"`
}

// Provider types: the values Provider.Type may take.
const (
	TypeOpenAI           = "openai"
	TypeAzureOpenAI      = "azure_openai"
	TypeAnthropic        = "anthropic"
	TypeGemini           = "gemini"
	TypeVertex           = "vertex"
	TypeBedrock          = "bedrock"
	TypeMistral          = "mistral"
	TypeCohere           = "cohere"
	TypeOllama           = "ollama"
	TypeVLLM             = "vllm"
	TypeOpenAICompatible = "openai_compatible"
	TypeMock             = "mock"
)

// servedTypes are the provider types this version can serve. A type joins
// the list with its adapter, so that validation reports every other one in
// the same run as any other problem.
var servedTypes = []string{TypeOpenAI, TypeAzureOpenAI, TypeAnthropic, TypeGemini, TypeVertex, TypeMistral, TypeCohere, TypeOllama, TypeVLLM, TypeOpenAICompatible, TypeMock,
	TypeBedrock,
}

// ProviderTypes returns every valid Provider.Type, in documentation order.
func ProviderTypes() []string {
	return []string{
		TypeOpenAI, TypeAzureOpenAI, TypeAnthropic, TypeGemini, TypeVertex,
		TypeBedrock, TypeMistral, TypeCohere, TypeOllama, TypeVLLM,
		TypeOpenAICompatible, TypeMock,
	}
}

// AccessLogEnabled reports whether the access log is on (the default).
func (s *Server) AccessLogEnabled() bool {
	return s.AccessLog == nil || *s.AccessLog
}

// AccessLogEnabled reports whether the access log is on (the default).
func (c *Config) AccessLogEnabled() bool {
	return c.Server.AccessLogEnabled()
}

// Level returns LogLevel as a slog.Level; an empty or unknown level is Info.
func (s *Server) Level() slog.Level {
	switch s.LogLevel {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// Wildcard reports whether the model name is a wildcard such as "openai/*",
// and returns its prefix ("openai/").
func (m *Model) Wildcard() (prefix string, ok bool) {
	if p, found := strings.CutSuffix(m.Name, "/*"); found && p != "" && !strings.Contains(p, "*") {
		return p + "/", true
	}
	return "", false
}

// Match reports whether a model name sent by a client is served by m. For a
// wildcard model it returns the upstream model to ask for in place of the
// targets' "*": "openai/gpt-4o" matched by "openai/*" gives "gpt-4o". For
// any other model it returns "" and the targets' own models apply. A name
// shaped like a pattern ("openai/*", "openai/x/*") is not a name clients
// can send; internal/router matches by the same rule.
func (m *Model) Match(name string) (rest string, ok bool) {
	prefix, wild := m.Wildcard()
	if !wild {
		return "", name == m.Name
	}
	rest, found := strings.CutPrefix(name, prefix)
	if !found || rest == "" || strings.HasSuffix(name, "/*") {
		return "", false
	}
	return rest, true
}

// Redacted returns a deep copy of c with every non-empty secret replaced by
// "[redacted]", safe to log or show.
func (c *Config) Redacted() *Config {
	out := c.clone()
	out.Server.AdminToken = out.Server.AdminToken.redacted()
	out.Server.MetricsToken = out.Server.MetricsToken.redacted()
	out.Server.Secret = out.Server.Secret.redacted()
	for i := range out.Server.AdminTokens {
		out.Server.AdminTokens[i].Token = out.Server.AdminTokens[i].Token.redacted()
	}
	out.Storage.DSN = out.Storage.DSN.redacted()
	out.Redis.URL = out.Redis.URL.redacted()
	out.Alerts.Webhook.URL = out.Alerts.Webhook.URL.redacted()
	out.Alerts.Webhook.Secret = out.Alerts.Webhook.Secret.redacted()
	for i := range out.Providers {
		p := &out.Providers[i]
		p.APIKey = p.APIKey.redacted()
		p.Bedrock = redactedBedrock(p.Bedrock)
		for k, v := range p.Headers {
			p.Headers[k] = v.redacted()
		}
		if p.Vertex != nil {
			p.Vertex.Credentials = p.Vertex.Credentials.redacted()
		}
	}
	for i := range out.Keys {
		out.Keys[i].Key = out.Keys[i].Key.redacted()
	}
	out.Tracing = out.Tracing.redacted()
	if v := out.Secrets.Vault; v != nil {
		vc := *v
		vc.Auth.Token = vc.Auth.Token.redacted()
		vc.Auth.SecretID = vc.Auth.SecretID.redacted()
		out.Secrets.Vault = &vc
	}
	return out
}

// clone returns a deep copy of c.
func (c *Config) clone() *Config {
	out := *c
	out.Server.AllowedHosts = cloneSlice(c.Server.AllowedHosts)
	out.Server.CORS.AllowedOrigins = cloneSlice(c.Server.CORS.AllowedOrigins)
	out.Server.AdminTokens = cloneSlice(c.Server.AdminTokens)
	if c.Server.AccessLog != nil {
		v := *c.Server.AccessLog
		out.Server.AccessLog = &v
	}
	out.Providers = cloneSlice(c.Providers)
	for i := range out.Providers {
		p := &out.Providers[i]
		if p.Headers != nil {
			h := make(map[string]Secret, len(p.Headers))
			for k, v := range p.Headers {
				h[k] = v
			}
			p.Headers = h
		}
		if p.Mock != nil {
			m := *p.Mock
			p.Mock = &m
		}
		if p.HealthCheck != nil {
			h := *p.HealthCheck
			p.HealthCheck = &h
		}
		if p.Entra != nil {
			e := *p.Entra
			p.Entra = &e
		}
		if p.Vertex != nil {
			v := *p.Vertex
			p.Vertex = &v
		}
		if p.Bedrock != nil {
			b := *p.Bedrock
			p.Bedrock = &b
		}
	}
	out.Models = cloneSlice(c.Models)
	for i := range out.Models {
		m := &out.Models[i]
		m.Targets = cloneSlice(m.Targets)
		m.Fallbacks = cloneSlice(m.Fallbacks)
		m.ContextWindowFallbacks = cloneSlice(m.ContextWindowFallbacks)
		m.ContentPolicyFallbacks = cloneSlice(m.ContentPolicyFallbacks)
		m.Limits = cloneLimits(m.Limits)
		m.Routes = cloneRoutes(m.Routes)
		for j := range m.Targets {
			m.Targets[j].Limits = cloneLimits(m.Targets[j].Limits)
		}
	}
	out.Auth = c.Auth.clone()
	out.Logging.Payloads.Tenants = cloneSlice(c.Logging.Payloads.Tenants)
	out.Alerts.BudgetThresholds = cloneSlice(c.Alerts.BudgetThresholds)
	out.Pricing = cloneSlice(c.Pricing)
	for i := range out.Pricing {
		out.Pricing[i] = out.Pricing[i].clone()
	}
	out.Keys = cloneSlice(c.Keys)
	for i := range out.Keys {
		k := &out.Keys[i]
		k.Models = cloneSlice(k.Models)
		k.Limits = cloneLimits(k.Limits)
		if k.Budget != nil {
			b := *k.Budget
			k.Budget = &b
		}
	}
	return &out
}

// cloneSlice copies s, keeping nil as nil.
func cloneSlice[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append(make([]T, 0, len(s)), s...)
}

func cloneLimits(l *Limits) *Limits {
	if l == nil {
		return nil
	}
	c := *l
	return &c
}
