package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 {
		sub := map[string]func([]string) error{"upstream": runUpstream, "revproxy": runRevProxy, "gateway": runGateway}
		if f, ok := sub[os.Args[1]]; ok {
			if err := f(os.Args[2:]); err != nil {
				fmt.Fprintln(os.Stderr, "bench "+os.Args[1]+":", err)
				os.Exit(1)
			}
			return
		}
	}
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

var allScenarios = []string{"small", "stream", "openstreams", "mix", "soak"}

// cli holds the raw command line.
type cli struct {
	o        options
	jsonPath string
	plotPath string
	pprof    string
	noNginx  bool
	noTrace  bool
}

func parseFlags(args []string, stderr io.Writer) (*cli, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &cli{}
	scen := fs.String("scenario", "small,stream,openstreams", "comma-separated scenarios: "+strings.Join(allScenarios, ",")+" or all")
	conc := fs.String("concurrency", "1,50", "closed-model connections, comma-separated")
	rate := fs.String("rate", "1000,3000", "open-model arrival rates in requests/s, comma-separated (empty: none)")
	targets := fs.String("targets", "", "comma-separated subset of direct,revproxy,nginx,gateway,gateway-static (default all)")
	fs.DurationVar(&c.o.duration, "duration", time.Second, "length of each measured run")
	fs.IntVar(&c.o.rounds, "rounds", 3, "rounds; targets are interleaved within each")
	fs.IntVar(&c.o.streams, "streams", 1000, "streams held open at once in openstreams")
	fs.IntVar(&c.o.tokens, "tokens", 200, "content events per stream")
	fs.DurationVar(&c.o.latency, "latency", 0, "fixed upstream latency before each answer (0: instant)")
	fs.DurationVar(&c.o.soak, "soak", 5*time.Minute, "length of the soak scenario")
	fs.StringVar(&c.jsonPath, "json", "", "write the results as JSON to this file")
	fs.StringVar(&c.plotPath, "plot", "", "write a PNG of latency against load to this file")
	fs.StringVar(&c.pprof, "pprof", "", "run the gateway in-process with a CPU profile written to this file")
	fs.BoolVar(&c.noNginx, "no-nginx", false, "leave nginx out even when installed")
	fs.BoolVar(&c.noTrace, "no-tracing", false, "run the gateway with tracing off (it is on, every request sampled, by default)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	var err error
	if c.o.scenarios, err = parseScenarios(*scen); err != nil {
		return nil, err
	}
	if c.o.concurrency, err = parseList(*conc, strconv.Atoi); err != nil || len(c.o.concurrency) == 0 {
		return nil, fmt.Errorf("--concurrency %q: want positive integers", *conc)
	}
	if c.o.rates, err = parseList(*rate, func(s string) (float64, error) { return strconv.ParseFloat(s, 64) }); err != nil {
		return nil, fmt.Errorf("--rate %q: want positive numbers", *rate)
	}
	if *targets != "" {
		c.o.targets = map[string]bool{"direct": true}
		for _, t := range strings.Split(*targets, ",") {
			c.o.targets[strings.TrimSpace(t)] = true
		}
	}
	if c.o.rounds < 1 || c.o.duration <= 0 || c.o.streams < 1 || c.o.tokens < 1 {
		return nil, errors.New("--rounds, --duration, --streams and --tokens must be positive")
	}
	return c, nil
}

func parseScenarios(s string) ([]string, error) {
	if s == "all" {
		return allScenarios, nil
	}
	var out []string
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if !contains(allScenarios, name) {
			return nil, fmt.Errorf("unknown scenario %q", name)
		}
		out = append(out, name)
	}
	return out, nil
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// parseList parses a comma-separated list of positive numbers.
func parseList[T int | float64](s string, parse func(string) (T, error)) ([]T, error) {
	var out []T
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		v, err := parse(f)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("bad value %q", f)
		}
		out = append(out, v)
	}
	return out, nil
}

func run(args []string, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	rep := &Report{Started: time.Now().UTC().Format(time.RFC3339), Machine: machine(), Options: flagValues(args)}
	fmt.Fprintf(stderr, "bench: %d CPUs, %s, load average %s\n", rep.Machine.CPUs, rep.Machine.Model, rep.Machine.LoadAvg)
	l, err := startLab(ctx, labOptions{noNginx: c.noNginx, pprof: c.pprof, noTracing: c.noTrace})
	if err != nil {
		return err
	}
	h := &harness{o: c.o, lab: l}
	steps := map[string]func(context.Context){"small": h.small, "stream": h.stream, "openstreams": h.openStreams, "mix": h.mix, "soak": h.soakRun}
	for _, s := range c.o.scenarios {
		fmt.Fprintf(stderr, "bench: scenario %s\n", s)
		steps[s](ctx)
	}
	l.close()
	rep.Notes = l.notes
	rep.Points = h.points
	rep.Rows = summarize(h.points)
	rep.Budget = append(budget(rep.Rows), soakCheck(h.points)...)
	for _, n := range rep.Notes {
		fmt.Fprintln(stdout, "note:", n)
	}
	if err := writeTable(stdout, rep.Rows); err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	writeBudget(stdout, rep.Budget)
	if c.jsonPath != "" {
		if err := writeJSON(c.jsonPath, rep); err != nil {
			return err
		}
	}
	if c.plotPath != "" {
		if err := writePlot(c.plotPath, rep.Rows); err != nil {
			return err
		}
	}
	return ctx.Err()
}

func flagValues(args []string) []string { return append([]string{}, args...) }

func machine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.Model = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		m.LoadAvg = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	return m
}
