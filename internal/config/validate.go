package config

import (
	"maps"
	"math"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/net/http/httpguts"
)

// typesNeedingKey are the provider types that cannot authenticate without
// an api_key.
var typesNeedingKey = []string{TypeOpenAI, TypeAzureOpenAI, TypeAnthropic, TypeGemini, TypeMistral, TypeCohere}

// typesNeedingBaseURL are the provider types with no default base URL that
// the gateway could guess.
var typesNeedingBaseURL = []string{TypeOpenAICompatible, TypeAzureOpenAI}

// Validate checks the configuration and returns every problem at once
// (errors.Join), each formatted "path: message", such as
// `models[2].targets[0].provider: unknown provider "x"`. It expects
// defaults to have been applied.
func (c *Config) Validate() error {
	var p problems
	c.validate(&p)
	return p.err()
}

// validate records every problem of c in p.
func (c *Config) validate(p *problems) {
	c.Server.validate(p)
	providers := make(map[string]int, len(c.Providers))
	for i := range c.Providers {
		path := indexPath("providers", i)
		checkName(p, path, c.Providers[i].Name, "provider", providers, i)
		c.Providers[i].validate(p, path)
		c.Providers[i].validateUpstreamTLS(p, path)
	}
	models := make(map[string]int, len(c.Models))
	for i := range c.Models {
		checkName(p, indexPath("models", i), c.Models[i].Name, "model", models, i)
	}
	for i := range c.Models {
		c.validateModel(p, i, providers)
	}
	c.validateKeys(p)
	c.validateCostCaps(p)
	c.validatePricing(p, providers)
	c.Auth.validate(p)
	c.validateIdentity(p)
	c.Redis.validate(p)
	c.Alerts.validate(p)
	c.Responses.validate(p)
	c.Idempotency.validate(p, c.Redis.URL != "")
	c.Logging.validate(p)
	c.Tracing.validate(p)
	c.Secrets.validate(p)
}

// validate checks the redis section. The URL is never quoted in a
// message: it may hold a password.
func (r *Redis) validate(p *problems) {
	switch r.OnFailure {
	case "", RedisFailOpen, RedisFailClosed:
	default:
		p.add("redis.on_failure", "must be %q or %q", RedisFailOpen, RedisFailClosed)
	}
	if r.Timeout < 0 {
		p.add("redis.timeout", "must not be negative")
	}
	raw := r.URL.Value()
	if raw == "" {
		if r.OnFailure != "" || r.Timeout != 0 {
			p.add("redis.url", "required when redis.on_failure or redis.timeout is set")
		}
		return
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		p.add("redis.url", "not a valid URL")
	case u.Scheme != "redis" && u.Scheme != "rediss":
		p.add("redis.url", "must be a redis:// or rediss:// URL")
	case u.Host == "":
		p.add("redis.url", "must have a host")
	}
}

// checkName checks a required, unique name and records it in seen.
func checkName(p *problems, path, name, what string, seen map[string]int, i int) {
	path = fieldPath(path, "name")
	switch {
	case name == "":
		p.add(path, "required")
		return
	case strings.IndexFunc(name, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		p.add(path, "must not contain spaces or control characters")
	}
	if j, dup := seen[name]; dup {
		p.add(path, "duplicate %s name %q (also at index %d)", what, name, j)
		return
	}
	seen[name] = i
}

// validate checks the server settings.
func (s *Server) validate(p *problems) {
	if s.Listen == "" {
		p.add("server.listen", "required")
	} else if _, port, err := net.SplitHostPort(s.Listen); err != nil {
		p.add("server.listen", "want host:port, such as \"127.0.0.1:8080\" or \":8080\"")
	} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		p.add("server.listen", "invalid port %q", port)
	}
	if s.MaxBodyBytes <= 0 {
		p.add("server.max_body_bytes", "must be > 0")
	}
	checkDurations(p, "server", map[string]Duration{
		"shutdown_timeout":    s.ShutdownTimeout,
		"read_header_timeout": s.ReadHeaderTimeout,
		"read_timeout":        s.ReadTimeout,
		"idle_timeout":        s.IdleTimeout,
		"stream_idle_timeout": s.StreamIdleTimeout,
		"request_timeout":     s.RequestTimeout,
	})
	switch s.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		p.add("server.log_level", "unknown level %q (want debug, info, warn or error)", s.LogLevel)
	}
	switch s.UnsupportedParams {
	case UnsupportedDrop, UnsupportedRefuse:
	default:
		p.add("server.unsupported_params", "unknown value %q (want drop or refuse)", s.UnsupportedParams)
	}
	s.validateEdge(p)
	s.validateTLS(p)
	s.validateOverload(p)
}

// checkDurations reports negative durations, in name order.
func checkDurations(p *problems, path string, ds map[string]Duration) {
	for _, name := range slices.Sorted(maps.Keys(ds)) {
		if ds[name] < 0 {
			p.add(fieldPath(path, name), "must not be negative")
		}
	}
}

// validate checks one provider's own settings (its name is checked by the
// caller, which knows the others).
func (pr *Provider) validate(p *problems, path string) {
	switch {
	case pr.Type == "":
		p.add(fieldPath(path, "type"), "required (one of %s)", strings.Join(ProviderTypes(), ", "))
	case !slices.Contains(ProviderTypes(), pr.Type):
		p.add(fieldPath(path, "type"), "unknown type %q (want one of %s)", pr.Type, strings.Join(ProviderTypes(), ", "))
	case !slices.Contains(servedTypes, pr.Type):
		p.add(fieldPath(path, "type"), "provider type %q is not available in this version of llmgw (available: %s)", pr.Type, strings.Join(servedTypes, ", "))
	}
	if pr.BaseURL == "" {
		if slices.Contains(typesNeedingBaseURL, pr.Type) {
			p.add(fieldPath(path, "base_url"), "required for type %s", pr.Type)
		}
	} else if msg := checkBaseURL(pr.BaseURL); msg != "" {
		p.add(fieldPath(path, "base_url"), "%s", msg)
	}
	if pr.APIKey == "" && slices.Contains(typesNeedingKey, pr.Type) && (pr.Type != TypeAzureOpenAI || pr.Entra == nil) {
		if pr.Type == TypeAzureOpenAI {
			p.add(fieldPath(path, "api_key"), "required for type %s unless entra is set", pr.Type)
		} else {
			p.add(fieldPath(path, "api_key"), "required for type %s", pr.Type)
		}
	}
	pr.validateAzure(p, path)
	pr.validateVertex(p, path)
	pr.validateBedrock(p, path)
	for _, name := range slices.Sorted(maps.Keys(pr.Headers)) {
		v := pr.Headers[name]
		hp := fieldPath(fieldPath(path, "headers"), name)
		if !httpguts.ValidHeaderFieldName(name) {
			p.add(hp, "invalid header name")
		}
		if !httpguts.ValidHeaderFieldValue(v.Value()) {
			p.add(hp, "invalid header value (control characters or newlines)")
		}
	}
	checkDurations(p, path, map[string]Duration{
		"connect_timeout":         pr.ConnectTimeout,
		"response_header_timeout": pr.ResponseHeaderTimeout,
	})
	if pr.MaxIdleConnsPerHost < 0 {
		p.add(fieldPath(path, "max_idle_conns_per_host"), "must not be negative")
	}
	switch {
	case pr.MaxConnections < 0:
		p.add(fieldPath(path, "max_connections"), "must not be negative")
	case pr.PoolTimeout < 0:
		p.add(fieldPath(path, "pool_timeout"), "must not be negative")
	case pr.PoolTimeout > 0 && pr.MaxConnections == 0:
		p.add(fieldPath(path, "pool_timeout"), "only with max_connections: without a bound on connections, no request waits for one")
	}
	if pr.Mock != nil {
		pr.Mock.validate(p, fieldPath(path, "mock"), pr.Type)
	}
	pr.HealthCheck.validate(p, fieldPath(path, "health_check"), pr.Type)
}

// validateAzure checks the fields of type azure_openai only.
func (pr *Provider) validateAzure(p *problems, path string) {
	if pr.Type != TypeAzureOpenAI {
		if pr.APIVersion != "" {
			p.add(fieldPath(path, "api_version"), "only allowed for type %s", TypeAzureOpenAI)
		}
		if pr.Entra != nil {
			p.add(fieldPath(path, "entra"), "only allowed for type %s", TypeAzureOpenAI)
		}
		return
	}
	if v := pr.APIVersion; v != "" && !validAPIVersion(v) {
		p.add(fieldPath(path, "api_version"), "want \"v1\" or a dated version such as \"2024-10-21\" or \"2025-04-01-preview\"")
	}
	e := pr.Entra
	if e == nil {
		return
	}
	ep := fieldPath(path, "entra")
	if pr.APIKey != "" {
		p.add(ep, "set either api_key or entra, not both")
	}
	for _, f := range []struct {
		name string
		v    Secret
	}{{"tenant_id", e.TenantID}, {"client_id", e.ClientID}, {"client_secret", e.ClientSecret}} {
		if f.v == "" {
			p.add(fieldPath(ep, f.name), "required")
		}
	}
	if e.AuthorityHost != "" {
		if u, err := url.Parse(e.AuthorityHost); err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" {
			p.add(fieldPath(ep, "authority_host"), "must be an https:// URL such as \"https://login.microsoftonline.us/\"")
		}
	}
}

// validAPIVersion reports whether v is "v1" or a dated api-version:
// YYYY-MM-DD, with an optional "-preview".
func validAPIVersion(v string) bool {
	if v == "v1" {
		return true
	}
	d, _ := strings.CutSuffix(v, "-preview")
	if len(d) != 10 || d[4] != '-' || d[7] != '-' {
		return false
	}
	for i, c := range d {
		if i != 4 && i != 7 && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// checkBaseURL returns what is wrong with a base URL, or "".
func checkBaseURL(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "not a valid URL"
	case u.Scheme != "http" && u.Scheme != "https":
		return "must be an absolute http:// or https:// URL"
	case u.Host == "":
		return "must have a host"
	case u.User != nil:
		return "must not contain user info (put credentials in api_key)"
	case u.RawQuery != "" || u.ForceQuery:
		return "must not have a query"
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "must not have a fragment"
	}
	return ""
}

// validate checks the mock block of a provider of type typ.
func (m *Mock) validate(p *problems, path, typ string) {
	if typ != TypeMock {
		p.add(path, "only allowed for type mock")
	}
	checkDurations(p, path, map[string]Duration{
		"latency":             m.Latency,
		"time_to_first_token": m.TimeToFirstToken,
	})
	if !(m.TokensPerSecond >= 0) || math.IsInf(m.TokensPerSecond, 1) {
		p.add(fieldPath(path, "tokens_per_second"), "must be a finite number >= 0")
	}
	if !(m.ErrorRate >= 0 && m.ErrorRate <= 1) {
		p.add(fieldPath(path, "error_rate"), "must be between 0 and 1")
	}
}
