package gateway

import (
	"context"
	"errors"
	"log/slog"

	"github.com/redis/go-redis/v9"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/health"
	"github.com/llmgw/llmgw/internal/identity"
	"github.com/llmgw/llmgw/internal/observe"
	"github.com/llmgw/llmgw/internal/provider"
)

// Dependencies returns what readiness asks of the process's state: the
// store, through the key directory (required: see docs/health.md), and
// Redis when redis.url is set (required when redis.on_failure is closed,
// since limited and keyed requests are then refused while it is down).
// Redis is asked with a connection of its own, so that a probe neither
// waits behind nor trips the limiter's breaker. Close releases it.
func Dependencies(cfg *config.Config, dir *identity.Directory) ([]health.Dependency, func() error, error) {
	var deps []health.Dependency
	if dir != nil {
		deps = append(deps, health.Dependency{Name: "store", Required: true, Probe: dir.Ping,
			Detail: map[string]any{"driver": cfg.Storage.Driver}})
	}
	raw := cfg.Redis.URL.Value()
	if raw == "" {
		return deps, func() error { return nil }, nil
	}
	o, err := redis.ParseURL(raw)
	if err != nil {
		// The parser's message may quote the URL, and with it a password.
		return nil, nil, errors.New("redis.url: not a valid Redis URL")
	}
	// A small pool, one dial per ping: a probe fails fast, within the
	// readiness timeout.
	o.PoolSize, o.MinIdleConns, o.MaxRetries, o.DialerRetries = 2, 0, -1, 1
	client := redis.NewClient(o)
	uses := []string{"limits"}
	if cfg.Idempotency.On() {
		uses = append(uses, "idempotency")
	}
	onFailure := cfg.Redis.OnFailure
	if onFailure == "" {
		onFailure = config.RedisFailOpen
	}
	deps = append(deps, health.Dependency{
		Name: "redis", Required: onFailure == config.RedisFailClosed,
		Probe:  func(ctx context.Context) error { return client.Ping(ctx).Err() },
		Detail: map[string]any{"on_failure": onFailure, "uses": uses},
	})
	return deps, client.Close, nil
}

// NewChecker returns the process's checker of providers (package health),
// not started, reading the probes of the snapshot current returns at each
// round and feeding that snapshot's router.
func NewChecker(current func() *Snapshot, metrics *observe.Registry, log *slog.Logger) *health.Checker {
	return health.NewChecker(health.CheckerOptions{
		Probes: func() []health.Probe {
			if s := current(); s != nil {
				return Probes(s)
			}
			return nil
		},
		Observe: func(name string, err error) {
			if s := current(); s != nil {
				s.Router.ObserveCheck(name, err)
			}
		},
		Metrics: metrics,
		Logger:  log,
	})
}

// Probes returns the active checks snap's configuration asks for:
// providers[].health_check of providers with a check request
// (provider.Checker), which validation ensures of every type it accepts.
func Probes(snap *Snapshot) []health.Probe {
	var out []health.Probe
	for _, pc := range snap.Config.Providers {
		hc := pc.HealthCheck
		if hc == nil {
			continue
		}
		c, ok := snap.Providers[pc.Name].(provider.Checker)
		if !ok {
			continue
		}
		out = append(out, health.Probe{Provider: pc.Name, Check: c.Check, Interval: hc.Interval.Std(), Timeout: hc.Timeout.Std()})
	}
	return out
}
