package router_test

import (
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/llmgw/llmgw/internal/observe"
)

// manual is a clock moved by hand.
type manual struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manual) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manual) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// sumCollector is a collector with one gauge whose value is the sum of every
// series of metric name in reg, for testutil.ToFloat64.
type sumCollector struct {
	t     *testing.T
	reg   *observe.Registry
	name  string
	label [2]string // optional label filter
}

func (s *sumCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- prometheus.NewDesc("sum", "sum", nil, nil)
}

func (s *sumCollector) Collect(ch chan<- prometheus.Metric) {
	mfs, err := s.reg.Gatherer().Gather()
	if err != nil {
		s.t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != s.name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if s.label[0] != "" && !hasLabel(m, s.label) {
				continue
			}
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	ch <- prometheus.MustNewConstMetric(prometheus.NewDesc("sum", "sum", nil, nil), prometheus.GaugeValue, sum)
}

func hasLabel(m *dto.Metric, l [2]string) bool {
	for _, lp := range m.GetLabel() {
		if lp.GetName() == l[0] && lp.GetValue() == l[1] {
			return true
		}
	}
	return false
}

// gauge reads llmgw_breaker_state for one provider.
func gauge(t *testing.T, reg *observe.Registry, provider string) *sumCollector {
	return &sumCollector{t: t, reg: reg, name: "llmgw_breaker_state", label: [2]string{"provider", provider}}
}
