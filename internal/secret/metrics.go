package secret

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/observe"
)

// metrics count the fetches of secret references by source (the
// reference's scheme: file, vault, aws-sm, azure-kv) and result, and time
// them. They are made with the Resolver and registered by Instrument, so
// that the fetches of the first load, made before the process's registry
// is wired, are counted too.
type metrics struct {
	fetches  *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics() metrics {
	return metrics{
		fetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "llmgw_secret_fetches_total",
			Help: "Fetches of secret references (at start, at reload and every secrets.refresh_interval), by source and result.",
		}, []string{"source", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "llmgw_secret_fetch_duration_seconds",
			Help:    "Time a fetch of a secret reference took, retries and logins included, by source.",
			Buckets: []float64{0.001, 0.005, 0.025, 0.1, 0.25, 1, 2.5, 10, 30},
		}, []string{"source"}),
	}
}

// observe counts one fetch of ref that took d and failed with err (nil:
// succeeded).
func (m metrics) observe(ref string, d time.Duration, err error) {
	source, _ := config.RefScheme(ref)
	result := "success"
	if err != nil {
		result = "error"
	}
	m.fetches.WithLabelValues(source, result).Inc()
	m.duration.WithLabelValues(source).Observe(d.Seconds())
}

// Instrument registers the Resolver's metrics in reg, with what they have
// counted so far.
func (r *Resolver) Instrument(reg *observe.Registry) {
	observe.Register(reg, r.m.fetches)
	observe.Register(reg, r.m.duration)
}
