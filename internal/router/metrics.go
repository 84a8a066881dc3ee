package router

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/llmgw/llmgw/internal/observe"
)

// metrics are the router's Prometheus metrics. Labels come from the
// configuration only: model is the configured model name (the pattern, for
// a wildcard), target the upstream model and the target's index.
type metrics struct {
	attempts  *prometheus.CounterVec
	retries   *prometheus.CounterVec
	breaker   *prometheus.GaugeVec
	ttft      *prometheus.HistogramVec
	fallbacks *prometheus.CounterVec
}

func newMetrics(reg *observe.Registry) *metrics {
	return &metrics{
		attempts: observe.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "llmgw_upstream_attempts_total",
			Help: "Attempts made on upstream targets, by provider, configured model and outcome (success, timeout, unavailable, error, rate_limited, context_length, content_policy, canceled, rejected).",
		}, []string{"provider", "model", "outcome"})),
		retries: observe.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "llmgw_upstream_retries_total",
			Help: "Attempts that were retries of a failed attempt, by configured model.",
		}, []string{"model"})),
		breaker: observe.Register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "llmgw_breaker_state",
			Help: "Circuit breaker state of each target: 0 closed, 1 half-open, 2 open.",
		}, []string{"provider", "model", "target"})),
		ttft: observe.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "llmgw_upstream_ttft_seconds",
			Help:    "Time from the start of an attempt to the first chunk of the upstream's answer.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40},
		}, []string{"provider", "model"})),
		fallbacks: observe.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "llmgw_fallbacks_total",
			Help: "Requests sent on to a fallback model, by configured model, fallback and reason (error, context_window, content_policy).",
		}, []string{"model", "fallback", "reason"})),
	}
}
