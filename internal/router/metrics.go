package router

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/llmgw/llmgw/internal/observe"
)

// metrics are the router's Prometheus metrics. Labels come from the
// configuration only: model is the configured model name (the pattern, for
// a wildcard), target the upstream model and the target's index.
//
// The counters and the histogram live in the registry and go on across
// routers: a new configuration adds to them, and a model or provider that
// is gone keeps its last values, as counters do. The breaker gauge is read
// from the router when the registry is scraped, so that it shows an open
// breaker turning half-open without waiting for traffic, and only the
// targets of the router built last on the registry (the configuration in
// force): series of targets that are gone disappear.
type metrics struct {
	attempts  *prometheus.CounterVec
	retries   *prometheus.CounterVec
	breaker   *breakerCollector
	ttft      *prometheus.HistogramVec
	fallbacks *prometheus.CounterVec
	// routes counts the requests each route of a model took.
	routes *prometheus.CounterVec
	// duration is llmgw_upstream_duration_seconds. Each target keeps its
	// success series resolved (target.durationOK), so that an attempt that
	// succeeds observes it without a label lookup.
	duration *prometheus.HistogramVec
}

// upstreamDurationBuckets span a short answer's headers (tens of
// milliseconds) to a long stream (minutes).
var upstreamDurationBuckets = []float64{0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 320}

func newMetrics(reg *observe.Registry) *metrics {
	return &metrics{
		attempts: observe.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "llmgw_upstream_attempts_total",
			Help: "Attempts made on upstream targets, by provider, configured model and outcome (success, timeout, unavailable, error, rate_limited, unauthorized, context_length, content_policy, canceled, rejected).",
		}, []string{"provider", "model", "outcome"})),
		retries: observe.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "llmgw_upstream_retries_total",
			Help: "Attempts that were retries of a failed attempt, by configured model.",
		}, []string{"model"})),
		breaker: observe.Register(reg, newBreakerCollector()),
		ttft: observe.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "llmgw_upstream_ttft_seconds",
			Help:    "Time from the start of an attempt to the first chunk of the upstream's answer.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40},
		}, []string{"provider", "model"})),
		fallbacks: observe.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "llmgw_fallbacks_total",
			Help: "Requests sent on to a fallback model, by configured model, fallback and reason (error, context_window, content_policy).",
		}, []string{"model", "fallback", "reason"})),
		routes: observe.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "llmgw_route_rule_matches_total",
			Help: "Requests a routing rule of a model took (its match held and its percent chose them), by configured model and rule name.",
		}, []string{"model", "rule"})),
		duration: observe.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "llmgw_upstream_duration_seconds",
			Help:    "Duration of one upstream attempt, from its start to its end: the whole answer for a non-streamed call, the end of the stream for a stream (outcome success when it ended normally or its client closed it, else the outcome of its failure), or its failure, by provider, configured model and outcome (as llmgw_upstream_attempts_total's).",
			Buckets: upstreamDurationBuckets,
		}, []string{"provider", "model", "outcome"})),
	}
}

// breakerCollector reports llmgw_breaker_state for the targets of the
// router it was last given, computing each state when collected.
type breakerCollector struct {
	desc    *prometheus.Desc
	targets atomic.Pointer[[]*target]
}

func newBreakerCollector() *breakerCollector {
	return &breakerCollector{desc: prometheus.NewDesc("llmgw_breaker_state",
		"Circuit breaker state of each target: 0 closed, 1 half-open, 2 open.",
		[]string{"provider", "model", "target"}, nil)}
}

// set makes ts the targets reported.
func (c *breakerCollector) set(ts []*target) { c.targets.Store(&ts) }

// Describe implements prometheus.Collector.
func (c *breakerCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *breakerCollector) Collect(ch chan<- prometheus.Metric) {
	ts := c.targets.Load()
	if ts == nil {
		return
	}
	for _, t := range *ts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(t.breaker.current()),
			t.Provider.Name(), t.model, t.label)
	}
}
