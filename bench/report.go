package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
)

// Row is the median over rounds of one target at one load of one scenario.
type Row struct {
	Scenario string  `json:"scenario"`
	Mode     string  `json:"mode"`
	Load     float64 `json:"load"`
	Target   string  `json:"target"`
	Rounds   int     `json:"rounds"`
	RPS      float64 `json:"rps"`
	P50      float64 `json:"p50_ms"`
	P90      float64 `json:"p90_ms"`
	P99      float64 `json:"p99_ms"`
	P999     float64 `json:"p999_ms"`
	// AddedP50 is the median over rounds of this target's p50 minus
	// direct's in the same round.
	AddedP50      float64 `json:"added_p50_ms"`
	TTFE50        float64 `json:"ttfe_p50_ms,omitempty"`
	Measured      bool    `json:"measured"`
	CPUPerReqUS   float64 `json:"cpu_per_req_us"`
	CPUPerEventUS float64 `json:"cpu_per_event_us,omitempty"`
	// CPUVsRevProxy is CPU per request over the reverse proxy's (medians).
	CPUVsRevProxy float64 `json:"cpu_vs_revproxy,omitempty"`
	// RSSMiB and Threads are the peaks of the first round.
	RSSMiB     float64 `json:"rss_peak_mib"`
	Threads    int     `json:"threads"`
	Goroutines int     `json:"goroutines"`
	Errors     uint64  `json:"errors"`
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

type groupKey struct {
	scenario, mode string
	load           float64
	target         string
}

// summarize folds points into rows, in the order the points came.
func summarize(points []Point) []Row {
	direct := make(map[groupKey]map[int]float64) // p50 of direct by round
	groups := make(map[groupKey][]Point)
	var order []groupKey
	for _, p := range points {
		k := groupKey{p.Scenario, p.Mode, p.Load, p.Target}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], p)
		if p.Target == "direct" {
			dk := groupKey{p.Scenario, p.Mode, p.Load, ""}
			if direct[dk] == nil {
				direct[dk] = make(map[int]float64)
			}
			direct[dk][p.Round] = p.P50
		}
	}
	rows := make([]Row, 0, len(order))
	for _, k := range order {
		rows = append(rows, summarizeGroup(k, groups[k], direct[groupKey{k.scenario, k.mode, k.load, ""}]))
	}
	for i := range rows {
		if rp := findRow(rows, rows[i].Scenario, rows[i].Mode, rows[i].Load, "revproxy"); rp != nil && rp.CPUPerReqUS > 0 && rows[i].Measured {
			rows[i].CPUVsRevProxy = rows[i].CPUPerReqUS / rp.CPUPerReqUS
		}
	}
	return rows
}

func summarizeGroup(k groupKey, ps []Point, direct map[int]float64) Row {
	col := func(f func(Point) float64) float64 {
		xs := make([]float64, 0, len(ps))
		for _, p := range ps {
			xs = append(xs, f(p))
		}
		return median(xs)
	}
	r := Row{Scenario: k.scenario, Mode: k.mode, Load: k.load, Target: k.target, Rounds: len(ps), Measured: ps[0].Measured}
	r.RPS = col(func(p Point) float64 { return p.RPS })
	r.P50 = col(func(p Point) float64 { return p.P50 })
	r.P90 = col(func(p Point) float64 { return p.P90 })
	r.P99 = col(func(p Point) float64 { return p.P99 })
	r.P999 = col(func(p Point) float64 { return p.P999 })
	r.TTFE50 = col(func(p Point) float64 { return p.TTFE50 })
	r.CPUPerReqUS = col(func(p Point) float64 { return p.CPUPerReqUS })
	r.CPUPerEventUS = col(func(p Point) float64 { return p.CPUPerEventUS })
	// Memory is taken from the first round: later rounds run on processes
	// that have already seen the heaviest load of the sweep, and Go returns
	// memory to the system slowly.
	r.RSSMiB, r.Threads = ps[0].RSSMiB, ps[0].Threads
	r.Goroutines = int(col(func(p Point) float64 { return float64(p.Goroutines) }))
	var added []float64
	for _, p := range ps {
		r.Errors += p.Errors
		if d, ok := direct[p.Round]; ok {
			added = append(added, p.P50-d)
		}
	}
	r.AddedP50 = median(added)
	return r
}

func findRow(rows []Row, scenario, mode string, load float64, target string) *Row {
	for i := range rows {
		r := &rows[i]
		if r.Scenario == scenario && r.Mode == mode && r.Load == load && r.Target == target {
			return r
		}
	}
	return nil
}

// writeTable writes the rows as an aligned text table.
func writeTable(w io.Writer, rows []Row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tload\ttarget\treq/s\tp50 ms\tp90 ms\tp99 ms\tp99.9 ms\t+p50 ms\tcpu/req us\tvs revproxy\tcpu/event us\tRSS MiB\tthreads\tgoroutines\terrors\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.0f\t%.3f\t%.3f\t%.3f\t%.3f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t\n",
			r.Scenario, loadLabel(r.Mode, r.Load), r.Target, r.RPS, r.P50, r.P90, r.P99, r.P999,
			orNA(r.Target != "direct", "%+.3f", r.AddedP50),
			orNA(r.Measured, "%.1f", r.CPUPerReqUS),
			orNA(r.CPUVsRevProxy > 0, "%.2f", r.CPUVsRevProxy),
			orNA(r.Measured && r.CPUPerEventUS > 0, "%.2f", r.CPUPerEventUS),
			orNA(r.Measured, "%.1f", r.RSSMiB),
			orNA(r.Measured, "%.0f", float64(r.Threads)),
			orNA(r.Goroutines >= 0, "%.0f", float64(r.Goroutines)),
			r.Errors)
	}
	return tw.Flush()
}

func loadLabel(mode string, load float64) string {
	switch mode {
	case "closed":
		return fmt.Sprintf("c=%g", load)
	case "open":
		return fmt.Sprintf("%g/s", load)
	}
	return fmt.Sprintf("%s %g", mode, load)
}

func orNA(ok bool, format string, v float64) string {
	if !ok {
		return "n/a"
	}
	return fmt.Sprintf(format, v)
}

// Check is one line of the performance budget.
type Check struct {
	Name     string  `json:"name"`
	Limit    string  `json:"limit"`
	Measured string  `json:"measured"`
	Value    float64 `json:"value"`
	Pass     bool    `json:"pass"`
	// Reference marks a figure shown beside the budget, not checked.
	Reference bool `json:"reference,omitempty"`
}

// budget checks the gateway's rows against the budget; lines whose
// scenario was not run are left out.
func budget(rows []Row) []Check {
	var cs []Check
	var ratios []string
	worst, found := 0.0, false
	for _, r := range rows {
		if r.Target == "gateway" && r.Scenario == "small" && r.CPUVsRevProxy > 0 {
			ratios = append(ratios, fmt.Sprintf("%s %.2f", loadLabel(r.Mode, r.Load), r.CPUVsRevProxy))
			worst, found = max(worst, r.CPUVsRevProxy), true
		}
	}
	if found {
		cs = append(cs, Check{Name: "CPU per request vs bare reverse proxy (small)", Limit: "<= 1.00 (aim 0.60)", Measured: strings.Join(ratios, ", "), Value: worst, Pass: worst <= 1})
	}
	var events []string
	worst, found = 0, false
	for _, r := range rows {
		if r.Target == "gateway" && r.Scenario == "stream" && r.CPUPerEventUS > 0 {
			events = append(events, fmt.Sprintf("%s %.2f us", loadLabel(r.Mode, r.Load), r.CPUPerEventUS))
			worst, found = max(worst, r.CPUPerEventUS), true
		}
	}
	if found {
		cs = append(cs, Check{Name: "CPU per streamed event (stream, 200 tokens)", Limit: "<= 15 us", Measured: strings.Join(events, ", "), Value: worst, Pass: worst <= 15})
	}
	// Held open together with events 15 ms apart, every event costs any
	// proxy a read and a write system call of its own: a reference beside
	// the bare reverse proxy's, not a budget line (the scenario's line is
	// its memory).
	if r := lastRow(rows, "openstreams", "gateway"); r != nil {
		ref := "reference"
		if rp := lastRow(rows, "openstreams", "revproxy"); rp != nil && rp.CPUPerEventUS > 0 {
			ref = fmt.Sprintf("reference: revproxy %.2f us", rp.CPUPerEventUS)
		}
		cs = append(cs, Check{Name: fmt.Sprintf("CPU per streamed event (%g open streams, events 15 ms apart)", r.Load),
			Limit: ref, Measured: fmt.Sprintf("%.2f us", r.CPUPerEventUS), Value: r.CPUPerEventUS, Reference: true})
	}
	if r := findRow(rows, "small", "closed", 1, "gateway"); r != nil {
		cs = append(cs, Check{Name: "added p50 at one connection (small)", Limit: "<= 0.300 ms", Measured: fmt.Sprintf("%+.3f ms", r.AddedP50), Value: r.AddedP50, Pass: r.AddedP50 <= 0.3})
	}
	if r := findRow(rows, "small", "closed", 50, "gateway"); r != nil {
		cs = append(cs, Check{Name: "peak RSS at 50 connections (small)", Limit: "<= 50 MiB", Measured: fmt.Sprintf("%.1f MiB", r.RSSMiB), Value: r.RSSMiB, Pass: r.RSSMiB <= 50})
	}
	if r := lastRow(rows, "openstreams", "gateway"); r != nil {
		cs = append(cs, Check{Name: fmt.Sprintf("peak RSS with %g open streams", r.Load), Limit: "<= 150 MiB", Measured: fmt.Sprintf("%.1f MiB", r.RSSMiB), Value: r.RSSMiB, Pass: r.RSSMiB <= 150})
	}
	return cs
}

// soakCheck compares the soak's last three windows with its first three:
// peak RSS may grow by 10 % plus 2 MiB, goroutines (which move with the
// requests in flight) by half plus 20, threads by 2. It needs six windows.
func soakCheck(points []Point) []Check {
	var w []Point
	for _, p := range points {
		if p.Scenario == "soak" && p.Target == "gateway" {
			w = append(w, p)
		}
	}
	if len(w) < 6 {
		return nil
	}
	peak := func(ps []Point) (rss float64, gor, thr int) {
		for _, p := range ps {
			rss, gor, thr = max(rss, p.RSSMiB), max(gor, p.Goroutines), max(thr, p.Threads)
		}
		return
	}
	r0, g0, t0 := peak(w[:3])
	r1, g1, t1 := peak(w[len(w)-3:])
	flat := r1 <= r0*1.1+2 && float64(g1) <= float64(g0)*1.5+20 && t1 <= t0+2
	return []Check{{
		Name:     fmt.Sprintf("soak: flat over %d windows (first 3 -> last 3)", len(w)),
		Limit:    "RSS +10%+2 MiB, goroutines +50%+20, threads +2",
		Measured: fmt.Sprintf("RSS %.1f -> %.1f MiB, goroutines %d -> %d, threads %d -> %d", r0, r1, g0, g1, t0, t1),
		Value:    r1 - r0, Pass: flat,
	}}
}

func lastRow(rows []Row, scenario, target string) *Row {
	var found *Row
	for i := range rows {
		if rows[i].Scenario == scenario && rows[i].Target == target {
			found = &rows[i]
		}
	}
	return found
}

func writeBudget(w io.Writer, cs []Check) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "budget\tlimit\tmeasured\tresult")
	for _, c := range cs {
		res := "PASS"
		switch {
		case c.Reference:
			res = "-"
		case !c.Pass:
			res = "FAIL"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Name, c.Limit, c.Measured, res)
	}
	_ = tw.Flush()
}

// Report is the JSON the harness writes.
type Report struct {
	Started string   `json:"started"`
	Machine Machine  `json:"machine"`
	Options any      `json:"options"`
	Notes   []string `json:"notes,omitempty"`
	Rows    []Row    `json:"rows"`
	Budget  []Check  `json:"budget"`
	Points  []Point  `json:"points"`
}

// Machine describes where the numbers were taken.
type Machine struct {
	CPUs      int    `json:"cpus"`
	Model     string `json:"cpu_model"`
	GoVersion string `json:"go_version"`
	LoadAvg   string `json:"loadavg_at_start"`
}

func writeJSON(path string, rep *Report) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
