package reload_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/llmgw/llmgw/internal/observe"
)

// single collects the value of one gauge of a registry, for
// testutil.ToFloat64.
type single struct {
	t    *testing.T
	reg  *observe.Registry
	name string
}

var singleDesc = prometheus.NewDesc("single", "single", nil, nil)

func (s *single) Describe(ch chan<- *prometheus.Desc) { ch <- singleDesc }

func (s *single) Collect(ch chan<- prometheus.Metric) {
	mfs, err := s.reg.Gatherer().Gather()
	if err != nil {
		s.t.Fatal(err)
	}
	v := 0.0
	for _, mf := range mfs {
		if mf.GetName() == s.name {
			for _, m := range mf.GetMetric() {
				v += m.GetGauge().GetValue()
			}
		}
	}
	ch <- prometheus.MustNewConstMetric(singleDesc, prometheus.GaugeValue, v)
}
