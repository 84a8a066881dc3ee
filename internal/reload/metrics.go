package reload

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/llmgw/llmgw/internal/observe"
)

// Values of the result label and of Status.LastResult.
const (
	resultSuccess = "success"
	resultFailure = "failure"
)

// metrics are the reload metrics.
type metrics struct {
	reloads *prometheus.CounterVec
	lastOK  prometheus.Gauge
	version prometheus.Gauge
	info    *prometheus.GaugeVec
}

func newMetrics(reg *observe.Registry) *metrics {
	m := &metrics{
		reloads: observe.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "llmgw_config_reloads_total",
			Help: "Configuration reloads tried, by result (success, failure).",
		}, []string{"result"})),
		lastOK: observe.Register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "llmgw_config_last_reload_success_timestamp_seconds",
			Help: "When the running configuration was loaded, in Unix seconds (at start, then at each successful reload).",
		})),
		version: observe.Register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "llmgw_config_version",
			Help: "Version of the running configuration: 1 at start, one more for each successful reload.",
		})),
		info: observe.Register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "llmgw_config_info",
			Help: "Always 1, labelled with the hash of the running configuration (secrets redacted).",
		}, []string{"hash"})),
	}
	m.reloads.WithLabelValues(resultSuccess)
	m.reloads.WithLabelValues(resultFailure)
	return m
}

// loaded records st as the running configuration; a reload when its
// version is above 1.
func (m *metrics) loaded(st Status) {
	if st.Version > 1 {
		m.reloads.WithLabelValues(resultSuccess).Inc()
	}
	m.lastOK.Set(float64(st.LoadedAt.UnixNano()) / 1e9)
	m.version.Set(float64(st.Version))
	m.info.Reset()
	m.info.WithLabelValues(st.Hash).Set(1)
}

func (m *metrics) failed() { m.reloads.WithLabelValues(resultFailure).Inc() }
