package router

import (
	"context"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/provider"
)

type named string

func (n named) Name() string { return string(n) }
func (n named) Chat(context.Context, *llm.ChatRequest) (llm.Stream, error) {
	return llm.NewSliceStream(nil), nil
}

// model builds a router model with targets a, b, c... of the given weights.
func testModel(t *testing.T, bal Balancing, c *clock, rnd func() float64, weights ...int) (*Router, *Model) {
	t.Helper()
	m := Model{Name: "m", Balancing: bal}
	for i, w := range weights {
		m.Targets = append(m.Targets, Target{Provider: named(string(rune('a' + i))), Model: "x", Weight: w})
	}
	r := New([]Model{m}, Options{Now: c.Now, Rand: rnd})
	return r, r.exact["m"]
}

func picks(m *Model, r *Router, n int) string {
	out := ""
	for range n {
		out += m.bal.pick(m.candidates(r.now(), nil), r.rand).Provider.Name()
	}
	return out
}

func TestBalancing(t *testing.T) {
	tests := []struct {
		name    string
		bal     Balancing
		rnd     func() float64
		weights []int
		setup   func(m *Model)
		want    string
	}{
		{"weighted follows the random draw by weight", Weighted, seq(0, 0.24, 0.26, 0.99), []int{1, 3}, nil, "aabb"},
		{"weighted skips weight 0", Weighted, seq(0, 0.5, 0.99), []int{0, 1}, nil, "bbb"},
		{"round robin is smooth by weight", RoundRobin, seq(0), []int{1, 2}, nil, "babbab"},
		{"round robin in turn", RoundRobin, seq(0), []int{1, 1, 1}, nil, "abcabc"},
		{"least inflight per weight", LeastInflight, seq(0), []int{1, 1, 2}, func(m *Model) {
			m.targets[0].inflight.Store(3)
			m.targets[1].inflight.Store(1)
			m.targets[2].inflight.Store(3) // (3+1)/2 = 2 ties b's (1+1)/1
		}, "bbb"},
		{"least inflight breaks ties from a random start", LeastInflight, seq(0.5), []int{1, 1}, nil, "bb"},
		{"latency prefers the fastest", Latency, seq(0.5), []int{1, 1, 1}, func(m *Model) {
			m.targets[0].ewma, m.targets[1].ewma, m.targets[2].ewma = 0.3, 0.1, 0.2
		}, "bbb"},
		{"latency measures an unmeasured target first", Latency, seq(0.5), []int{1, 1}, func(m *Model) {
			m.targets[0].ewma = 0.1
		}, "bb"},
		{"latency explores by weight", Latency, seq(0.05, 0.9), []int{1, 1}, func(m *Model) {
			m.targets[0].ewma, m.targets[1].ewma = 0.1, 5
		}, "b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, m := testModel(t, tt.bal, newClock(), tt.rnd, tt.weights...)
			if tt.setup != nil {
				tt.setup(m)
			}
			if got := picks(m, r, len(tt.want)); got != tt.want {
				t.Errorf("picks %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCandidatesPreferUntriedAndReady(t *testing.T) {
	c := newClock()
	r, m := testModel(t, Weighted, c, seq(0), 1, 1, 1)
	a, b, cc := m.targets[0], m.targets[1], m.targets[2]
	b.backOff(c.Now(), time.Second) // Retry-After pending
	got := m.candidates(c.Now(), map[*target]mark{a: triedOnce})
	if len(got) != 1 || got[0].t != cc {
		t.Fatalf("want only c (a tried, b backing off), got %d", len(got))
	}
	got = m.candidates(c.Now(), map[*target]mark{a: triedOnce, cc: triedOnce})
	if len(got) != 2 {
		t.Fatalf("with every ready target tried, tried ones are allowed again; got %d", len(got))
	}
	got = m.candidates(c.Now(), map[*target]mark{a: avoided, cc: triedOnce})
	if len(got) != 1 || got[0].t != cc {
		t.Fatalf("an avoided target is never a candidate again; got %d", len(got))
	}
	c.Add(time.Second)
	if got := m.candidates(c.Now(), nil); len(got) != 3 {
		t.Fatalf("b ready after its Retry-After; got %d candidates", len(got))
	}
	got = m.candidates(c.Now(), map[*target]mark{b: triedOnce})
	if len(got) != 2 || got[0].t != a || got[1].t != cc || got[0].w != a.weight(c.Now()) || got[1].w != cc.weight(c.Now()) {
		t.Fatalf("want a then c, the untried ones in order, with their weights; got %+v", got)
	}
	_ = r
}

func TestHeadroomSteering(t *testing.T) {
	c := newClock()
	r, m := testModel(t, Weighted, c, seq(0.5), 1, 1)
	a := m.targets[0]
	a.observeHeadroom(c.Now(), provider.Headroom{RemainingRequests: 1, LimitRequests: 100, RemainingTokens: -1, LimitTokens: -1,
		ResetRequests: 30 * time.Second})
	if w := a.weight(c.Now()); w != minHeadroomFactor {
		t.Fatalf("weight with 1%% headroom = %v, want %v", w, minHeadroomFactor)
	}
	a.observeHeadroom(c.Now(), provider.Headroom{RemainingRequests: 10, LimitRequests: 100, RemainingTokens: -1, LimitTokens: -1,
		ResetRequests: 30 * time.Second})
	if w := a.weight(c.Now()); w != 0.5 {
		t.Fatalf("weight with 10%% headroom = %v, want 0.5", w)
	}
	// Share: a 0.5 against b 1.
	st := r.Status()[0].Targets
	if st[0].Share != 0.5/1.5 || st[0].Headroom != 0.1 {
		t.Errorf("status %+v", st[0])
	}
	// The draw 0.5 of 1.5 lands on b.
	if got := picks(m, r, 1); got != "b" {
		t.Errorf("picked %q, want b", got)
	}
	c.Add(30 * time.Second)
	if w := a.weight(c.Now()); w != 1 {
		t.Errorf("weight after the limit reset = %v, want 1", w)
	}
	a.observeHeadroom(c.Now(), provider.Headroom{RemainingRequests: 50, LimitRequests: 100, RemainingTokens: -1, LimitTokens: -1})
	if w := a.weight(c.Now()); w != 1 {
		t.Errorf("weight with 50%% headroom = %v, want 1", w)
	}
}

func TestParseBalancing(t *testing.T) {
	for _, s := range []string{"weighted", "round_robin", "least_inflight", "latency"} {
		b, err := ParseBalancing(s)
		if err != nil || b.String() != s {
			t.Errorf("%s: %v %v", s, b, err)
		}
	}
	if _, err := ParseBalancing("fastest"); err == nil {
		t.Error("unknown strategy accepted")
	}
}
