package gateway

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/llmgw/llmgw/internal/observe"
)

// The names of the process's Redis clients, the client label of the Redis
// metrics.
const (
	// redisLimits is the client of rate limits and budgets (OpenLimiter).
	redisLimits = "limits"
	// redisIdempotency is the client of Idempotency-Key records
	// (OpenIdempotency).
	redisIdempotency = "idempotency"
)

// redisBuckets are the bounds of llmgw_redis_command_duration_seconds: a
// command on the local network takes a fraction of a millisecond; the
// limits' timeout (redis.timeout) is 50 ms by default.
var redisBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}

// instrumentRedis measures every command c sends, under the client name:
// llmgw_redis_command_duration_seconds{client,command} and
// llmgw_redis_errors_total{client,command}. command is the command's name
// in lower case, as go-redis gives it (Lua scripts are evalsha, or eval
// when the script had to be sent), "pipeline" for a pipeline and "multi"
// for a transaction, each measured once as a whole; the names come from
// the code, so the labels are bounded. A new connection's handshake is
// measured within the command that needed it (see handshake). Not errors: redis.Nil (a key that
// does not exist), NOSCRIPT (go-redis sends the script itself then) and
// the caller giving up (context.Canceled); a timeout is one. With a nil
// reg nothing is measured.
func instrumentRedis(c *redis.Client, reg *observe.Registry, client string) {
	if reg == nil {
		return
	}
	c.AddHook(newRedisHook(reg, client))
}

// newRedisHook returns the hook of instrumentRedis.
func newRedisHook(reg *observe.Registry, client string) *redisHook {
	return &redisHook{
		client: client,
		dur: observe.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "llmgw_redis_command_duration_seconds",
			Help:    "Duration of Redis commands, by client (limits, idempotency) and command (lower case; pipeline and multi for pipelines and transactions).",
			Buckets: redisBuckets,
		}, []string{"client", "command"})),
		errs: observe.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "llmgw_redis_errors_total",
			Help: "Redis commands that failed, by client and command; a missing key (nil), NOSCRIPT and cancelled calls are not failures.",
		}, []string{"client", "command"})),
	}
}

// redisHook is the redis.Hook of instrumentRedis.
type redisHook struct {
	client string
	dur    *prometheus.HistogramVec
	errs   *prometheus.CounterVec
	ops    sync.Map // command name -> *redisOp, resolved once per name
}

// redisOp is the series of one command.
type redisOp struct {
	dur  prometheus.Observer
	errs prometheus.Counter
}

func (h *redisHook) op(name string) *redisOp {
	if o, ok := h.ops.Load(name); ok {
		return o.(*redisOp)
	}
	o, _ := h.ops.LoadOrStore(name, &redisOp{
		dur: h.dur.WithLabelValues(h.client, name), errs: h.errs.WithLabelValues(h.client, name)})
	return o.(*redisOp)
}

func (h *redisHook) done(name string, start time.Time, failed bool) {
	o := h.op(name)
	o.dur.Observe(time.Since(start).Seconds())
	if failed {
		o.errs.Inc()
	}
}

// DialHook implements redis.Hook; dialling is measured with the command
// that needed the connection.
func (h *redisHook) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook implements redis.Hook.
func (h *redisHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		name := cmd.Name()
		if handshake(name) {
			return next(ctx, cmd)
		}
		start := time.Now()
		err := next(ctx, cmd)
		h.done(name, start, redisFailed(err))
		return err
	}
}

// ProcessPipelineHook implements redis.Hook: a pipeline is measured once,
// failed when it or any of its commands did.
func (h *redisHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if !slices.ContainsFunc(cmds, func(c redis.Cmder) bool { return !handshake(c.Name()) }) {
			return next(ctx, cmds)
		}
		start := time.Now()
		err := next(ctx, cmds)
		name := "pipeline"
		if len(cmds) > 0 && cmds[0].Name() == "multi" {
			name = "multi"
		}
		failed := redisFailed(err)
		for _, c := range cmds {
			failed = failed || redisFailed(c.Err())
		}
		h.done(name, start, failed)
		return err
	}
}

// handshake reports whether name is one of the commands go-redis sends to
// set a new connection up (HELLO, AUTH, SELECT, CLIENT SETNAME and
// SETINFO, READONLY), through the hooks like any other. They are not
// measured: the command that needed the connection is, with them, and
// their refusals by older servers (CLIENT SETINFO before Redis 7.2) are
// expected and ignored by go-redis. The gateway sends none of them itself.
func handshake(name string) bool {
	switch name {
	case "hello", "auth", "select", "client", "readonly":
		return true
	}
	return false
}

// redisFailed reports whether err, a command's, is a failure.
func redisFailed(err error) bool {
	return err != nil && !errors.Is(err, redis.Nil) && !redis.HasErrorPrefix(err, "NOSCRIPT") &&
		!errors.Is(err, context.Canceled)
}
