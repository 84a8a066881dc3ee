package gateway

import (
	"errors"
	"log/slog"

	"github.com/redis/go-redis/v9"

	"github.com/llmgw/llmgw/internal/budget"
	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/limits"
	"github.com/llmgw/llmgw/internal/observe"
	"github.com/llmgw/llmgw/internal/store"
)

// OpenLimiter returns the process's rate limiter and budgets: limits in
// memory with budgets in the store's database, or, when redis.url is set,
// both in Redis (one round trip for both), behind a timeout and a
// breaker, falling back to memory and the database (on_failure: open) or
// refusing (closed) while Redis does not answer. Budget counts start from
// the store's usage ledger where Redis or the database has none. A nil
// st keeps budgets in memory, for one process only (tests, benchmarks
// without a store). Close releases its connections. Nothing is dialed
// here: a Redis down at start is handled like one that goes down later.
// The Budgeter reads what budgets have spent where they are counted (for
// the admin API). The Redis commands are measured in metrics under the
// client name "limits" (nil: not measured).
func OpenLimiter(cfg *config.Config, logger *slog.Logger, st store.Store, metrics *observe.Registry) (limits.Limiter, budget.Budgeter, func() error, error) {
	var stored budget.Budgeter = budget.NewMemory(nil, 0)
	var seeder budget.Seeder
	if st != nil {
		stored = budget.NewStore(st.Budgets(), budget.StoreOptions{})
		seeder = budget.LedgerSeeder(st.Ledger())
	}
	local := limits.WithBudgets(limits.NewMemory(nil), stored)
	raw := cfg.Redis.URL.Value()
	if raw == "" {
		return local, stored, func() error { return nil }, nil
	}
	o, err := redis.ParseURL(raw)
	if err != nil {
		// The parser's message may quote the URL, and with it a password.
		return nil, nil, nil, errors.New("redis.url: not a valid Redis URL")
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
	instrumentRedis(client, metrics, redisLimits)
	mode := limits.FailOpen
	if cfg.Redis.OnFailure == config.RedisFailClosed {
		mode = limits.FailClosed
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	sharedBudgets := budget.NewRedis(client, budget.RedisOptions{Seeder: seeder})
	shared := limits.NewRedis(client, limits.RedisOptions{Budgets: sharedBudgets})
	g := limits.NewGuarded(shared, local, limits.GuardOptions{
		Mode: mode, Timeout: timeout, Logger: logger.With("component", "limits"),
	})
	// The queued releases go out before the connections close.
	return g, sharedBudgets, func() error { return errors.Join(shared.Close(), client.Close()) }, nil
}
