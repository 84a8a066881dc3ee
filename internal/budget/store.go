package budget

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/llmgw/llmgw/internal/store"
)

// Seeder returns what b's subject spent in [from, to) (zero times: no
// bound), for a count that starts in the middle of its period.
type Seeder func(ctx context.Context, b Budget, from, to time.Time) (int64, error)

// LedgerSeeder seeds counts from the usage ledger: the known costs of the
// subject's key, team or tenant ("key:<id>", "team:<id>", "tenant:<id>");
// another subject spent nothing.
func LedgerSeeder(l store.Ledger) Seeder {
	return func(ctx context.Context, b Budget, from, to time.Time) (int64, error) {
		f, ok := spendFilter(b.Subject, from, to)
		if !ok {
			return 0, nil
		}
		return l.Spend(ctx, f)
	}
}

// spendFilter selects a subject's records in the ledger.
func spendFilter(subject string, from, to time.Time) (store.SpendFilter, bool) {
	kind, id, _ := strings.Cut(subject, ":")
	f := store.SpendFilter{From: from, To: to}
	switch {
	case id == "":
		return f, false
	case kind == "key":
		f.KeyID = id
	case kind == "team":
		f.TeamID = id
	case kind == "tenant":
		f.TenantID = id
	default:
		return f, false
	}
	return f, true
}

// Store keeps budgets in the database, shared by the replicas that share
// it, for gateways without Redis.
type Store struct {
	st  store.Budgets
	ttl time.Duration
	now func() time.Time
}

var _ Budgeter = (*Store)(nil)

// StoreOptions tune NewStore.
type StoreOptions struct {
	// ReservationTTL is how long a reservation holds at most, should its
	// replica die before settling; default 15 minutes.
	ReservationTTL time.Duration
	// Now names the periods and dates reservations; default time.Now.
	Now func() time.Time
}

// NewStore returns a budgeter counting in st. A period's count not yet
// stored starts from the ledger's spending in the period (the store's
// own ledger, in the same transaction).
func NewStore(st store.Budgets, o StoreOptions) *Store {
	if o.ReservationTTL <= 0 {
		o.ReservationTTL = 15 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Store{st: st, ttl: o.ReservationTTL, now: o.Now}
}

// items are r's budgets as the store's counts at now's periods.
func items(bs []Budget, windows []string) []store.BudgetItem {
	out := make([]store.BudgetItem, len(bs))
	for i, b := range bs {
		out[i] = store.BudgetItem{
			BudgetCount: store.BudgetCount{Subject: b.Subject, Period: string(b.Period), Window: windows[i]},
			Limit:       b.Limit,
		}
	}
	return out
}

// unavailable wraps a store's failure; a refused argument stays one.
func unavailable(err error) error {
	if errors.Is(err, store.ErrInvalid) {
		return fmt.Errorf("budget: %w", err)
	}
	return fmt.Errorf("%w: %v", ErrUnavailable, err)
}

// Reserve decides on r in one transaction.
func (s *Store) Reserve(ctx context.Context, r Request) (Decision, Reservation, error) {
	if err := check(&r); err != nil {
		return Decision{}, Reservation{}, err
	}
	if len(r.Budgets) == 0 {
		return Decision{Allowed: true}, Reservation{}, nil
	}
	now := s.now()
	names := make([]string, len(r.Budgets))
	ends := make([]time.Time, len(r.Budgets))
	starts := make([]time.Time, len(r.Budgets))
	for i, b := range r.Budgets {
		names[i], starts[i], ends[i] = b.Period.Window(now)
	}
	its := items(r.Budgets, names)
	for i := range its {
		if f, ok := spendFilter(r.Budgets[i].Subject, starts[i], ends[i]); ok {
			its[i].Seed = f
		}
	}
	id := newID()
	d, err := s.st.Reserve(ctx, id, r.Estimate, its, now.Add(s.ttl), now)
	if err != nil {
		return Decision{}, Reservation{}, unavailable(err)
	}
	if d.OK {
		return Decision{Allowed: true}, Reservation{b: s, req: r, id: id, windows: names, ends: ends, active: true}, nil
	}
	if d.Refused < 0 || d.Refused >= len(r.Budgets) {
		return Decision{}, Reservation{}, fmt.Errorf("%w: refused budget %d of %d", ErrUnavailable, d.Refused, len(r.Budgets))
	}
	return Decision{Budget: r.Budgets[d.Refused], Spent: d.Spent, Reserved: d.Reserved, ResetAt: ends[d.Refused]}, Reservation{}, nil
}

func (s *Store) settle(ctx context.Context, r *Reservation, actual int64) ([]int64, error) {
	after, err := s.st.Settle(ctx, r.id, actual, items(r.req.Budgets, r.windows))
	if err != nil {
		return nil, unavailable(err)
	}
	return after, nil
}

// Spent returns b's counts in the current period, reservations expired
// not counted.
func (s *Store) Spent(ctx context.Context, b Budget) (int64, int64, error) {
	now := s.now()
	name, _, _ := b.Period.Window(now)
	spent, reserved, err := s.st.Spent(ctx, store.BudgetCount{Subject: b.Subject, Period: string(b.Period), Window: name}, now)
	if err != nil {
		return 0, 0, unavailable(err)
	}
	return spent, reserved, nil
}
