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

// Metrics describes every metric registered, empty vectors and custom
// collectors included, and Markdown documents each with its labels' values.
func TestMetricsAndMarkdown(t *testing.T) {
	r := NewRegistry()
	Register(r, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "llmgw_doc_total", Help: "Doc \"quoted\" help."}, []string{"route", "code"}))
	Register(r, prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "llmgw_doc_seconds", Help: "Doc histogram.", ConstLabels: prometheus.Labels{"k": "v"}}, []string{"model"}))
	g := Register(r, prometheus.NewGauge(prometheus.GaugeOpts{Name: "llmgw_doc_gauge", Help: "Doc gauge."}))
	g.Set(1)
	ms, err := r.Metrics()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Metric{}
	for _, m := range ms {
		byName[m.Name] = m
	}
	for name, want := range map[string]string{"llmgw_doc_total": "counter", "llmgw_doc_seconds": "histogram", "llmgw_doc_gauge": "gauge",
		"go_goroutines": "gauge", "go_gc_duration_seconds": "summary", "process_cpu_seconds_total": "counter"} {
		if got := byName[name].Type; got != want {
			t.Errorf("%s: type %q, want %q", name, got, want)
		}
	}
	if m := byName["llmgw_doc_total"]; m.Help != `Doc "quoted" help.` || strings.Join(m.Labels, ",") != "route,code" {
		t.Errorf("llmgw_doc_total: %+v", m)
	}
	if m := byName["llmgw_doc_seconds"]; strings.Join(m.ConstLabels, ",") != `k="v"` || strings.Join(m.Labels, ",") != "model" {
		t.Errorf("llmgw_doc_seconds: %+v", m)
	}
	md, err := Markdown(ms)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\n### `llmgw_doc_total`\n\n- Type: counter\n- Help: Doc \"quoted\" help.\n- Labels:\n  - `route`: the pattern", "\n### `go_goroutines`\n"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	// A label whose values are not documented fails the generation.
	Register(r, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "llmgw_doc_raw_total", Help: "x"}, []string{"user_agent"}))
	ms, _ = r.Metrics()
	if _, err := Markdown(ms); err == nil || !strings.Contains(err.Error(), "user_agent") {
		t.Errorf("undocumented label: %v", err)
	}
}

// A custom collector that collects nothing of a metric it describes gives
// no type: an error naming the metric.
func TestMetricsUnknownType(t *testing.T) {
	r := NewRegistry()
	Register(r, silent{prometheus.NewDesc("llmgw_silent", "Silent.", nil, nil)})
	if _, err := r.Metrics(); err == nil || !strings.Contains(err.Error(), "llmgw_silent") {
		t.Errorf("err = %v", err)
	}
}

type silent struct{ d *prometheus.Desc }

func (s silent) Describe(ch chan<- *prometheus.Desc) { ch <- s.d }
func (silent) Collect(chan<- prometheus.Metric)      {}
