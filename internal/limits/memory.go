package limits

import (
	"context"
	"sync"
	"time"
)

// Memory counts limits in this process. It is safe for concurrent use.
type Memory struct {
	now func() time.Time

	mu      sync.Mutex
	entries map[string]*entry
	calls   uint32
}

// entry is one subject's counts: the theoretical arrival times (Unix
// nanoseconds) of its request and token buckets, and its open leases.
type entry struct {
	reqTAT, tokTAT int64
	conc           int64
}

var _ Limiter = (*Memory)(nil)

// NewMemory returns an empty in-memory limiter; now is its clock (nil:
// time.Now).
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{now: now, entries: make(map[string]*entry)}
}

// cost is the time a bucket of limit units per Window takes to refill n
// units.
func cost(n, limit int64) int64 {
	if n <= 0 || limit <= 0 {
		return 0
	}
	// n*Window overflows int64 beyond about 1.5e8 units: split.
	w := int64(Window)
	return n/limit*w + n%limit*w/limit
}

// state describes a bucket of limit units per Window whose theoretical
// arrival time is tat, at now: the units it could still give and how long
// until it is full.
func state(limit, tat, now int64) State {
	used := max(tat-now, 0)
	rem := int64(float64(int64(Window)-used) * float64(limit) / float64(Window))
	return State{Limit: limit, Remaining: min(max(rem, 0), limit), Reset: time.Duration(used)}
}

// tighter keeps in *dst the state with fewer remaining.
func tighter(dst *State, s State) {
	if dst.Limit == 0 || s.Remaining < dst.Remaining || (s.Remaining == dst.Remaining && s.Reset > dst.Reset) {
		*dst = s
	}
}

// maxStack is how many checks Acquire keeps their entries for without
// looking them up twice.
const maxStack = 8

// Acquire decides on r in memory.
func (m *Memory) Acquire(_ context.Context, r Request) (Decision, Lease, error) {
	if len(r.Spend.Budgets) > 0 {
		return Decision{}, Lease{}, errNoBudgets
	}
	if !active(&r) {
		return Decision{Allowed: true}, Lease{}, nil
	}
	now := m.now().UnixNano()
	w := int64(Window)
	var found [maxStack]*entry
	var d Decision
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(now)
	for i := range r.Checks {
		c := &r.Checks[i]
		if c.Limit.IsZero() {
			continue
		}
		e := m.entries[c.Subject]
		if e == nil {
			e = &entry{}
			m.entries[c.Subject] = e
		}
		if i < maxStack {
			found[i] = e
		}
		if l := c.Limit.RPM; l > 0 {
			tat := max(e.reqTAT, now) + cost(1, l)
			if tat-now > w {
				d.Requests = state(l, max(e.reqTAT, now), now)
				return refuse(d, c.Subject, Requests, time.Duration(tat-now-w)), Lease{}, nil
			}
			tighter(&d.Requests, state(l, tat, now))
		}
		if l := c.Limit.TPM; l > 0 && r.Tokens > 0 {
			if r.Tokens > l {
				d.Tokens = state(l, max(e.tokTAT, now), now)
				d = refuse(d, c.Subject, Tokens, 0)
				d.Never = true
				return d, Lease{}, nil
			}
			tat := max(e.tokTAT, now) + cost(r.Tokens, l)
			if tat-now > w {
				d.Tokens = state(l, max(e.tokTAT, now), now)
				return refuse(d, c.Subject, Tokens, time.Duration(tat-now-w)), Lease{}, nil
			}
			tighter(&d.Tokens, state(l, tat, now))
		}
		if l := c.Limit.Concurrent; l > 0 && e.conc >= l {
			return refuse(d, c.Subject, Concurrency, time.Second), Lease{}, nil
		}
	}
	for i := range r.Checks {
		c := &r.Checks[i]
		if c.Limit.IsZero() {
			continue
		}
		var e *entry
		if i < maxStack {
			e = found[i]
		} else {
			e = m.entries[c.Subject]
		}
		if l := c.Limit.RPM; l > 0 {
			e.reqTAT = max(e.reqTAT, now) + cost(1, l)
		}
		if l := c.Limit.TPM; l > 0 && r.Tokens > 0 {
			e.tokTAT = max(e.tokTAT, now) + cost(r.Tokens, l)
		}
		if c.Limit.Concurrent > 0 {
			e.conc++
		}
	}
	d.Allowed = true
	return d, Lease{l: m, req: r, active: true}, nil
}

func refuse(d Decision, subject string, dim Dimension, retry time.Duration) Decision {
	d.Allowed, d.Subject, d.Dimension, d.RetryAfter = false, subject, dim, retry
	if dim == Requests {
		d.Requests.Remaining = 0
	}
	if dim == Tokens {
		d.Tokens.Remaining = 0
	}
	return d
}

func (m *Memory) release(_ context.Context, r Request, _ string, used int64) error {
	now := m.now().UnixNano()
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range r.Checks {
		c := &r.Checks[i]
		if c.Limit.IsZero() {
			continue
		}
		e := m.entries[c.Subject]
		if e == nil {
			continue // swept: nothing held
		}
		if c.Limit.Concurrent > 0 && e.conc > 0 {
			e.conc--
		}
		if l := c.Limit.TPM; l > 0 && used != r.Tokens {
			if used > r.Tokens {
				e.tokTAT = max(e.tokTAT, now) + cost(used-r.Tokens, l)
			} else {
				e.tokTAT = max(e.tokTAT-cost(r.Tokens-used, l), now)
			}
		}
	}
	return nil
}

// sweep drops, now and then, a few entries that hold nothing (full
// buckets, no lease): their absence means the same. It visits a handful
// of entries every 64 calls, so memory follows the subjects in use
// without a pause.
func (m *Memory) sweep(now int64) {
	m.calls++
	if m.calls%64 != 0 {
		return
	}
	n := 0
	for k, e := range m.entries {
		if e.reqTAT <= now && e.tokTAT <= now && e.conc == 0 {
			delete(m.entries, k)
		}
		if n++; n >= 16 {
			return
		}
	}
}

// Len returns the number of subjects counted, for tests and metrics.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}
