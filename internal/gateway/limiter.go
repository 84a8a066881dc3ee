package gateway

import (
	"errors"
	"log/slog"

	"github.com/redis/go-redis/v9"

	"github.com/llmgw/llmgw/internal/budget"
	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/limits"
)

// OpenLimiter returns the process's rate limiter and budgets: in memory,
// with budgets in stored (the database), or, when redis.url is set, both
// in Redis behind a timeout and a breaker, falling back to memory and
// stored (on_failure: open) or refusing (closed) while Redis does not
// answer. A nil stored keeps budgets in memory, for one process only
// (tests, benchmarks without a store). Close releases its connections.
// Nothing is dialed here: a Redis down at start is handled like one that
// goes down later.
func OpenLimiter(cfg *config.Config, logger *slog.Logger, stored budget.Budgeter) (limits.Limiter, func() error, error) {
	if stored == nil {
		stored = budget.NewMemory(nil, 0)
	}
	local := limits.WithBudgets(limits.NewMemory(nil), stored)
	raw := cfg.Redis.URL.Value()
	if raw == "" {
		return local, func() error { return nil }, nil
	}
	o, err := redis.ParseURL(raw)
	if err != nil {
		// The parser's message may quote the URL, and with it a password.
		return nil, nil, errors.New("redis.url: not a valid Redis URL")
	}
	timeout := cfg.Redis.Timeout.Std()
	if timeout <= 0 {
		timeout = config.DefaultRedisTimeout
	}
	o.DialTimeout = timeout * 4
	o.ReadTimeout = timeout
	o.WriteTimeout = timeout
	o.MaxRetries = -1 // the breaker decides; a retry would double the wait
	client := redis.NewClient(o)
	mode := limits.FailOpen
	if cfg.Redis.OnFailure == config.RedisFailClosed {
		mode = limits.FailClosed
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	shared := limits.NewRedis(client, limits.RedisOptions{})
	sharedBudgets := limits.WithBudgets(shared, budget.NewRedis(client, budget.RedisOptions{}))
	g := limits.NewGuarded(sharedBudgets, local, limits.GuardOptions{
		Mode: mode, Timeout: timeout, Logger: logger.With("component", "limits"),
	})
	// The queued releases go out before the connections close.
	return g, func() error { return errors.Join(shared.Close(), client.Close()) }, nil
}
