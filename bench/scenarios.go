package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

// options are the harness's command-line settings.
type options struct {
	scenarios   []string
	duration    time.Duration
	rounds      int
	concurrency []int
	rates       []float64
	streams     int
	tokens      int
	latency     time.Duration
	soak        time.Duration
	targets     map[string]bool // nil: all
}

// harness runs scenarios against the lab's targets.
type harness struct {
	o      options
	lab    *lab
	points []Point
}

// loadPoint is one load level of a sweep.
type loadPoint struct {
	mode string // closed or open
	load float64
}

func (h *harness) sweepPoints() []loadPoint {
	var lp []loadPoint
	for _, c := range h.o.concurrency {
		lp = append(lp, loadPoint{"closed", float64(c)})
	}
	for _, r := range h.o.rates {
		lp = append(lp, loadPoint{"open", r})
	}
	return lp
}

func (h *harness) active() []*target {
	var ts []*target
	for _, t := range h.lab.targets {
		if h.o.targets == nil || h.o.targets[t.Name] {
			ts = append(ts, t)
		}
	}
	return ts
}

// ordered returns the active targets in the order of a round: rotated by
// one each round, so that no target always runs first (on a busy machine
// the first of two equal targets tends to measure worse).
func (h *harness) ordered(round int) []*target {
	ts := h.active()
	if len(ts) == 0 {
		return ts
	}
	k := (round - 1) % len(ts)
	return append(ts[k:len(ts):len(ts)], ts[:k]...)
}

// steer is the request metadata that sets the upstream's fixed latency.
func (h *harness) steer(interval time.Duration) string {
	if h.o.latency == 0 && interval == 0 {
		return ""
	}
	return fmt.Sprintf(`,"metadata":{"bench_latency_ms":"%g","bench_interval_ms":"%g"}`,
		float64(h.o.latency)/float64(time.Millisecond), float64(interval)/float64(time.Millisecond))
}

// sweep runs every load point against every target, round after round,
// targets interleaved within each point so that all of them see the same
// machine.
func (h *harness) sweep(ctx context.Context, scenario string, points []loadPoint, body func(t *target) bodyFunc, stream bool) {
	for round := 1; round <= h.o.rounds; round++ {
		for _, lp := range points {
			for _, t := range h.ordered(round) {
				if ctx.Err() != nil {
					return
				}
				p := h.runPoint(ctx, t, lp, body(t), stream)
				p.Scenario, p.Round = scenario, round
				h.record(p)
			}
		}
	}
}

func (h *harness) runPoint(ctx context.Context, t *target, lp loadPoint, body bodyFunc, stream bool) Point {
	conns := int(lp.load)
	if lp.mode == "open" {
		conns = 256
	}
	c := newClient(t.URL, t.Key, conns)
	defer c.close()
	warm := min(conns, 64)
	runClosed(ctx, c, warm, 200*time.Millisecond, body, stream)
	p := measure(t, h.o.duration, func() *result {
		if lp.mode == "open" {
			return runOpen(ctx, c, lp.load, h.o.duration, body, stream)
		}
		return runClosed(ctx, c, conns, h.o.duration, body, stream)
	})
	p.Mode, p.Load = lp.mode, lp.load
	return p
}

func (h *harness) record(p Point) {
	h.points = append(h.points, p)
	extra := ""
	if p.Errors > 0 {
		extra = fmt.Sprintf(" errors=%d (%s)", p.Errors, p.LastError)
	}
	fmt.Fprintf(os.Stderr, "  %-11s r%d %-6s %6g %-8s %8.0f req/s  p50 %7.3f ms  p99 %7.3f ms  cpu/req %6.1f us  rss %5.1f MiB%s\n",
		p.Scenario, p.Round, p.Mode, p.Load, p.Target, p.RPS, p.P50, p.P99, p.CPUPerReqUS, p.RSSMiB, extra)
}

func (h *harness) small(ctx context.Context) {
	h.sweep(ctx, "small", h.sweepPoints(), func(t *target) bodyFunc {
		b := chatBody(t.Model, "", false, 64, h.steer(0))
		return func(int) []byte { return b }
	}, false)
}

func (h *harness) stream(ctx context.Context) {
	var lp []loadPoint
	for _, c := range h.o.concurrency {
		lp = append(lp, loadPoint{"closed", float64(c)})
	}
	h.sweep(ctx, "stream", lp, func(t *target) bodyFunc {
		b := chatBody(t.Model, "", true, h.o.tokens, h.steer(0))
		return func(int) []byte { return b }
	}, true)
}

// mix sends half repeated identical requests and half unique ones: the
// repeated half are cache hits once the gateway has a cache.
func (h *harness) mix(ctx context.Context) {
	var lp []loadPoint
	for _, c := range h.o.concurrency {
		lp = append(lp, loadPoint{"closed", float64(c)})
	}
	h.sweep(ctx, "mix", lp, func(t *target) bodyFunc {
		same := chatBody(t.Model, "", false, 64, h.steer(0))
		return func(i int) []byte {
			if i%2 == 0 {
				return same
			}
			return chatBody(t.Model, "n"+strconv.Itoa(i), false, 64, h.steer(0))
		}
	}, false)
}

// openStreams holds h.o.streams slow streams open at once through each
// target and records the memory it takes and the CPU time per event. It
// runs --rounds rounds like the other scenarios: a peak of memory is not a
// noisy figure (the table takes it from the first round), but the CPU time
// per event, on a shared machine, is.
func (h *harness) openStreams(ctx context.Context) {
	const interval = 15 * time.Millisecond
	hold := time.Duration(h.o.tokens) * interval
	for round := 1; round <= h.o.rounds; round++ {
		for _, t := range h.ordered(round) {
			if ctx.Err() != nil {
				return
			}
			body := chatBody(t.Model, "", true, h.o.tokens, h.steer(interval))
			c := newClient(t.URL, t.Key, h.o.streams)
			p := measure(t, hold, func() *result {
				return runBurst(ctx, c, h.o.streams, body)
			})
			c.close()
			p.Scenario, p.Round, p.Mode, p.Load = "openstreams", round, "burst", float64(h.o.streams)
			h.record(p)
		}
	}
}

// runBurst opens n streams at once and reads them all to the end.
func runBurst(ctx context.Context, c *client, n int, body []byte) *result {
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		all result
	)
	start := time.Now()
	for range n {
		wg.Go(func() {
			t := time.Now()
			o, err := c.do(ctx, body, true)
			lat := time.Since(t)
			mu.Lock()
			all.add(o, lat, true, err)
			mu.Unlock()
		})
	}
	wg.Wait()
	all.elapsed = time.Since(start)
	return &all
}

// soak drives the gateway alone for h.o.soak at the highest concurrency,
// half the connections sending small requests and half streaming ones, in
// windows of 10 s, each a Point: RSS, threads and goroutines should stay
// flat from window to window.
func (h *harness) soakRun(ctx context.Context) {
	t := h.lab.target("gateway")
	conc := h.o.concurrency[len(h.o.concurrency)-1]
	streams := conc / 2
	c := newClient(t.URL, t.Key, conc)
	defer c.close()
	small := chatBody(t.Model, "", false, 64, h.steer(0))
	stream := chatBody(t.Model, "", true, h.o.tokens, h.steer(0))
	const window = 10 * time.Second
	for i := 1; time.Duration(i-1)*window < h.o.soak && ctx.Err() == nil; i++ {
		p := measure(t, window, func() *result {
			var sr *result
			done := make(chan struct{})
			go func() {
				defer close(done)
				sr = runClosed(ctx, c, streams, window, func(int) []byte { return stream }, true)
			}()
			r := runClosed(ctx, c, max(conc-streams, 1), window, func(int) []byte { return small }, false)
			<-done
			r.merge(sr)
			return r
		})
		p.Scenario, p.Round, p.Mode, p.Load = "soak", i, "closed", float64(conc)
		h.record(p)
	}
}
