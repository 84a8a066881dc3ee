package main

import (
	"context"
	"io"
	"net/http"
	"time"
)

// Point is one run of one target at one load, in one round.
type Point struct {
	Scenario string  `json:"scenario"`
	Target   string  `json:"target"`
	Round    int     `json:"round"`
	Mode     string  `json:"mode"` // closed (Load = connections) or open (Load = requests/s)
	Load     float64 `json:"load"`
	Requests uint64  `json:"requests"`
	Errors   uint64  `json:"errors"`
	RPS      float64 `json:"rps"`
	// Latencies in milliseconds; for streams, until [DONE].
	P50  float64 `json:"p50_ms"`
	P90  float64 `json:"p90_ms"`
	P99  float64 `json:"p99_ms"`
	P999 float64 `json:"p999_ms"`
	Max  float64 `json:"max_ms"`
	// TTFE50 and TTFE99 are the times to the first stream event.
	TTFE50 float64 `json:"ttfe_p50_ms,omitempty"`
	TTFE99 float64 `json:"ttfe_p99_ms,omitempty"`
	Events uint64  `json:"events,omitempty"`
	// Proxy process figures; Measured is false for direct.
	Measured bool `json:"measured"`
	// CPUSeconds is the proxy's on-CPU time during the run (schedstat);
	// CPUTickSeconds the same from utime+stime, in 10 ms ticks, as a check.
	CPUSeconds     float64 `json:"cpu_s"`
	CPUTickSeconds float64 `json:"cpu_ticks_s"`
	CPUPerReqUS    float64 `json:"cpu_per_req_us"`
	CPUPerEventUS  float64 `json:"cpu_per_event_us,omitempty"`
	RSSMiB         float64 `json:"rss_peak_mib"`
	Threads        int     `json:"threads"`
	Goroutines     int     `json:"goroutines"` // -1: not exposed
	LastError      string  `json:"last_error,omitempty"`
}

const mib = 1 << 20

// sampler watches a target's processes during a run: peak RSS and threads,
// and goroutines read once from /metrics halfway through.
type sampler struct {
	t          *target
	peakRSS    int64
	threads    int
	goroutines int
	stop       chan struct{}
	done       chan struct{}
}

func startSampler(t *target, half time.Duration) *sampler {
	s := &sampler{t: t, goroutines: -1, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		mid := time.After(half)
		for {
			s.sample()
			select {
			case <-s.stop:
				return
			case <-mid:
				s.goroutines = goroutinesOf(s.t)
			case <-tick.C:
			}
		}
	}()
	return s
}

func (s *sampler) sample() {
	ps, err := readProcs(s.t.proc.pids())
	if err != nil {
		return
	}
	s.peakRSS = max(s.peakRSS, ps.RSS)
	s.threads = max(s.threads, ps.Threads)
}

func (s *sampler) finish() {
	close(s.stop)
	<-s.done
	s.sample()
}

// goroutinesOf reads go_goroutines from the target's /metrics, or -1.
func goroutinesOf(t *target) int {
	if t.metrics == "" {
		return -1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, t.metrics, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		return -1
	}
	return parseGoroutines(b)
}

// measure runs run against t and folds what the client saw and what /proc
// says of t's processes into a Point.
func measure(t *target, expect time.Duration, run func() *result) Point {
	p := Point{Target: t.Name, Goroutines: -1}
	var before ProcStat
	var s *sampler
	if t.proc != nil {
		before, _ = readProcs(t.proc.pids())
		s = startSampler(t, expect/2)
	}
	r := run()
	if s != nil {
		s.finish()
		after, err := readProcs(t.proc.pids())
		if err == nil {
			p.Measured = true
			p.CPUTickSeconds = (after.CPU - before.CPU).Seconds()
			p.CPUSeconds = (after.RunTime - before.RunTime).Seconds()
			if after.RunTime == 0 {
				p.CPUSeconds = p.CPUTickSeconds
			}
			p.RSSMiB = float64(s.peakRSS) / mib
			p.Threads = s.threads
			p.Goroutines = s.goroutines
		}
	}
	fill(&p, r)
	return p
}

// fill copies the client's figures into p and derives the per-request ones.
func fill(p *Point, r *result) {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	p.Requests, p.Errors, p.Events, p.LastError = r.ok, r.errs, r.events, r.lastErr
	if r.elapsed > 0 {
		p.RPS = float64(r.ok) / r.elapsed.Seconds()
	}
	p.P50, p.P90 = ms(r.lat.Quantile(0.5)), ms(r.lat.Quantile(0.9))
	p.P99, p.P999 = ms(r.lat.Quantile(0.99)), ms(r.lat.Quantile(0.999))
	p.Max = ms(r.lat.Max())
	if r.ttfe.Count() > 0 {
		p.TTFE50, p.TTFE99 = ms(r.ttfe.Quantile(0.5)), ms(r.ttfe.Quantile(0.99))
	}
	if p.Measured && r.ok > 0 {
		p.CPUPerReqUS = p.CPUSeconds * 1e6 / float64(r.ok)
	}
	if p.Measured && r.events > 0 {
		p.CPUPerEventUS = p.CPUSeconds * 1e6 / float64(r.events)
	}
}
