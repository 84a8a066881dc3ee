package gateway

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/llmgw/llmgw/internal/admin"
	"github.com/llmgw/llmgw/internal/alert"
	"github.com/llmgw/llmgw/internal/auth"
	"github.com/llmgw/llmgw/internal/catalog"
	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/idempotency"
	"github.com/llmgw/llmgw/internal/identity"
	"github.com/llmgw/llmgw/internal/limits"
	"github.com/llmgw/llmgw/internal/observe"
	"github.com/llmgw/llmgw/internal/observe/tracing"
	"github.com/llmgw/llmgw/internal/router"
	"github.com/llmgw/llmgw/internal/store"
)

// Options are what a snapshot takes from the process rather than from the
// configuration: things that outlive snapshots.
type Options struct {
	// Metrics is the process's metrics registry, created once; nil gives
	// the snapshot a registry of its own (tests, validation).
	Metrics *observe.Registry
	// UpstreamTransport, when set, replaces the network transport of every
	// upstream client: benchmarks and tests serve upstreams from memory.
	UpstreamTransport http.RoundTripper
	// Logger is the process's logger, to which the router reports each
	// failed upstream attempt; nil logs nothing.
	Logger *slog.Logger
	// ModelLists is the process's cache of upstream model lists, created
	// once and closed on shutdown; nil gives the snapshot a cache of its
	// own (tests, validation).
	ModelLists *catalog.Cache
	// JWT is the process's JWT key sets, created once and closed on
	// shutdown; nil gives the snapshot a set of its own (tests,
	// validation), which fetches nothing until a token arrives.
	JWT *auth.Verifiers
	// Directory resolves the keys kept in the store, created once after
	// the store and closed on shutdown before it; nil: no store (tests,
	// validation), only the configuration's keys exist.
	Directory *identity.Directory
	// Admin is the process state of the admin API: the store, the key
	// directory, the hasher and the audit log. Its zero value serves only
	// the routing routes, to the configured tokens.
	Admin admin.Backend
	// Ledger is the process's usage ledger writer, opened once and closed
	// after the drain; nil records no usage (tests, validation).
	Ledger interface{ Add(store.UsageRecord) }
	// Limiter holds the rate limit counts, created once (OpenLimiter) and
	// closed on shutdown, so that counts survive a new snapshot; nil gives
	// the snapshot an in-memory limiter of its own (tests, validation).
	Limiter limits.Limiter
	// Alerts sends budget alerts to the configured webhook, created once
	// (OpenAlerts) and closed on shutdown before the store; nil sends
	// none.
	Alerts *alert.Sender
	// Responses keeps the Responses API's stored responses, in the
	// process's store; nil stores none (tests, validation): a request
	// then cannot continue a response, and none can be read.
	Responses store.Responses
	// Idempotency runs requests that carry an Idempotency-Key, created
	// once (OpenIdempotency) with its flights and its results in memory or
	// Redis; nil gives the snapshot an in-memory store of its own (tests,
	// validation).
	Idempotency *idempotency.Store
	// Tracer is the process's tracer provider (package observe/tracing),
	// built once from the tracing section and shut down after the drain;
	// nil is tracing off.
	Tracer *tracing.Tracer
	// Health keeps the health of the upstream targets (breakers, latency
	// averages, headroom) across snapshots, created once
	// (router.NewHealth): a target a new configuration keeps keeps its
	// health; nil gives each snapshot's router its own (tests,
	// validation).
	Health *router.Health
	// Clients keeps the upstream HTTP clients and their connections
	// across snapshots, created once (NewClients) and closed on shutdown;
	// nil gives each snapshot clients of its own (tests, validation).
	Clients *Clients
	// Now is the router's clock (breakers, cooldowns, headroom); nil is
	// time.Now. Tests move it by hand.
	Now func() time.Time
}

// limitOf converts configured limits; nil limits nothing.
func limitOf(l *config.Limits) limits.Limit {
	if l == nil {
		return limits.Limit{}
	}
	return limits.Limit{RPM: l.RPM, TPM: l.TPM, Concurrent: l.Concurrent}
}

// routerModel converts a configured model's routing settings; its targets
// are added by the caller as their providers are found.
func routerModel(m *config.Model) router.Model {
	bal, _ := router.ParseBalancing(m.Balancing) // validated
	b := m.Breaker
	return router.Model{
		Name:                   m.Name,
		Fallbacks:              m.Fallbacks,
		ContextWindowFallbacks: m.ContextWindowFallbacks,
		ContentPolicyFallbacks: m.ContentPolicyFallbacks,
		Balancing:              bal,
		Retry: router.Retry{
			MaxAttempts:   m.Retry.MaxAttempts,
			BaseBackoff:   m.Retry.BaseBackoff.Std(),
			MaxBackoff:    m.Retry.MaxBackoff.Std(),
			MaxRetryAfter: m.Retry.MaxRetryAfter.Std(),
		},
		Timeouts: routerTimeouts(m.Timeouts),
		Breaker: router.BreakerPolicy{
			ConsecutiveFailures: b.ConsecutiveFailures,
			ErrorRate:           b.ErrorRate,
			Window:              b.Window.Std(),
			MinRequests:         b.MinRequests,
			Cooldown:            b.Cooldown.Std(),
			HalfOpenProbes:      b.HalfOpenProbes,
		},
		AllOpenWait: m.AllOpenWait.Std(),
	}
}

func routerTimeouts(t config.Timeouts) router.Timeouts {
	return router.Timeouts{FirstToken: t.FirstToken.Std(), StreamIdle: t.StreamIdle.Std(), Total: t.Total.Std()}
}
