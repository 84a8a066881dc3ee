package config

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRoutingDefaults(t *testing.T) {
	cfg, err := Parse([]byte(`
server: {stream_idle_timeout: "7s"}
providers: [{name: m, type: mock}]
models:
  - name: a
    targets: [{provider: m, model: x}]
  - name: b
    balancing: latency
    retry: {max_attempts: 1, max_retry_after: "5s"}
    timeouts: {first_token: "2s"}
    breaker: {cooldown: "1s"}
    all_open_wait: "10ms"
    targets: [{provider: m, model: x, timeouts: {total: "3s"}}]
`), nil)
	require.NoError(t, err)
	a := cfg.Models[0]
	assert.Equal(t, "weighted", a.Balancing)
	assert.Equal(t, Retry{MaxAttempts: 3, BaseBackoff: Duration(100 * time.Millisecond), MaxBackoff: Duration(5 * time.Second),
		MaxRetryAfter: Duration(time.Minute)}, a.Retry)
	assert.Equal(t, Timeouts{FirstToken: Duration(time.Minute), StreamIdle: Duration(7 * time.Second)}, a.Timeouts,
		"stream idle defaults to the server's")
	assert.Equal(t, Breaker{ConsecutiveFailures: 5, ErrorRate: 0.5, Window: Duration(30 * time.Second), MinRequests: 20,
		Cooldown: Duration(30 * time.Second), HalfOpenProbes: 2}, a.Breaker)
	assert.Equal(t, 2*time.Second, a.AllOpenWait.Std())

	b := cfg.Models[1]
	assert.Equal(t, "latency", b.Balancing)
	assert.Equal(t, 1, b.Retry.MaxAttempts, "explicit value kept")
	assert.Equal(t, 5*time.Second, b.Retry.MaxRetryAfter.Std())
	assert.Equal(t, 2*time.Second, b.Timeouts.FirstToken.Std())
	assert.Equal(t, time.Second, b.Breaker.Cooldown.Std())
	assert.Equal(t, 10*time.Millisecond, b.AllOpenWait.Std())
	assert.Equal(t, Timeouts{Total: Duration(3 * time.Second)}, b.Targets[0].Timeouts, "target timeouts are not defaulted")
}

func TestValidateRouting(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(m *Model)
		want   []string
	}{
		{"valid", func(m *Model) {}, nil},
		{"balancing", func(m *Model) { m.Balancing = "fastest" },
			[]string{`models[0].balancing: unknown strategy "fastest" (want weighted, round_robin, least_inflight or latency)`}},
		{"every strategy", func(m *Model) { m.Balancing = BalanceLeastInflight }, nil},
		{"attempts", func(m *Model) { m.Retry.MaxAttempts = 11 }, []string{"models[0].retry.max_attempts: must be between 1 and 10"}},
		{"backoff order", func(m *Model) { m.Retry.MaxBackoff = Duration(time.Millisecond) },
			[]string{"models[0].retry.max_backoff: must not be below base_backoff (100ms)"}},
		{"base backoff", func(m *Model) { m.Retry.BaseBackoff = -1 }, []string{"models[0].retry.base_backoff: must be > 0"}},
		{"max retry after negative", func(m *Model) { m.Retry.MaxRetryAfter = -1 },
			[]string{"models[0].retry.max_retry_after: must be above 0 and at most 24h0m0s"}},
		{"max retry after too long", func(m *Model) { m.Retry.MaxRetryAfter = Duration(25 * time.Hour) },
			[]string{"models[0].retry.max_retry_after: must be above 0 and at most 24h0m0s"}},
		{"max retry after a day", func(m *Model) { m.Retry.MaxRetryAfter = Duration(24 * time.Hour) }, nil},
		{"timeouts", func(m *Model) {
			m.Timeouts.FirstToken = -1
			m.Targets[0].Timeouts.Total = -1
		}, []string{"models[0].timeouts.first_token: must not be negative", "models[0].targets[0].timeouts.total: must not be negative"}},
		{"breaker", func(m *Model) {
			m.Breaker = Breaker{ConsecutiveFailures: -1, ErrorRate: 1.5, Window: -1, MinRequests: -1, Cooldown: -1, HalfOpenProbes: -1}
		}, []string{
			"models[0].breaker.consecutive_failures: must be >= 1",
			"models[0].breaker.error_rate: must be above 0 and at most 1",
			"models[0].breaker.window: must be > 0",
			"models[0].breaker.min_requests: must be >= 1",
			"models[0].breaker.cooldown: must be > 0",
			"models[0].breaker.half_open_probes: must be >= 1",
		}},
		{"all open wait", func(m *Model) { m.AllOpenWait = -1 }, []string{"models[0].all_open_wait: must not be negative"}},
		{"special fallbacks", func(m *Model) {
			m.ContextWindowFallbacks = []string{"mock", "nope"}
			m.ContentPolicyFallbacks = []string{"gpt", "openai/*"}
		}, []string{
			`models[0].context_window_fallbacks[1]: unknown model "nope"`,
			"models[0].content_policy_fallbacks[0]: a model cannot fall back to itself",
			`models[0].content_policy_fallbacks[1]: cannot fall back to a wildcard; name a model it serves, such as "openai/gpt-4o"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.mutate(&c.Models[0])
			if diff := cmp.Diff(tt.want, problemLines(c.Validate())); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRedactedCopiesFallbackLists(t *testing.T) {
	c := validConfig()
	c.Models[0].ContextWindowFallbacks = []string{"mock"}
	out := c.Redacted()
	out.Models[0].ContextWindowFallbacks[0] = "changed"
	assert.Equal(t, "mock", c.Models[0].ContextWindowFallbacks[0])
}
