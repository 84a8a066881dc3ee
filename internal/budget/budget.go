package budget

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Period is how often a budget starts over.
type Period string

// The periods.
const (
	Daily   Period = "daily"
	Weekly  Period = "weekly"
	Monthly Period = "monthly"
	Total   Period = "total"
)

// Valid reports whether p is one of the periods.
func (p Period) Valid() bool { return p == Daily || p == Weekly || p == Monthly || p == Total }

// Window returns the name of the period that holds t, when it starts and
// when it ends, in UTC: [start, end). Total is named "total" and has
// neither start nor end (zero times).
func (p Period) Window(t time.Time) (name string, start, end time.Time) {
	t = t.UTC()
	switch p {
	case Daily:
		start := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		return start.Format("2006-01-02"), start, start.AddDate(0, 0, 1)
	case Weekly:
		y, w := t.ISOWeek()
		wd := (int(t.Weekday()) + 6) % 7 // Monday = 0
		start := time.Date(t.Year(), t.Month(), t.Day()-wd, 0, 0, 0, 0, time.UTC)
		return fmt.Sprintf("%04d-W%02d", y, w), start, start.AddDate(0, 0, 7)
	case Monthly:
		start := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		return start.Format("2006-01"), start, start.AddDate(0, 1, 0)
	}
	return "total", time.Time{}, time.Time{}
}

// Budget is one limit on spending.
type Budget struct {
	// Subject names what is limited: "key:<id>", "team:<id>",
	// "tenant:<id>".
	Subject string
	// Limit is in picodollars (as package pricing counts), > 0.
	Limit  int64
	Period Period
}

// Request is what a call asks of its budgets.
type Request struct {
	Budgets []Budget
	// Estimate is the call's upper-bound cost in picodollars.
	Estimate int64
}

// Decision is the outcome of Reserve.
type Decision struct {
	Allowed bool
	// On a refusal: the budget that refused, what its period has spent
	// and holds reserved, and when the period ends (zero for total).
	Budget   Budget
	Spent    int64
	Reserved int64
	ResetAt  time.Time
}

// Reservation is an admitted call's hold on its budgets; Settle must be
// called once when the call ends.
type Reservation struct {
	b       settler
	req     Request
	id      string
	windows []string
	ends    []time.Time
	active  bool
}

type settler interface {
	settle(ctx context.Context, r *Reservation, actual int64) ([]int64, error)
}

// Budgets returns the budgets the reservation holds, and Windows the
// names of the periods it holds them in, in the same order.
func (r *Reservation) Budgets() []Budget { return r.req.Budgets }

// Windows: see Budgets.
func (r *Reservation) Windows() []string { return r.windows }

// Estimate is the amount reserved against each budget.
func (r *Reservation) Estimate() int64 { return r.req.Estimate }

// Valid reports whether the reservation holds anything.
func (r *Reservation) Valid() bool { return r != nil && r.active }

// Settle adds actual (picodollars) to every budget's spending and
// releases the reservation; a negative actual is a cost not known, which
// spends the whole reservation. It answers each budget's spending in its
// period after (in the order of the request's budgets), for alerts on
// thresholds. A second call does nothing and answers nil.
func (r *Reservation) Settle(ctx context.Context, actual int64) ([]int64, error) {
	if r == nil || !r.active {
		return nil, nil
	}
	r.active = false
	if actual < 0 {
		actual = r.req.Estimate
	}
	return r.b.settle(ctx, r, actual)
}

// Budgeter reserves and settles spending.
type Budgeter interface {
	// Reserve decides on r at now's periods. An error means the counts
	// could not be reached: the caller applies its failure policy.
	Reserve(ctx context.Context, r Request) (Decision, Reservation, error)
	// Spent returns a budget's spending and reservations in the current
	// period.
	Spent(ctx context.Context, b Budget) (spent, reserved int64, err error)
}

// newID returns a random reservation ID.
func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ErrUnavailable wraps failures to reach shared counts.
var ErrUnavailable = errors.New("budget: counts unavailable")

// check validates r.
func check(r *Request) error {
	for _, b := range r.Budgets {
		if b.Subject == "" || b.Limit <= 0 || !b.Period.Valid() {
			return fmt.Errorf("budget: invalid budget %+v", b)
		}
	}
	if r.Estimate < 0 {
		return errors.New("budget: negative estimate")
	}
	return nil
}
