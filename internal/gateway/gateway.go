package gateway

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/llmgw/llmgw/internal/admin"
	"github.com/llmgw/llmgw/internal/alert"
	"github.com/llmgw/llmgw/internal/auth"
	"github.com/llmgw/llmgw/internal/budget"
	"github.com/llmgw/llmgw/internal/catalog"
	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/idempotency"
	"github.com/llmgw/llmgw/internal/identity"
	"github.com/llmgw/llmgw/internal/limits"
	"github.com/llmgw/llmgw/internal/observe"
	"github.com/llmgw/llmgw/internal/observe/tracing"
	"github.com/llmgw/llmgw/internal/payloadlog"
	"github.com/llmgw/llmgw/internal/pipeline"
	"github.com/llmgw/llmgw/internal/pricing"
	"github.com/llmgw/llmgw/internal/provider"
	"github.com/llmgw/llmgw/internal/provider/anthropic"
	"github.com/llmgw/llmgw/internal/provider/azure"
	"github.com/llmgw/llmgw/internal/provider/cohere"
	"github.com/llmgw/llmgw/internal/provider/gemini"
	"github.com/llmgw/llmgw/internal/provider/mistral"
	"github.com/llmgw/llmgw/internal/provider/mock"
	"github.com/llmgw/llmgw/internal/provider/ollama"
	"github.com/llmgw/llmgw/internal/provider/openai"
	"github.com/llmgw/llmgw/internal/ratelimit"
	"github.com/llmgw/llmgw/internal/router"
	"github.com/llmgw/llmgw/internal/store"
)

// Snapshot is the compiled, immutable runtime form of one configuration.
type Snapshot struct {
	// Config is the configuration the snapshot was compiled from, with its
	// secrets redacted: the keys and tokens live on only in hashed form (in
	// Keys and Admin) and inside the providers that send them.
	Config *config.Config
	// Router resolves model names to targets.
	Router *router.Router
	// Keys are the static virtual keys.
	Keys *auth.Keys
	// JWT verifies bearer JWTs of the configured issuers; nil when none
	// is configured. Its key sets belong to the process (Options.JWT).
	JWT *auth.JWT
	// ClientCerts maps verified client certificates' subjects to callers
	// (server.tls.client_identities); empty when none.
	ClientCerts *auth.Certs
	// Directory resolves the keys of the store; it belongs to the process
	// (Options.Directory), nil when there is no store.
	Directory *identity.Directory
	// Invoke is the pipeline chain, built once.
	Invoke pipeline.Invoke
	// Providers are the providers by name.
	Providers map[string]provider.Provider
	// Created is when the snapshot was compiled, in Unix seconds.
	Created int64
	// Metrics is the registry the snapshot's metrics are in, the same for
	// every snapshot of a process.
	Metrics *observe.Registry
	// Admin is the admin API, which holds the admin token hashed.
	Admin *admin.API
	// Ledger receives one usage record per request (ledger.Writer); nil
	// records nothing. It belongs to the process (Options.Ledger).
	Ledger interface{ Add(store.UsageRecord) }
	// Alerts sends budget alerts; nil sends none. It belongs to the
	// process (Options.Alerts).
	Alerts *alert.Sender
	// Pricer prices a request's usage: the built-in table with the
	// configuration's pricing section over it.
	Pricer *pricing.Pricer
	// AuthFailures counts failed authentications on the data plane into
	// the audit log, aggregated (audit.Log.AuthFailure); nil when there is
	// no audit log.
	AuthFailures func(source, keyPrefix string)
	// MetricsToken is the SHA-256 of server.metrics_token, nil when none
	// is set.
	MetricsToken []byte
	// Responses keeps the Responses API's stored responses; it belongs to
	// the process (Options.Responses), nil when there is no store.
	Responses store.Responses
	// Models lists the models a caller may use, wildcard models expanded
	// from their upstreams' lists; the same cache for every snapshot of a
	// process.
	Models *catalog.Cache
	// Idempotency runs the requests that carry an Idempotency-Key; nil
	// when idempotency.enabled is false. It belongs to the process
	// (Options.Idempotency).
	Idempotency *idempotency.Store
	// Payloads says whose request and response bodies are logged, and
	// redacts them (logging.payloads); nil when no tenant's are.
	Payloads *payloadlog.Policy
	// Tracer starts the spans of requests and upstream attempts; nil
	// when tracing is off. It belongs to the process (Options.Tracer).
	Tracer *tracing.Tracer

	// clients and clientKeys are the process's upstream clients and the
	// ones the snapshot uses, for Activate; clients is nil without
	// Options.Clients.
	clients    *Clients
	clientKeys map[string]bool
	// pools are the providers' upstream clients by provider name, whose
	// connection pools Close retires when there is no Clients to retire
	// them on activation.
	pools map[string]*http.Client
}

// Activate makes the snapshot the one in force once it serves: the
// router's health forgets the targets it no longer has (router.Activate)
// and the upstream clients it does not use are retired (Clients.Retain).
// Requests still running on an older snapshot finish on what they hold.
func (s *Snapshot) Activate() {
	s.Router.Activate()
	if s.clients != nil {
		s.clients.Retain(s.clientKeys)
	}
}

// Compile builds the snapshot of cfg, which must have been validated. Every
// problem found is reported, joined, with its config path.
func Compile(cfg *config.Config, opts Options) (*Snapshot, error) {
	var errs []error
	providers := make(map[string]provider.Provider, len(cfg.Providers))
	identities := make(map[string]string, len(cfg.Providers))
	clientKeys := make(map[string]bool)
	failed := make(map[string]bool)
	clients := make(map[string]*http.Client, len(cfg.Providers))
	for i := range cfg.Providers {
		identities[cfg.Providers[i].Name] = providerIdentity(&cfg.Providers[i])
		p, client, err := newProvider(&cfg.Providers[i], cfg.Server.StreamIdleTimeout.Std(), &opts, clientKeys)
		if err != nil {
			errs = append(errs, fmt.Errorf("providers[%d]%w", i, err))
			failed[cfg.Providers[i].Name] = true
			continue
		}
		providers[p.Name()] = p
		if client != nil {
			clients[p.Name()] = client
		}
	}
	models := make([]router.Model, 0, len(cfg.Models))
	for i, m := range cfg.Models {
		rm := routerModel(&cfg.Models[i])
		for j, t := range m.Targets {
			p, ok := providers[t.Provider]
			if !ok {
				if failed[t.Provider] {
					continue // reported with the provider
				}
				errs = append(errs, fmt.Errorf("models[%d].targets[%d].provider: provider %q is not available", i, j, t.Provider))
				continue
			}
			rm.Targets = append(rm.Targets, router.Target{Provider: p, Identity: identities[t.Provider], Model: t.Model, Weight: t.Weight, Timeouts: routerTimeouts(t.Timeouts), Limits: limitOf(t.Limits),
				System: tracing.ProviderName(providerType(cfg, t.Provider))})
		}
		rm.Routes, errs = routerRoutes(&cfg.Models[i], i, providers, identities, failed, cfg, errs)
		models = append(models, rm)
	}
	pricer, err := pricing.New(pricing.Builtin(), cfg)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	keys := make([]auth.Key, 0, len(cfg.Keys))
	for _, k := range cfg.Keys {
		ak := auth.Key{Name: k.Name, Secret: k.Key.Value(), Tenant: k.Tenant, Models: k.Models, Limits: limitOf(k.Limits), MaxCostPico: k.MaxCostPico()}
		if k.Budget != nil {
			ak.Budget = budget.Budget{Limit: k.Budget.Pico(), Period: budget.Period(k.Budget.Period)}
		}
		keys = append(keys, ak)
	}
	if opts.Metrics == nil {
		opts.Metrics = observe.NewRegistry()
	}
	addPools(opts.Metrics, clients)
	if opts.ModelLists == nil {
		opts.ModelLists = catalog.New(catalog.Options{Logger: opts.Logger})
	}
	if opts.JWT == nil && len(cfg.Auth.JWT.Issuers) > 0 {
		opts.JWT = auth.NewVerifiers(auth.VerifierOptions{Logger: opts.Logger})
	}
	if opts.Limiter == nil {
		opts.Limiter = limits.WithBudgets(limits.NewMemory(nil), budget.NewMemory(nil, 0))
	}
	r := router.New(models, router.Options{Metrics: opts.Metrics, Logger: opts.Logger, Limiter: opts.Limiter, Health: opts.Health, Tracer: opts.Tracer.Tracer(), Now: opts.Now})
	modelLimits := make(map[string]limits.Limit, len(cfg.Models))
	targetTokens := make(map[string]bool)
	for i := range cfg.Models {
		m := &cfg.Models[i]
		if l := limitOf(m.Limits); !l.IsZero() {
			modelLimits[m.Name] = l
		}
		for _, t := range m.Targets {
			if t.Limits != nil && t.Limits.TPM > 0 {
				targetTokens[m.Name] = true
			}
		}
		if routesCountTokens(m) {
			targetTokens[m.Name] = true
		}
	}
	providerTypes := make(map[string]string, len(cfg.Providers))
	for i := range cfg.Providers {
		providerTypes[cfg.Providers[i].Name] = cfg.Providers[i].Type
	}
	target := func(model string) (string, string, bool) {
		p, upstream, ok := r.Target(model)
		if !ok {
			return "", "", false
		}
		return providerTypes[p.Name()], upstream, true
	}
	limitStage := ratelimit.New(ratelimit.Options{
		Limiter:      opts.Limiter,
		Models:       modelLimits,
		TargetTokens: targetTokens,
		Target:       target,
		Estimate:     estimator(r, pricer),
		Exhausted:    exhausted(opts.Alerts),
	})
	var metricsToken []byte
	if t := cfg.Server.MetricsToken.Value(); t != "" {
		sum := sha256.Sum256([]byte(t))
		metricsToken = sum[:]
	}
	return &Snapshot{
		MetricsToken: metricsToken,
		Config:       cfg.Redacted(),
		Admin:        admin.New(adminOptions(cfg, r, opts.Admin)),
		Router:       r,
		Keys:         auth.NewKeys(keys),
		JWT:          opts.JWT.JWT(jwtIssuers(cfg.Auth.JWT.Issuers)),
		ClientCerts:  clientCerts(cfg),
		Directory:    opts.Directory,
		Pricer:       pricer,
		Ledger:       opts.Ledger,
		Alerts:       opts.Alerts,
		AuthFailures: authFailures(opts.Admin.Audit),
		Invoke:       pipeline.Build(r.Invoke, pipeline.Stages{Access: auth.Access(), CostCap: costCapStage(cfg, r, pricer, target), Limits: limitStage}),
		Providers:    providers,
		Created:      time.Now().Unix(),
		Metrics:      opts.Metrics,
		Models:       opts.ModelLists,
		Responses:    opts.Responses,
		Idempotency:  idempotencyStore(cfg, opts.Idempotency),
		Payloads:     payloadlog.New(cfg),
		Tracer:       opts.Tracer,
		clients:      opts.Clients,
		clientKeys:   clientKeys,
		pools:        clients,
	}, nil
}

// providerType returns the type of the provider named name.
func providerType(cfg *config.Config, name string) string {
	for i := range cfg.Providers {
		if cfg.Providers[i].Name == name {
			return cfg.Providers[i].Type
		}
	}
	return ""
}

// newProvider builds pc's provider; the key of the upstream client it
// takes from opts.Clients goes into used; it returns that client too
// (nil for the mock, which has none).
func newProvider(pc *config.Provider, streamIdle time.Duration, opts *Options, used map[string]bool) (provider.Provider, *http.Client, error) {
	if pc.Type == config.TypeMock {
		var o mock.Options
		if m := pc.Mock; m != nil {
			o = mock.Options{
				Latency:          m.Latency.Std(),
				TimeToFirstToken: m.TimeToFirstToken.Std(),
				TokensPerSecond:  m.TokensPerSecond,
				ErrorRate:        m.ErrorRate,
				Seed:             m.Seed,
			}
		}
		return mock.New(pc.Name, o), nil, nil
	}
	headers := make(map[string]string, len(pc.Headers))
	for k, v := range pc.Headers {
		headers[k] = v.Value()
	}
	upTLS, tlsErr := upstreamTLS(pc)
	if tlsErr != nil {
		return nil, nil, tlsErr
	}
	mk := func() *http.Client {
		client := provider.NewHTTPClient(provider.ClientOptions{
			ConnectTimeout:        pc.ConnectTimeout.Std(),
			ResponseHeaderTimeout: pc.ResponseHeaderTimeout.Std(),
			MaxIdleConnsPerHost:   pc.MaxIdleConnsPerHost,
			MaxConnections:        pc.MaxConnections,
			PoolTimeout:           pc.PoolTimeout.Std(),
			TLSConfig:             upTLS,
		})
		if opts.UpstreamTransport != nil {
			client.Transport = opts.UpstreamTransport
		}
		return client
	}
	var client *http.Client
	if opts.Clients != nil && opts.UpstreamTransport == nil {
		var key string
		key, client = opts.Clients.client(pc, mk)
		used[key] = true
	} else {
		client = mk()
	}
	var p provider.Provider
	var err error
	switch pc.Type {
	case config.TypeOpenAI, config.TypeOpenAICompatible, config.TypeVLLM:
		p, err = openai.New(openai.Config{
			Name: pc.Name, Type: pc.Type, BaseURL: pc.BaseURL, APIKey: pc.APIKey.Value(),
			Headers: headers, HTTPClient: client, StreamIdleTimeout: streamIdle,
		})
	case config.TypeGemini:
		p, err = gemini.New(gemini.Config{
			Name: pc.Name, BaseURL: pc.BaseURL, APIKey: pc.APIKey.Value(),
			Headers: headers, HTTPClient: client, StreamIdleTimeout: streamIdle,
		})
	case config.TypeAzureOpenAI:
		c := azure.Config{
			Name: pc.Name, BaseURL: pc.BaseURL, APIVersion: pc.APIVersion, APIKey: pc.APIKey.Value(),
			Headers: headers, HTTPClient: client, StreamIdleTimeout: streamIdle,
		}
		if e := pc.Entra; e != nil {
			c.Entra = &azure.Entra{TenantID: e.TenantID.Value(), ClientID: e.ClientID.Value(),
				ClientSecret: e.ClientSecret.Value(), AuthorityHost: e.AuthorityHost}
		}
		p, err = azure.New(c)
	case config.TypeMistral:
		p, err = mistral.New(mistral.Config{
			Name: pc.Name, BaseURL: pc.BaseURL, APIKey: pc.APIKey.Value(),
			Headers: headers, HTTPClient: client, StreamIdleTimeout: streamIdle,
		})
	case config.TypeCohere:
		p, err = cohere.New(cohere.Config{
			Name: pc.Name, BaseURL: pc.BaseURL, APIKey: pc.APIKey.Value(),
			Headers: headers, HTTPClient: client, StreamIdleTimeout: streamIdle,
		})
	case config.TypeOllama:
		p, err = ollama.New(ollama.Config{
			Name: pc.Name, BaseURL: pc.BaseURL, APIKey: pc.APIKey.Value(),
			Headers: headers, HTTPClient: client, StreamIdleTimeout: streamIdle,
		})
	case config.TypeVertex:
		p, err = newVertex(pc, headers, client, streamIdle)
	case config.TypeAnthropic:
		p, err = anthropic.New(anthropic.Config{
			Name: pc.Name, BaseURL: pc.BaseURL, APIKey: pc.APIKey.Value(),
			Headers: headers, HTTPClient: client, StreamIdleTimeout: streamIdle,
		})
	case config.TypeBedrock:
		p, err = newBedrock(pc, headers, client, streamIdle)
	default:
		return nil, nil, fmt.Errorf(".type: provider type %q is not available in this version of llmgw", pc.Type)
	}
	if err != nil {
		return nil, nil, fmt.Errorf(": %w", err)
	}
	return p, client, nil
}

// jwtIssuers converts the configured JWT issuers.
func jwtIssuers(in []config.JWTIssuer) []auth.Issuer {
	out := make([]auth.Issuer, 0, len(in))
	for _, is := range in {
		out = append(out, auth.Issuer{
			Issuer: is.Issuer, JWKSURL: is.JWKSURL, Audiences: is.Audiences, Algorithms: is.Algorithms,
			ClockSkew: is.ClockSkew.Std(), TenantClaim: is.TenantClaim, TeamClaim: is.TeamClaim, ModelsClaim: is.ModelsClaim,
		})
	}
	return out
}

// adminOptions are the admin API's options: the configured tokens with the
// process's store, key directory and audit log.
func adminOptions(cfg *config.Config, r *router.Router, b admin.Backend) admin.Options {
	o := admin.Options{Token: cfg.Server.AdminToken.Value(), Router: r, Backend: b}
	for _, t := range cfg.Server.AdminTokens {
		o.Tokens = append(o.Tokens, admin.Token{Name: t.Name, Token: t.Token.Value(), ReadOnly: t.ReadOnly})
	}
	if t := cfg.Server.TLS; t != nil {
		for _, id := range t.AdminIdentities {
			o.Certs = append(o.Certs, admin.CertAdmin{Subject: id.Subject, Name: id.Name, ReadOnly: id.ReadOnly})
		}
	}
	return o
}

// authFailures returns the audit log's failure counter, nil without one.
func authFailures(a admin.Auditor) func(source, keyPrefix string) {
	if a == nil {
		return nil
	}
	return a.AuthFailure
}
