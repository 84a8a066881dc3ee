package router

import (
	"testing"
	"time"
)

func TestBreakerTransitions(t *testing.T) {
	type step struct {
		op      string // "ok", "fail", "neutral", "wait", "deny", "allow"
		d       time.Duration
		want    string // the state after the step; "" not checked
		comment string
	}
	pol := BreakerPolicy{ConsecutiveFailures: 3, ErrorRate: 0.5, Window: 10 * time.Second, MinRequests: 6, Cooldown: 5 * time.Second, HalfOpenProbes: 2}
	tests := []struct {
		name  string
		steps []step
	}{
		{"consecutive failures open it", []step{
			{op: "fail", want: "closed"}, {op: "fail", want: "closed"}, {op: "fail", want: "open"},
			{op: "deny", want: "open"},
		}},
		{"a success resets the run", []step{
			{op: "fail", want: "closed"}, {op: "fail", want: "closed"}, {op: "ok", want: "closed"},
			{op: "fail", want: "closed"}, {op: "fail", want: "closed"},
		}},
		{"error rate over the window opens it", []step{
			{op: "ok"}, {op: "fail"}, {op: "ok"}, {op: "fail"}, {op: "ok", want: "closed"}, {op: "fail", want: "open", comment: "3 of 6"},
		}},
		{"old failures leave the window", []step{
			{op: "ok"}, {op: "fail"}, {op: "ok"}, {op: "fail"}, {op: "ok"},
			{op: "wait", d: 11 * time.Second, want: "closed"},
			{op: "fail", want: "closed", comment: "1 of 1 in window, under min requests"},
		}},
		{"neutral outcomes do not count", []step{
			{op: "fail"}, {op: "fail"}, {op: "neutral"}, {op: "neutral", want: "closed"},
		}},
		{"cooldown then half-open with a probe budget, then closed", []step{
			{op: "fail"}, {op: "fail"}, {op: "fail", want: "open"},
			{op: "wait", d: 4 * time.Second, want: "open"},
			{op: "wait", d: time.Second, want: "half_open"},
			{op: "allow"}, {op: "allow"}, {op: "deny", want: "half_open", comment: "budget of 2 spent"},
			{op: "okProbe"}, {op: "okProbe", want: "closed"},
		}},
		{"a failed probe opens it again", []step{
			{op: "fail"}, {op: "fail"}, {op: "fail"},
			{op: "wait", d: 5 * time.Second, want: "half_open"},
			{op: "allow"}, {op: "failProbe", want: "open"},
			{op: "wait", d: 4 * time.Second, want: "open"},
		}},
		{"a neutral probe gives its slot back", []step{
			{op: "fail"}, {op: "fail"}, {op: "fail"},
			{op: "wait", d: 5 * time.Second},
			{op: "allow"}, {op: "allow"}, {op: "neutralProbe"}, {op: "allow", want: "half_open"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			var changes []State
			b := newBreaker(pol, c.Now, func(s State) { changes = append(changes, s) })
			var probes []uint64
			for i, s := range tt.steps {
				switch s.op {
				case "ok", "fail", "neutral":
					gen, ok := b.allow()
					if !ok {
						t.Fatalf("step %d: not admitted", i)
					}
					b.record(gen, map[string]outcome{"ok": success, "fail": failure, "neutral": neutral}[s.op], 0)
				case "wait":
					c.Add(s.d)
				case "allow", "deny":
					gen, ok := b.allow()
					if ok != (s.op == "allow") {
						t.Fatalf("step %d: allow = %v", i, ok)
					}
					if ok {
						probes = append(probes, gen)
					}
				case "okProbe", "failProbe", "neutralProbe":
					gen := probes[0]
					probes = probes[1:]
					b.record(gen, map[string]outcome{"okProbe": success, "failProbe": failure, "neutralProbe": neutral}[s.op], 0)
				}
				if got := b.current().String(); s.want != "" && got != s.want {
					t.Fatalf("step %d (%s %s): state %v, want %v", i, s.op, s.comment, got, s.want)
				}
			}
			for i := 1; i < len(changes); i++ {
				if changes[i] == changes[i-1] {
					t.Errorf("repeated transition to %v in %v", changes[i], changes)
				}
			}
		})
	}
}

func TestBreakerCooldownHonoursRetryAfter(t *testing.T) {
	c := newClock()
	b := newBreaker(BreakerPolicy{ConsecutiveFailures: 1, Cooldown: time.Second}, c.Now, nil)
	gen, _ := b.allow()
	b.record(gen, failure, 20*time.Second)
	if at, ok := b.readyAt(); !ok || at.Sub(c.Now()) != 20*time.Second {
		t.Fatalf("readyAt = %v, want 20s from now", at.Sub(c.Now()))
	}
	c.Add(19 * time.Second)
	if _, ok := b.allow(); ok {
		t.Fatal("admitted before the target's Retry-After")
	}
	c.Add(time.Second)
	if _, ok := b.allow(); !ok || b.current() != StateHalfOpen {
		t.Fatal("not half-open after Retry-After")
	}
}

func TestBreakerIgnoresStaleResults(t *testing.T) {
	c := newClock()
	b := newBreaker(BreakerPolicy{ConsecutiveFailures: 1, Cooldown: time.Second, HalfOpenProbes: 1}, c.Now, nil)
	old, _ := b.allow() // admitted while closed, answers late
	gen, _ := b.allow()
	b.record(gen, failure, 0)
	c.Add(time.Second)
	probe, ok := b.allow()
	if !ok {
		t.Fatal("probe not admitted")
	}
	b.record(old, success, 0)
	if b.current() != StateHalfOpen {
		t.Fatalf("a result from before the trip moved the breaker to %v", b.current())
	}
	b.record(probe, success, 0)
	if b.current() != StateClosed {
		t.Fatalf("state %v after the probe succeeded", b.current())
	}
}
