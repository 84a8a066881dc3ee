package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

func pt(target string, round int, p50, cpu float64) Point {
	return Point{Scenario: "small", Mode: "closed", Load: 1, Target: target, Round: round, P50: p50,
		Measured: target != "direct", CPUPerReqUS: cpu, RSSMiB: 20, Goroutines: -1}
}

func TestSummarizeMediansAndAddedLatency(t *testing.T) {
	points := []Point{
		pt("direct", 1, 0.10, 0), pt("revproxy", 1, 0.30, 100), pt("gateway", 1, 0.25, 60),
		pt("direct", 2, 0.50, 0), pt("revproxy", 2, 0.70, 110), pt("gateway", 2, 0.60, 70), // a noisy round
		pt("direct", 3, 0.12, 0), pt("revproxy", 3, 0.33, 90), pt("gateway", 3, 0.29, 50),
	}
	rows := summarize(points)
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3", len(rows))
	}
	gw := findRow(rows, "small", "closed", 1, "gateway")
	if gw == nil {
		t.Fatal("no gateway row")
	}
	tests := []struct {
		name      string
		got, want float64
	}{
		{"median p50", gw.P50, 0.29},
		{"added p50 is the median of same-round differences", gw.AddedP50, 0.15},
		{"median cpu", gw.CPUPerReqUS, 60},
		{"cpu vs revproxy", gw.CPUVsRevProxy, 0.6},
	}
	for _, tt := range tests {
		if d := tt.got - tt.want; d > 1e-9 || d < -1e-9 {
			t.Errorf("%s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if gw.Rounds != 3 {
		t.Errorf("rounds %d, want 3", gw.Rounds)
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{nil, 0}, {[]float64{3}, 3}, {[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, tt := range tests {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestBudget(t *testing.T) {
	rows := []Row{
		{Scenario: "small", Mode: "closed", Load: 1, Target: "gateway", AddedP50: 0.31, CPUVsRevProxy: 0.8, Measured: true},
		{Scenario: "small", Mode: "closed", Load: 50, Target: "gateway", RSSMiB: 40, CPUVsRevProxy: 1.1, Measured: true},
		{Scenario: "stream", Mode: "closed", Load: 1, Target: "gateway", CPUPerEventUS: 15.5, Measured: true},
		{Scenario: "stream", Mode: "closed", Load: 50, Target: "gateway", CPUPerEventUS: 4, Measured: true},
		{Scenario: "openstreams", Mode: "burst", Load: 1000, Target: "revproxy", CPUPerEventUS: 14.5, Measured: true},
		{Scenario: "openstreams", Mode: "burst", Load: 1000, Target: "gateway", RSSMiB: 151, CPUPerEventUS: 16, Measured: true},
	}
	checks := budget(rows)
	if len(checks) != 6 {
		t.Fatalf("%d checks, want 6", len(checks))
	}
	if checks[0].Pass || checks[0].Value != 1.1 {
		t.Errorf("CPU ratio check %+v: the worse ratio, 1.1, decides", checks[0])
	}
	var buf bytes.Buffer
	writeBudget(&buf, budget(rows))
	out := buf.String()
	if checks[1].Pass || checks[1].Value != 15.5 {
		t.Errorf("CPU per event check %+v: the worse load point, 15.5 us, decides", checks[1])
	}
	for _, s := range []string{`c=1 15\.50 us, c=50 4\.00 us +FAIL`, `\+0\.310 ms +FAIL`, `40\.0 MiB +PASS`, `151\.0 MiB +FAIL`,
		`c=1 0\.80, c=50 1\.10 +FAIL`, `reference: revproxy 14\.50 us +16\.00 us +-`} {
		if !regexp.MustCompile(s).MatchString(out) {
			t.Errorf("budget table lacks %q:\n%s", s, out)
		}
	}
}

func TestSoakCheck(t *testing.T) {
	window := func(i int, rss float64, gor int) Point {
		return Point{Scenario: "soak", Target: "gateway", Round: i, RSSMiB: rss, Goroutines: gor, Threads: 11}
	}
	var flat, leaking []Point
	for i := range 30 {
		flat = append(flat, window(i, 22+float64(i%2), 60+i%3*20))
		leaking = append(leaking, window(i, 22+float64(i), 60))
	}
	if c := soakCheck(flat[:5]); c != nil {
		t.Errorf("five windows gave %+v, want no check", c)
	}
	if c := soakCheck(flat); len(c) != 1 || !c[0].Pass {
		t.Errorf("flat soak: %+v, want a passing check", c)
	}
	if c := soakCheck(leaking); len(c) != 1 || c[0].Pass {
		t.Errorf("RSS growing 1 MiB a window: %+v, want a failing check", c)
	}
}

func TestWriteTable(t *testing.T) {
	rows := summarize([]Point{pt("direct", 1, 0.1, 0), pt("gateway", 1, 0.25, 60)})
	var buf bytes.Buffer
	if err := writeTable(&buf, rows); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want header and 2 rows:\n%s", len(lines), buf.String())
	}
	tests := []struct {
		line int
		want []string
	}{
		{1, []string{"small", "c=1", "direct", "0.100", "n/a"}},
		{2, []string{"gateway", "0.250", "+0.150", "60.0", "20.0"}},
	}
	for _, tt := range tests {
		for _, w := range tt.want {
			if !strings.Contains(lines[tt.line], w) {
				t.Errorf("line %d lacks %q: %s", tt.line, w, lines[tt.line])
			}
		}
	}
}

func TestParseFlags(t *testing.T) {
	c, err := parseFlags([]string{"--scenario", "small,stream", "--concurrency", "1,8,50", "--rate", "", "--targets", "gateway"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.o.concurrency) != 3 || c.o.concurrency[2] != 50 || len(c.o.rates) != 0 {
		t.Errorf("concurrency %v rates %v", c.o.concurrency, c.o.rates)
	}
	if !c.o.targets["direct"] || !c.o.targets["gateway"] || c.o.targets["nginx"] {
		t.Errorf("targets %v: direct is always kept as the reference", c.o.targets)
	}
	for _, bad := range [][]string{{"--scenario", "nope"}, {"--concurrency", "0"}, {"--rate", "x"}, {"--rounds", "0"}} {
		if _, err := parseFlags(bad, &bytes.Buffer{}); err == nil {
			t.Errorf("%v: want an error", bad)
		}
	}
}
