package observe

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestRegisterReturnsExisting(t *testing.T) {
	r := NewRegistry()
	opts := prometheus.CounterOpts{Name: "llmgw_test_total", Help: "Test counter."}
	first := Register(r, prometheus.NewCounterVec(opts, []string{"a"}))
	first.WithLabelValues("x").Inc()
	second := Register(r, prometheus.NewCounterVec(opts, []string{"a"}))
	if second != first {
		t.Fatal("second registration did not return the first collector")
	}
	second.WithLabelValues("x").Inc()
	if got := testutil.ToFloat64(first.WithLabelValues("x")); got != 2 {
		t.Errorf("counter = %v, want 2", got)
	}
}

func TestRegisterNilRegistry(t *testing.T) {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "llmgw_x_total", Help: "x"})
	if got := Register(nil, c); got != c {
		t.Error("nil registry should return the collector itself")
	}
}

func TestRegisterConflictPanics(t *testing.T) {
	r := NewRegistry()
	Register(r, prometheus.NewCounter(prometheus.CounterOpts{Name: "llmgw_c", Help: "x"}))
	defer func() {
		if recover() == nil {
			t.Error("conflicting registration did not panic")
		}
	}()
	Register(r, prometheus.NewGauge(prometheus.GaugeOpts{Name: "llmgw_c", Help: "other help"}))
}

func TestHandlerServesText(t *testing.T) {
	r := NewRegistry()
	Register(r, prometheus.NewCounter(prometheus.CounterOpts{Name: "llmgw_served_total", Help: "x"})).Inc()
	rec := httptest.NewRecorder()
	r.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != 200 || !strings.Contains(string(body), "llmgw_served_total 1") || !strings.Contains(string(body), "go_goroutines") {
		t.Errorf("status %d body:\n%s", rec.Code, body)
	}
}
