package observe

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Metric describes one metric of a registry: what docs/metrics.md says of
// it.
type Metric struct {
	// Name is the metric's name; a histogram's or summary's base name.
	Name string
	// Type is counter, gauge, histogram, summary or untyped.
	Type string
	Help string
	// Labels are its variable labels, in order.
	Labels []string
	// ConstLabels are its constant labels, "name=value".
	ConstLabels []string
}

// Metrics describes every metric registered in r, sorted by name: each
// collector's descriptions, with the type of each metric taken from what
// the collector collects now or, for a vector with no series yet, from its
// Go type. A metric whose type cannot be known (a custom collector that
// collects nothing of it now) is an error naming it.
func (r *Registry) Metrics() ([]Metric, error) {
	r.mu.Lock()
	cs := append([]prometheus.Collector(nil), r.collectors...)
	r.mu.Unlock()
	byName := make(map[string]*Metric)
	var errs []error
	for _, c := range cs {
		types := collectedTypes(c)
		for _, d := range descs(c) {
			m, err := parseDesc(d)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if m.Type = types[m.Name]; m.Type == "" {
				m.Type = vectorType(c)
			}
			if m.Type == "" {
				errs = append(errs, fmt.Errorf("observe: the type of metric %s is unknown: its collector (%T) collects nothing of it now", m.Name, c))
			}
			byName[m.Name] = &m
		}
	}
	out := make([]Metric, 0, len(byName))
	for _, m := range byName {
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, errors.Join(errs...)
}

func descs(c prometheus.Collector) []*prometheus.Desc {
	ch := make(chan *prometheus.Desc)
	go func() { c.Describe(ch); close(ch) }()
	var out []*prometheus.Desc
	for d := range ch {
		out = append(out, d)
	}
	return out
}

// collectedTypes returns the type of each metric c collects now, by name.
func collectedTypes(c prometheus.Collector) map[string]string {
	ch := make(chan prometheus.Metric)
	go func() { c.Collect(ch); close(ch) }()
	out := make(map[string]string)
	for m := range ch {
		d, err := parseDesc(m.Desc())
		if err != nil {
			continue
		}
		var pb dto.Metric
		if m.Write(&pb) != nil {
			continue
		}
		switch {
		case pb.Counter != nil:
			out[d.Name] = "counter"
		case pb.Gauge != nil:
			out[d.Name] = "gauge"
		case pb.Histogram != nil:
			out[d.Name] = "histogram"
		case pb.Summary != nil:
			out[d.Name] = "summary"
		case pb.Untyped != nil:
			out[d.Name] = "untyped"
		}
	}
	return out
}

// vectorType is the type of the metrics of a vector, "" for any other
// collector.
func vectorType(c prometheus.Collector) string {
	switch c.(type) {
	case *prometheus.CounterVec:
		return "counter"
	case *prometheus.GaugeVec:
		return "gauge"
	case *prometheus.HistogramVec:
		return "histogram"
	case *prometheus.SummaryVec:
		return "summary"
	}
	return ""
}

// parseDesc reads a Desc's String form, the only way the client library
// shows a description's parts: Desc{fqName: "...", help: "...", unit:
// "...", constLabels: {a="x",b="y"}, variableLabels: {c,d}}.
func parseDesc(d *prometheus.Desc) (Metric, error) {
	s := d.String()
	bad := func() (Metric, error) { return Metric{}, fmt.Errorf("observe: cannot read the description %s", s) }
	var m Metric
	var ok bool
	rest := s
	field := func(prefix string) (string, bool) {
		if !strings.HasPrefix(rest, prefix) {
			return "", false
		}
		rest = rest[len(prefix):]
		q, err := strconv.QuotedPrefix(rest)
		if err != nil {
			return "", false
		}
		rest = rest[len(q):]
		v, err := strconv.Unquote(q)
		return v, err == nil
	}
	if m.Name, ok = field("Desc{fqName: "); !ok {
		return bad()
	}
	if m.Help, ok = field(", help: "); !ok {
		return bad()
	}
	if _, ok = field(", unit: "); !ok {
		return bad()
	}
	if !strings.HasPrefix(rest, ", constLabels: {") {
		return bad()
	}
	rest = rest[len(", constLabels: {"):]
	for !strings.HasPrefix(rest, "}") {
		name, after, found := strings.Cut(rest, "=")
		if !found {
			return bad()
		}
		rest = after
		q, err := strconv.QuotedPrefix(rest)
		if err != nil {
			return bad()
		}
		rest = strings.TrimPrefix(rest[len(q):], ",")
		m.ConstLabels = append(m.ConstLabels, name+"="+q)
	}
	vl, found := strings.CutPrefix(rest, "}, variableLabels: {")
	if !found || !strings.HasSuffix(vl, "}}") {
		return bad()
	}
	if vl = strings.TrimSuffix(vl, "}}"); vl != "" {
		for _, l := range strings.Split(vl, ",") {
			if c, ok := strings.CutPrefix(l, "c("); ok { // a constrained label
				l = strings.TrimSuffix(c, ")")
			}
			m.Labels = append(m.Labels, l)
		}
	}
	return m, nil
}

// Markdown returns docs/metrics.md for ms: a section per metric, headed
// "### `name`", with its type, help and labels, and for each label where
// its values come from (LabelValues). A label without documented values
// is an error naming it, so that a new label cannot go undocumented.
func Markdown(ms []Metric) ([]byte, error) {
	var b bytes.Buffer
	var errs []error
	b.WriteString(markdownHead)
	for _, m := range ms {
		fmt.Fprintf(&b, "\n### `%s`\n\n", m.Name)
		fmt.Fprintf(&b, "- Type: %s\n", m.Type)
		fmt.Fprintf(&b, "- Help: %s\n", oneLine(m.Help))
		if len(m.Labels) == 0 && len(m.ConstLabels) == 0 {
			b.WriteString("- Labels: none\n")
			continue
		}
		b.WriteString("- Labels:\n")
		for _, l := range m.Labels {
			v, ok := LabelValues(m.Name, l)
			if !ok {
				errs = append(errs, fmt.Errorf("observe: label %q of %s has no documented values: add it to labelValues in internal/observe/labels.go", l, m.Name))
			}
			fmt.Fprintf(&b, "  - `%s`: %s\n", l, v)
		}
		for _, l := range m.ConstLabels {
			fmt.Fprintf(&b, "  - `%s` (constant)\n", l)
		}
	}
	return b.Bytes(), errors.Join(errs...)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

const markdownHead = `# Metrics

<!-- Generated from the metrics the process registers: go test ./cmd/llmgw -run TestMetricsDoc -update. Do not edit. -->

llmgw serves these metrics in the Prometheus text format on ` + "`/metrics`" + `, or on
` + "`server.metrics_listen`" + ` when it is set (behind ` + "`server.metrics_token`" + ` when one is set).
Durations are in seconds and sizes in bytes. Label values come from the configuration,
the store or fixed tables of the gateway, never from what a client sends, so the number of
series is bounded: each label below says where its values come from. A model name that no
configured model serves is ` + "`model=\"\"`" + `; a request without a tenant is ` + "`tenant=\"\"`" + `.
`
