package budget

import (
	"context"
	"sync"
	"time"
)

// Memory keeps budgets in this process: for one replica.
type Memory struct {
	now func() time.Time
	ttl time.Duration

	mu      sync.Mutex
	windows map[string]*window // subject "|" window name
}

type window struct {
	spent    int64
	reserved map[string]hold
	end      time.Time
}

type hold struct {
	amount  int64
	expires time.Time
}

var _ Budgeter = (*Memory)(nil)

// NewMemory returns an empty in-memory budgeter; reservations expire after
// ttl (default 15 minutes); now is its clock (nil: time.Now).
func NewMemory(now func() time.Time, ttl time.Duration) *Memory {
	if now == nil {
		now = time.Now
	}
	if ttl <= 0 {
		ttl = 15 * time.Minute
	}
	return &Memory{now: now, ttl: ttl, windows: map[string]*window{}}
}

func (w *window) reservedAt(now time.Time) int64 {
	var sum int64
	for id, h := range w.reserved {
		if !now.Before(h.expires) {
			delete(w.reserved, id)
			continue
		}
		sum += h.amount
	}
	return sum
}

// Reserve decides on r in memory.
func (m *Memory) Reserve(_ context.Context, r Request) (Decision, Reservation, error) {
	if err := check(&r); err != nil {
		return Decision{}, Reservation{}, err
	}
	if len(r.Budgets) == 0 {
		return Decision{Allowed: true}, Reservation{}, nil
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(now)
	names := make([]string, len(r.Budgets))
	wins := make([]*window, len(r.Budgets))
	for i, b := range r.Budgets {
		name, _, end := b.Period.Window(now)
		names[i] = name
		k := b.Subject + "|" + name
		w := m.windows[k]
		if w == nil {
			w = &window{reserved: map[string]hold{}, end: end}
			m.windows[k] = w
		}
		wins[i] = w
		res := w.reservedAt(now)
		if w.spent+res+r.Estimate > b.Limit {
			return Decision{Budget: b, Spent: w.spent, Reserved: res, ResetAt: end}, Reservation{}, nil
		}
	}
	id := newID()
	for _, w := range wins {
		w.reserved[id] = hold{amount: r.Estimate, expires: now.Add(m.ttl)}
	}
	return Decision{Allowed: true}, Reservation{b: m, req: r, id: id, windows: names, active: true}, nil
}

func (m *Memory) settle(_ context.Context, r *Reservation, actual int64) ([]int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	after := make([]int64, len(r.req.Budgets))
	settled := map[*window]bool{}
	for i, b := range r.req.Budgets {
		k := b.Subject + "|" + r.windows[i]
		w := m.windows[k]
		if w == nil {
			continue // the period ended and was dropped
		}
		if !settled[w] { // two budgets on one count spend once
			settled[w] = true
			delete(w.reserved, r.id)
			w.spent += actual
		}
		after[i] = w.spent
	}
	return after, nil
}

// Spent returns b's counts in the current period.
func (m *Memory) Spent(_ context.Context, b Budget) (int64, int64, error) {
	now := m.now()
	name, _, _ := b.Period.Window(now)
	m.mu.Lock()
	defer m.mu.Unlock()
	w := m.windows[b.Subject+"|"+name]
	if w == nil {
		return 0, 0, nil
	}
	return w.spent, w.reservedAt(now), nil
}

// sweep drops ended periods.
func (m *Memory) sweep(now time.Time) {
	for k, w := range m.windows {
		if !w.end.IsZero() && !now.Before(w.end) && len(w.reserved) == 0 {
			delete(m.windows, k)
		}
	}
}
