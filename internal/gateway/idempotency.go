package gateway

import (
	"errors"
	"log/slog"

	"github.com/redis/go-redis/v9"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/idempotency"
	"github.com/llmgw/llmgw/internal/observe"
)

// minIdempotencyTimeout is the least time a call to Redis is given for
// idempotency, whose values (responses) are larger than the limits'.
const minIdempotencyTimeout = idempotency.DefaultTimeout

// OpenIdempotency returns the process's store of Idempotency-Key
// requests, nil when idempotency.enabled is false: in memory, or in Redis
// when redis.url is set, following redis.on_failure while Redis does not
// answer (open: keyed requests are served, joined only within their
// replica, and nothing is kept; closed: they are refused with 503). Close
// closes its Redis connections. Nothing is dialed here. The Redis commands
// are measured in metrics under the client name "idempotency" (nil: not
// measured).
func OpenIdempotency(cfg *config.Config, logger *slog.Logger, metrics *observe.Registry) (*idempotency.Store, func() error, error) {
	nop := func() error { return nil }
	if !cfg.Idempotency.On() {
		return nil, nop, nil
	}
	o := idempotencyOptions(cfg)
	if logger != nil {
		o.Logger = logger.With("component", "idempotency")
	}
	raw := cfg.Redis.URL.Value()
	if raw == "" {
		return idempotency.New(o), nop, nil
	}
	ro, err := redis.ParseURL(raw)
	if err != nil {
		// The parser's message may quote the URL, and with it a password.
		return nil, nil, errors.New("redis.url: not a valid Redis URL")
	}
	timeout := max(cfg.Redis.Timeout.Std(), minIdempotencyTimeout)
	ro.DialTimeout = timeout * 4
	// A result is written in one call, which may carry a large body: each
	// call is bounded by its context (Options.Timeout, or longer to keep
	// a result) rather than by the connection's timeouts, which keep
	// go-redis's default of 3 s.
	ro.ReadTimeout, ro.WriteTimeout = 0, 0
	ro.ContextTimeoutEnabled = true
	ro.MaxRetries = -1
	client := redis.NewClient(ro)
	instrumentRedis(client, metrics, redisIdempotency)
	o.Redis, o.Timeout = client, timeout
	o.FailClosed = cfg.Redis.OnFailure == config.RedisFailClosed
	return idempotency.New(o), client.Close, nil
}

// idempotencyOptions are the store options the configuration sets.
func idempotencyOptions(cfg *config.Config) idempotency.Options {
	ic := &cfg.Idempotency
	return idempotency.Options{TTL: ic.TTL.Std(), MaxRecordBytes: ic.MaxRecordBytes, MaxBytes: ic.MemoryBytes()}
}

// idempotencyStore is the snapshot's store: the process's, or one of its
// own in memory when none was given; nil when idempotency is off.
func idempotencyStore(cfg *config.Config, s *idempotency.Store) *idempotency.Store {
	if !cfg.Idempotency.On() {
		return nil
	}
	if s == nil {
		s = idempotency.New(idempotencyOptions(cfg))
	}
	return s
}
