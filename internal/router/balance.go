package router

import (
	"fmt"
	"sync"
	"time"
)

// Balancing is how a model spreads requests over its targets.
type Balancing uint8

// Balancing strategies.
const (
	// Weighted picks at random in proportion to weight (the default).
	Weighted Balancing = iota
	// RoundRobin takes targets in turn, each as often as its weight (smooth
	// weighted round robin, as nginx does it).
	RoundRobin
	// LeastInflight picks the target with the fewest calls in progress per
	// unit of weight.
	LeastInflight
	// Latency picks the target with the lowest moving average of time to
	// first token; a share of requests (explore) goes by weight instead, so
	// that a target that was slow or failing is measured again.
	Latency
)

// explore is the share of requests latency balancing sends by weight.
const explore = 0.1

// ParseBalancing returns the strategy named as in the configuration:
// weighted (or empty), round_robin, least_inflight or latency.
func ParseBalancing(s string) (Balancing, error) {
	switch s {
	case "", "weighted":
		return Weighted, nil
	case "round_robin":
		return RoundRobin, nil
	case "least_inflight":
		return LeastInflight, nil
	case "latency":
		return Latency, nil
	}
	return 0, fmt.Errorf("unknown balancing strategy %q", s)
}

// String returns the configuration name of b.
func (b Balancing) String() string {
	switch b {
	case RoundRobin:
		return "round_robin"
	case LeastInflight:
		return "least_inflight"
	case Latency:
		return "latency"
	}
	return "weighted"
}

// balancer picks one of the candidates, which all have a weight above 0.
type balancer interface {
	pick(c []candidate, rnd func() float64) *target
}

// candidate is a target that may take an attempt now, with its effective
// weight.
type candidate struct {
	t *target
	w float64
}

func newBalancer(b Balancing) balancer {
	switch b {
	case RoundRobin:
		return &roundRobin{current: make(map[*target]float64)}
	case LeastInflight:
		return leastInflight{}
	case Latency:
		return latency{}
	}
	return weighted{}
}

type weighted struct{}

func (weighted) pick(c []candidate, rnd func() float64) *target {
	total := 0.0
	for _, x := range c {
		total += x.w
	}
	n := rnd() * total
	for _, x := range c {
		if n < x.w {
			return x.t
		}
		n -= x.w
	}
	return c[len(c)-1].t
}

type roundRobin struct {
	mu      sync.Mutex
	current map[*target]float64
}

func (r *roundRobin) pick(c []candidate, _ func() float64) *target {
	r.mu.Lock()
	defer r.mu.Unlock()
	total := 0.0
	var best *target
	for _, x := range c {
		total += x.w
		r.current[x.t] += x.w
		if best == nil || r.current[x.t] > r.current[best] {
			best = x.t
		}
	}
	r.current[best] -= total
	return best
}

type leastInflight struct{}

func (leastInflight) pick(c []candidate, rnd func() float64) *target {
	// Start at a random candidate so that ties are broken at random.
	start := int(rnd() * float64(len(c)))
	var best *target
	bestScore := 0.0
	for i := range c {
		x := c[(start+i)%len(c)]
		score := float64(x.t.inflight.Load()+1) / x.w
		if best == nil || score < bestScore {
			best, bestScore = x.t, score
		}
	}
	return best
}

type latency struct{}

func (latency) pick(c []candidate, rnd func() float64) *target {
	if rnd() < explore {
		return weighted{}.pick(c, rnd)
	}
	var best *target
	bestScore := 0.0
	for _, x := range c {
		// Unmeasured targets score 0 and are measured first; low headroom
		// makes a target look slower.
		score := x.t.latency() * float64(x.t.Weight) / x.w
		if best == nil || score < bestScore {
			best, bestScore = x.t, score
		}
	}
	return best
}

// candidates returns the targets of m that may take an attempt now: never
// one the request avoids, and none it tried while an untried one is ready.
func (m *Model) candidates(now time.Time, tried map[*target]mark) []candidate {
	var all []candidate
	fresh := 0
	for _, t := range m.targets {
		if tried[t] == avoided || !t.ready(now) {
			continue
		}
		all = append(all, candidate{t, t.weight(now)})
		if tried[t] == untried {
			fresh++
		}
	}
	if fresh == 0 || fresh == len(all) {
		return all
	}
	// The untried ones, in order, in the same slice: one allocation.
	n := 0
	for _, c := range all {
		if tried[c.t] == untried {
			all[n] = c
			n++
		}
	}
	return all[:n]
}
