package store

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// AlertEvent is one alert fired: a budget's spending crossed a threshold
// in one window. The store keeps at most one per (Subject, Period,
// Window, Threshold), so that among many replicas seeing the crossing
// exactly one fires it.
type AlertEvent struct {
	TenantID string
	// Subject is the budget's subject ("key:<id>", "team:<id>",
	// "tenant:<id>"), Period its period and Window the period's window
	// the spending fell in.
	Subject, Period, Window string
	// Threshold is the percentage of the limit crossed, 1 to 100.
	Threshold int
	At        time.Time
	// Delivery is the webhook delivery to queue when the alert is
	// claimed, in the same transaction: a claimed alert is never left
	// without its delivery.
	Delivery Delivery
}

// The states of a delivery.
const (
	// DeliveryPending: not yet delivered, to be attempted at NextAt.
	DeliveryPending = "pending"
	// DeliveryDone: the receiver answered 2xx.
	DeliveryDone = "done"
	// DeliveryFailed: given up, after the last attempt allowed or on 410
	// Gone.
	DeliveryFailed = "failed"
)

// Bounds of what a delivery holds.
const (
	MaxPayloadBytes = 64 << 10
	MaxErrorLen     = 512
)

// Delivery is one webhook message and the state of its delivery.
type Delivery struct {
	// ID is the message's ID, sent as webhook-id: the same on every
	// attempt, so that a receiver can drop a message seen twice.
	ID       string
	TenantID string
	// Type is the event type, such as "budget.threshold_crossed".
	Type string
	// Payload is the JSON body sent, byte for byte (it is signed).
	Payload []byte
	// State is DeliveryPending, DeliveryDone or DeliveryFailed.
	State string
	// Attempts counts the attempts made; Status and Error are the last
	// one's HTTP status (0 when none came) and error ("" when none).
	Attempts int
	Status   int
	Error    string
	// CreatedAt is when the delivery was queued, LastAt when it was last
	// attempted (zero before the first attempt), NextAt when it is due
	// (zero once it is done or failed).
	CreatedAt, LastAt, NextAt time.Time
}

// Attempt is the outcome of one delivery attempt, recorded by
// Alerts.Record.
type Attempt struct {
	DeliveryID string
	// N numbers the delivery's attempts 1, 2, 3, ...
	N  int
	At time.Time
	// Status is the receiver's HTTP status, 0 when no answer came.
	Status int
	// Error says what went wrong ("" on success), without secrets.
	Error string
	// State is the delivery's state after the attempt, and NextAt, for a
	// delivery still pending, when it is due again.
	State  string
	NextAt time.Time
}

// DeliveryFilter narrows Alerts.List; an empty field does not filter.
type DeliveryFilter struct {
	TenantID string
}

// Alerts holds the alerts fired and the queue of their webhook
// deliveries. The queue is in the database, so that a restart, or
// another replica, carries on with deliveries still pending.
type Alerts interface {
	// Claim records ev as fired and queues ev.Delivery, due at once, in
	// one transaction. It returns false, and queues nothing, when the
	// alert was fired already (by this replica or another).
	Claim(ctx context.Context, ev AlertEvent) (claimed bool, err error)
	// Due leases up to limit pending deliveries due at now, oldest due
	// first, until now+lease: no other call of Due returns them before
	// the lease ends or Record is called, so two replicas never attempt
	// one delivery at once. A delivery whose attempt was interrupted (the
	// process died) is due again when its lease ends.
	Due(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Delivery, error)
	// Record stores an attempt and the delivery's new state, and ends
	// its lease. a.N must be one more than the delivery's Attempts: an
	// attempt recorded already (by a replica whose lease had ended) is
	// ErrConflict.
	Record(ctx context.Context, a Attempt) error
	// List pages through the deliveries that match f, newest first.
	List(ctx context.Context, f DeliveryFilter, opts ListOptions) (Page[Delivery], error)
	// Attempts returns the attempts of one delivery, in order.
	Attempts(ctx context.Context, deliveryID string) ([]Attempt, error)
}

// CheckAlert refuses an alert or delivery that cannot be stored.
func CheckAlert(ev *AlertEvent) error {
	switch {
	case ev.Subject == "" || ev.Period == "" || ev.Window == "" ||
		len(ev.Subject) > maxIDLen+MaxNameLen || len(ev.Period) > MaxNameLen || len(ev.Window) > MaxNameLen ||
		!Text(ev.Subject) || !Text(ev.Period) || !Text(ev.Window) || !Text(ev.TenantID) || len(ev.TenantID) > maxIDLen+MaxNameLen:
		return fmt.Errorf("%w: an alert needs a subject, period and window of UTF-8 text", ErrInvalid)
	case ev.Threshold < 1 || ev.Threshold > 100:
		return fmt.Errorf("%w: an alert's threshold must be 1 to 100 percent", ErrInvalid)
	}
	d := &ev.Delivery
	switch {
	case d.ID == "" || len(d.ID) > maxIDLen || !Text(d.ID) || d.Type == "" || len(d.Type) > MaxNameLen || !Text(d.Type):
		return fmt.Errorf("%w: a delivery needs an ID and a type", ErrInvalid)
	case len(d.Payload) == 0 || len(d.Payload) > MaxPayloadBytes || !Text(string(d.Payload)):
		return fmt.Errorf("%w: a delivery's payload must be 1 to %d bytes of UTF-8", ErrInvalid, MaxPayloadBytes)
	}
	d.TenantID = ev.TenantID
	return nil
}

// CheckAttempt refuses an attempt that cannot be recorded, and clips its
// error to MaxErrorLen.
func CheckAttempt(a *Attempt) error {
	switch a.State {
	case DeliveryPending, DeliveryDone, DeliveryFailed:
	default:
		return fmt.Errorf("%w: unknown delivery state %q", ErrInvalid, a.State)
	}
	if a.N < 1 || a.Status < 0 || a.Status > 999 {
		return fmt.Errorf("%w: attempt number or status out of range", ErrInvalid)
	}
	if !Lookup(a.DeliveryID) {
		return fmt.Errorf("delivery: %w", ErrNotFound)
	}
	a.Error = ClipText(a.Error, MaxErrorLen)
	if a.State != DeliveryPending {
		a.NextAt = time.Time{}
	}
	return nil
}

// ClipText returns s made valid UTF-8 without NUL, cut to at most n
// bytes on a rune boundary.
func ClipText(s string, n int) string {
	if len(s) > 4*n {
		s = s[:4*n]
	}
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !Text(s) {
		s = s[:len(s)-1]
	}
	return s
}

// SeqBefore decodes the cursor of a list ordered newest first by a
// sequence number into the number the next page starts below
// (math.MaxInt64 for the first page).
func SeqBefore(cursor string) (int64, error) {
	s, err := After(cursor)
	if err != nil || s == "" {
		return math.MaxInt64, err
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%w: malformed cursor", ErrInvalid)
	}
	return n, nil
}

// SortDue orders deliveries as Due returns them: the longest due first.
func SortDue(ds []Delivery) {
	slices.SortFunc(ds, func(a, b Delivery) int {
		if c := a.NextAt.Compare(b.NextAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}
