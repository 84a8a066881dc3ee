package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"regexp"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/idempotency"
	"github.com/llmgw/llmgw/internal/limits/redistest"
	"github.com/llmgw/llmgw/internal/observe"
)

// redisSeries returns, per "client/command", the number of commands
// observed in llmgw_redis_command_duration_seconds and counted in
// llmgw_redis_errors_total.
func redisSeries(t *testing.T, reg *observe.Registry) (calls map[string]uint64, errs map[string]float64) {
	t.Helper()
	mfs, err := reg.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	calls, errs = map[string]uint64{}, map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var client, command string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "client":
					client = l.GetValue()
				case "command":
					command = l.GetValue()
				}
			}
			switch mf.GetName() {
			case "llmgw_redis_command_duration_seconds":
				calls[client+"/"+command] = m.GetHistogram().GetSampleCount()
			case "llmgw_redis_errors_total":
				errs[client+"/"+command] = m.GetCounter().GetValue()
			}
		}
	}
	return calls, errs
}

// The Redis clients the process opens, the limits' and the idempotency
// records', are measured in its registry under their names.
func TestRedisClientsOfTheProcessAreMeasured(t *testing.T) {
	extra := "redis:\n  url: " + redisURL(t) + "\n  timeout: 2s\n"
	name := fmt.Sprintf("measured-%s", randomSuffix())
	cfg, err := config.Parse([]byte(fmt.Sprintf(limitedYAML, name, extra)), nil)
	if err != nil {
		t.Fatal(err)
	}
	reg := observe.NewRegistry()
	lim, _, closeLim, err := OpenLimiter(cfg, nil, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeLim() })
	idem, closeIdem, err := OpenIdempotency(cfg, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeIdem() })

	snap := compileLimited(t, name, extra, lim)
	if err := call(snap); err != nil {
		t.Fatal(err)
	}
	l, _, err := idem.Begin(context.Background(), idempotency.IDOf("t", "measured-"+randomSuffix()), idempotency.FingerprintOf("POST", "/v1/x", nil))
	if err != nil || l == nil {
		t.Fatalf("%v %v", l, err)
	}
	_, _ = l.Writer(httptest.NewRecorder()).Write([]byte("kept"))
	l.Finish(true)

	calls, errs := redisSeries(t, reg)
	perClient := map[string]uint64{}
	lowerCase := regexp.MustCompile(`^[a-z]+/[a-z_]+$`)
	for series, n := range calls {
		if !lowerCase.MatchString(series) {
			t.Errorf("series %q: the command is not a lower-case name", series)
		}
		perClient[regexp.MustCompile(`/.*`).ReplaceAllString(series, "")] += n
		if errs[series] != 0 {
			t.Errorf("%s: %v errors", series, errs[series])
		}
	}
	if perClient[redisLimits] == 0 || perClient[redisIdempotency] == 0 || len(perClient) != 2 {
		t.Errorf("commands per client %v (%v), want some of limits and of idempotency", perClient, calls)
	}
}

// Every command is measured under its name, a pipeline and a transaction
// once each; a missing key and NOSCRIPT are not errors, a refused command
// and a Redis that went away are.
func TestRedisHookCommandsAndErrors(t *testing.T) {
	srv := redistest.Start(t)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	reg := observe.NewRegistry()
	instrumentRedis(c, reg, "test")
	ctx := context.Background()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, "missing").Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("get of a missing key: %v", err)
	}
	script := redis.NewScript("return 1")
	for range 2 { // the first EVALSHA is answered NOSCRIPT, then EVAL sends it
		if err := script.Run(ctx, c, nil).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Get(ctx, "missing")
		p.Incr(ctx, "n")
		return nil
	}); err != nil && !errors.Is(err, redis.Nil) {
		t.Fatal(err)
	}
	if _, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Incr(ctx, "n")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := c.Do(ctx, "nosuchcommand").Err(); err == nil {
		t.Fatal("an unknown command succeeded")
	}
	want := map[string]uint64{"test/set": 1, "test/get": 1, "test/evalsha": 2, "test/eval": 1,
		"test/pipeline": 1, "test/multi": 1, "test/nosuchcommand": 1}
	calls, errs := redisSeries(t, reg)
	if fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Errorf("calls %v, want %v", calls, want)
	}
	if fmt.Sprint(errs) != fmt.Sprint(map[string]float64{"test/set": 0, "test/get": 0, "test/evalsha": 0, "test/eval": 0,
		"test/pipeline": 0, "test/multi": 0, "test/nosuchcommand": 1}) {
		t.Errorf("errors %v, want only nosuchcommand's", errs)
	}

	srv.Stop()
	if err := c.Get(ctx, "k").Err(); err == nil {
		t.Fatal("get with Redis stopped succeeded")
	}
	if _, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Get(ctx, "k")
		return nil
	}); err == nil {
		t.Fatal("a pipeline with Redis stopped succeeded")
	}
	calls, errs = redisSeries(t, reg)
	if calls["test/get"] != 2 || errs["test/get"] != 1 || errs["test/pipeline"] != 1 {
		t.Errorf("Redis stopped: get %d calls, %v errors, pipeline %v errors; want 2, 1, 1",
			calls["test/get"], errs["test/get"], errs["test/pipeline"])
	}
}

func TestRedisFailed(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{redis.Nil, false},
		{redis.ErrNoScript, false},
		{fmt.Errorf("call: %w", context.Canceled), false},
		{context.DeadlineExceeded, true},
		{errors.New("dial tcp: connection refused"), true},
	} {
		if got := redisFailed(c.err); got != c.want {
			t.Errorf("redisFailed(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// BenchmarkRedisHook is a GET on the test Redis, with and without the
// hook, and the hook alone around a command that costs nothing: what
// instrumentRedis adds to every command.
func BenchmarkRedisHook(b *testing.B) {
	u := os.Getenv("LLMGW_TEST_REDIS_URL")
	if u == "" {
		b.Skip("LLMGW_TEST_REDIS_URL is not set")
	}
	o, err := redis.ParseURL(u)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, measured := range []bool{false, true} {
		c := redis.NewClient(o)
		b.Cleanup(func() { c.Close() })
		name := "plain"
		if measured {
			instrumentRedis(c, observe.NewRegistry(), "bench")
			name = "measured"
		}
		if err := c.Set(ctx, "llmgw-bench", "v", 0).Err(); err != nil {
			b.Fatal(err)
		}
		b.Run("get/"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := c.Get(ctx, "llmgw-bench").Err(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("hook", func(b *testing.B) {
		h := newRedisHook(observe.NewRegistry(), "bench")
		process := h.ProcessHook(func(context.Context, redis.Cmder) error { return nil })
		cmd := redis.NewStringCmd(ctx, "get", "k")
		b.ReportAllocs()
		for b.Loop() {
			_ = process(ctx, cmd)
		}
	})
}
