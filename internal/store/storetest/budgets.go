package storetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/store"
)

// Shared opens two handles on one new, empty database, as two replicas
// would; the driver closes them in t.Cleanup.
type Shared func(t *testing.T) (store.Store, store.Store)

// RunShared runs the cases that need two handles on one database.
func RunShared(t *testing.T, open Shared) {
	t.Run("BudgetsConcurrent", func(t *testing.T) {
		a, b := open(t)
		testBudgetsConcurrent(t, a, b)
	})
}

var budgetNow = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)

func item(subject string, limit int64) store.BudgetItem {
	return store.BudgetItem{BudgetCount: store.BudgetCount{Subject: subject, Period: "monthly", Window: "2026-12"}, Limit: limit}
}

func reserve(t *testing.T, s store.Store, id string, est int64, items []store.BudgetItem, now time.Time) store.BudgetDecision {
	t.Helper()
	d, err := s.Budgets().Reserve(ctx(t), id, est, items, now.Add(time.Minute), now)
	if err != nil {
		t.Fatalf("reserve %s: %v", id, err)
	}
	return d
}

func spent(t *testing.T, s store.Store, c store.BudgetCount, now time.Time) [2]int64 {
	t.Helper()
	sp, res, err := s.Budgets().Spent(ctx(t), c, now)
	if err != nil {
		t.Fatal(err)
	}
	return [2]int64{sp, res}
}

func testBudgetReserveSettle(t *testing.T, s store.Store) {
	key := item("key:k", 10)
	for i := range 3 {
		if d := reserve(t, s, fmt.Sprint("r", i), 3, []store.BudgetItem{key}, budgetNow); !d.OK {
			t.Fatalf("reservation %d refused: %+v", i, d)
		}
	}
	// 0 spent + 9 reserved + 3 > 10.
	diff(t, "fourth", store.BudgetDecision{Refused: 0, Spent: 0, Reserved: 9}, reserve(t, s, "r3", 3, []store.BudgetItem{key}, budgetNow))
	after, err := s.Budgets().Settle(ctx(t), "r0", 1, []store.BudgetItem{key})
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "spent after settling", []int64{1}, after)
	diff(t, "counts", [2]int64{1, 6}, spent(t, s, key.BudgetCount, budgetNow))
	// 1 + 6 + 3 = 10: admitted exactly at the limit.
	if d := reserve(t, s, "r4", 3, []store.BudgetItem{key}, budgetNow); !d.OK {
		t.Fatalf("at the limit: %+v", d)
	}
	if d := reserve(t, s, "r5", 1, []store.BudgetItem{key}, budgetNow); d.OK {
		t.Fatal("admitted past the limit")
	}
	// A count of another window, period or subject is another count.
	for _, c := range []store.BudgetCount{
		{Subject: "key:k", Period: "monthly", Window: "2027-01"},
		{Subject: "key:k", Period: "total", Window: "2026-12"},
		{Subject: "key:other", Period: "monthly", Window: "2026-12"},
	} {
		if d := reserve(t, s, "other-"+c.Subject+c.Period+c.Window, 10, []store.BudgetItem{{BudgetCount: c, Limit: 10}}, budgetNow); !d.OK {
			t.Fatalf("%+v shares the count of %+v", c, key.BudgetCount)
		}
	}
	diff(t, "counts at the end", [2]int64{1, 9}, spent(t, s, key.BudgetCount, budgetNow))
	diff(t, "a count never used", [2]int64{0, 0}, spent(t, s, store.BudgetCount{Subject: "key:none", Period: "daily", Window: "x"}, budgetNow))
}

// A reservation holds on all its counts or on none, and Settle answers
// each item's spending in the order given.
func testBudgetAllOrNone(t *testing.T, s store.Store) {
	key, team, tenant := item("key:k", 100), item("team:t", 50), item("tenant:t", 5)
	d := reserve(t, s, "big", 6, []store.BudgetItem{key, team, tenant}, budgetNow)
	diff(t, "refusal", store.BudgetDecision{Refused: 2}, d)
	for _, it := range []store.BudgetItem{key, team, tenant} {
		diff(t, "after a refusal: "+it.Subject, [2]int64{0, 0}, spent(t, s, it.BudgetCount, budgetNow))
	}
	if d := reserve(t, s, "small", 5, []store.BudgetItem{tenant, key, team}, budgetNow); !d.OK {
		t.Fatalf("within every budget: %+v", d)
	}
	for _, it := range []store.BudgetItem{key, team, tenant} {
		diff(t, "held: "+it.Subject, [2]int64{0, 5}, spent(t, s, it.BudgetCount, budgetNow))
	}
	if _, err := s.Budgets().Settle(ctx(t), "never-reserved", 40, []store.BudgetItem{key}); err != nil {
		t.Fatal(err)
	}
	after, err := s.Budgets().Settle(ctx(t), "small", 4, []store.BudgetItem{tenant, key, team})
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "spent after, in the items' order", []int64{4, 44, 4}, after)
	// Two items naming one count (two budgets on it) hold it once, each
	// checked against its own limit.
	dup := item("tenant:t", 1000)
	if d := reserve(t, s, "dup", 1, []store.BudgetItem{dup, tenant}, budgetNow); !d.OK {
		t.Fatalf("two budgets on a count: %+v", d)
	}
	diff(t, "held once", [2]int64{4, 1}, spent(t, s, tenant.BudgetCount, budgetNow))
	diff(t, "the smaller limit refuses", store.BudgetDecision{Refused: 1, Spent: 4, Reserved: 1},
		reserve(t, s, "dup2", 1, []store.BudgetItem{dup, tenant}, budgetNow))
	after, err = s.Budgets().Settle(ctx(t), "dup", 1, []store.BudgetItem{dup, tenant})
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "settled once", []int64{5, 5}, after)
	diff(t, "released", [2]int64{5, 0}, spent(t, s, tenant.BudgetCount, budgetNow))
}

// Reservations expire: a replica that died holds nothing after its
// reservations' expiry, and a late settle still counts what was spent.
func testBudgetExpiry(t *testing.T, s store.Store) {
	key := item("key:k", 10)
	if d := reserve(t, s, "dead", 8, []store.BudgetItem{key}, budgetNow); !d.OK {
		t.Fatal(d)
	}
	if d := reserve(t, s, "late", 1, []store.BudgetItem{key}, budgetNow.Add(30*time.Second)); !d.OK {
		t.Fatal(d)
	}
	if d := reserve(t, s, "x", 2, []store.BudgetItem{key}, budgetNow.Add(59*time.Second)); d.OK {
		t.Fatal("admitted while both are held")
	}
	// At budgetNow+1m "dead" has expired (expiry is exclusive), "late" not.
	diff(t, "read at the expiry", [2]int64{0, 1}, spent(t, s, key.BudgetCount, budgetNow.Add(time.Minute)))
	if d := reserve(t, s, "after", 9, []store.BudgetItem{key}, budgetNow.Add(time.Minute)); !d.OK {
		t.Fatalf("after the expiry: %+v", d)
	}
	diff(t, "counts", [2]int64{0, 10}, spent(t, s, key.BudgetCount, budgetNow.Add(time.Minute)))
	after, err := s.Budgets().Settle(ctx(t), "dead", 3, []store.BudgetItem{key})
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "an expired reservation's spending", []int64{3}, after)
	// Settling "dead" released nothing more: "late" and "after" hold 10.
	diff(t, "after the late settle", [2]int64{3, 10}, spent(t, s, key.BudgetCount, budgetNow.Add(time.Minute)))
	diff(t, "refused", store.BudgetDecision{Refused: 0, Spent: 3, Reserved: 9},
		reserve(t, s, "y", 1, []store.BudgetItem{key}, budgetNow.Add(105*time.Second)))
}

// A count is created with the spending the ledger has in its window, once.
func testBudgetSeed(t *testing.T, s store.Store) {
	from, to := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	var recs []store.UsageRecord
	for i, at := range []time.Time{from.Add(-time.Microsecond), from, from.Add(time.Hour), to.Add(-time.Microsecond), to} {
		r := usage(fmt.Sprint("seed-", i), at)
		r.KeyID, r.CostPico = "key_s", int64(1)<<(2*i) // 1, 4, 16, 64, 256
		recs = append(recs, r)
	}
	unpriced := usage("seed-unpriced", from.Add(time.Hour))
	unpriced.KeyID, unpriced.CostPico, unpriced.CostKnown = "key_s", 1000, false
	other := usage("seed-other", from.Add(time.Hour))
	other.KeyID, other.CostPico = "key_o", 2000
	if _, err := s.Ledger().Insert(ctx(t), append(recs, unpriced, other)); err != nil {
		t.Fatal(err)
	}
	key := item("key:key_s", 100)
	key.Seed = store.SpendFilter{KeyID: "key_s", From: from, To: to}
	// 4 + 16 + 64 = 84 spent: 84 + 17 > 100.
	diff(t, "seeded refusal", store.BudgetDecision{Refused: 0, Spent: 84}, reserve(t, s, "a", 17, []store.BudgetItem{key}, budgetNow))
	if d := reserve(t, s, "b", 16, []store.BudgetItem{key}, budgetNow); !d.OK {
		t.Fatalf("within the seeded budget: %+v", d)
	}
	// More spending in the ledger does not seed an existing count again.
	more := usage("seed-more", from.Add(2*time.Hour))
	more.KeyID, more.CostPico = "key_s", 50
	if _, err := s.Ledger().Insert(ctx(t), []store.UsageRecord{more}); err != nil {
		t.Fatal(err)
	}
	after, err := s.Budgets().Settle(ctx(t), "b", 10, []store.BudgetItem{key})
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "spent after", []int64{94}, after)
}

func testBudgetInvalid(t *testing.T, s store.Store) {
	ok := item("key:k", 10)
	long := string(make([]byte, store.MaxBudgetText+1))
	for name, c := range map[string]struct {
		id    string
		est   int64
		items []store.BudgetItem
	}{
		"no id":        {"", 1, []store.BudgetItem{ok}},
		"nul id":       {"a\x00", 1, []store.BudgetItem{ok}},
		"long id":      {long, 1, []store.BudgetItem{ok}},
		"negative":     {"a", -1, []store.BudgetItem{ok}},
		"no items":     {"a", 1, nil},
		"no subject":   {"a", 1, []store.BudgetItem{{BudgetCount: store.BudgetCount{Period: "daily", Window: "w"}, Limit: 1}}},
		"bad utf8":     {"a", 1, []store.BudgetItem{{BudgetCount: store.BudgetCount{Subject: "\xff", Period: "daily", Window: "w"}, Limit: 1}}},
		"zero limit":   {"a", 1, []store.BudgetItem{item("key:k", 0)}},
		"too many":     {"a", 1, make([]store.BudgetItem, store.MaxBudgetItems+1)},
		"two seed ids": {"a", 1, []store.BudgetItem{{BudgetCount: ok.BudgetCount, Limit: 1, Seed: store.SpendFilter{KeyID: "k", TeamID: "t"}}}},
	} {
		_, err := s.Budgets().Reserve(ctx(t), c.id, c.est, c.items, budgetNow.Add(time.Minute), budgetNow)
		wantErr(t, "reserve, "+name, err, store.ErrInvalid)
		_, err = s.Budgets().Settle(ctx(t), c.id, c.est, c.items)
		wantErr(t, "settle, "+name, err, store.ErrInvalid)
	}
	_, _, err := s.Budgets().Spent(ctx(t), store.BudgetCount{Subject: "k"}, budgetNow)
	wantErr(t, "spent", err, store.ErrInvalid)
	// A reservation ID used twice is refused, not held twice.
	reserve(t, s, "twice", 1, []store.BudgetItem{ok}, budgetNow)
	_, err = s.Budgets().Reserve(ctx(t), "twice", 1, []store.BudgetItem{ok}, budgetNow.Add(time.Minute), budgetNow)
	wantErr(t, "an ID used twice", err, store.ErrConflict)
	diff(t, "held once", [2]int64{0, 1}, spent(t, s, ok.BudgetCount, budgetNow))
}

// 50 reservations at once through two handles on one database, against a
// limit that allows 10: exactly 10 are admitted.
func testBudgetsConcurrent(t *testing.T, a, b store.Store) {
	tenant := item("tenant:t", 1000)
	key := item("key:k", 10)
	team := item("team:t", 1000)
	var admitted atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := []store.Store{a, b}[i%2]
			// Items in varying orders: the drivers lock counts in one
			// order whatever the items', so none deadlocks.
			items := [][]store.BudgetItem{{key, team, tenant}, {tenant, key, team}, {team, tenant, key}}[i%3]
			<-start
			d, err := s.Budgets().Reserve(ctx(t), fmt.Sprint("c", i), 1, items, budgetNow.Add(time.Minute), budgetNow)
			if err != nil {
				t.Error(err)
				return
			}
			if d.OK {
				admitted.Add(1)
				if _, err := s.Budgets().Settle(ctx(t), fmt.Sprint("c", i), 1, items); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	if admitted.Load() != 10 {
		t.Fatalf("admitted %d of 50 at a limit of 10", admitted.Load())
	}
	diff(t, "key", [2]int64{10, 0}, spent(t, a, key.BudgetCount, budgetNow))
	diff(t, "tenant", [2]int64{10, 0}, spent(t, b, tenant.BudgetCount, budgetNow))
}

// Spend sums the known costs of one key, team or tenant in [from, to).
func testLedgerSpend(t *testing.T, s store.Store) {
	base := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var recs []store.UsageRecord
	for i := range 40 {
		r := usage(fmt.Sprintf("sp-%02d", i), base.Add(time.Duration(i)*time.Hour))
		r.TenantID, r.TeamID, r.KeyID = []string{"tnt_a", "tnt_b"}[i%2], []string{"team_a", "team_b", ""}[i%3], fmt.Sprintf("key_%d", i%4)
		r.CostPico, r.CostKnown = int64(1000+i), i%7 != 0
		if !r.CostKnown {
			r.CostPico = 0
		}
		recs = append(recs, r)
	}
	if _, err := s.Ledger().Insert(ctx(t), recs); err != nil {
		t.Fatal(err)
	}
	sum := func(keep func(r store.UsageRecord) bool) int64 {
		var n int64
		for _, r := range recs {
			if r.CostKnown && keep(r) {
				n += r.CostPico
			}
		}
		return n
	}
	from, to := base.Add(5*time.Hour), base.Add(30*time.Hour)
	in := func(r store.UsageRecord) bool { return !r.At.Before(from) && r.At.Before(to) }
	for name, c := range map[string]struct {
		f    store.SpendFilter
		want int64
	}{
		"tenant":          {store.SpendFilter{TenantID: "tnt_a", From: from, To: to}, sum(func(r store.UsageRecord) bool { return r.TenantID == "tnt_a" && in(r) })},
		"team":            {store.SpendFilter{TeamID: "team_b", From: from, To: to}, sum(func(r store.UsageRecord) bool { return r.TeamID == "team_b" && in(r) })},
		"key":             {store.SpendFilter{KeyID: "key_3", From: from, To: to}, sum(func(r store.UsageRecord) bool { return r.KeyID == "key_3" && in(r) })},
		"key, all time":   {store.SpendFilter{KeyID: "key_1"}, sum(func(r store.UsageRecord) bool { return r.KeyID == "key_1" })},
		"key, from only":  {store.SpendFilter{KeyID: "key_1", From: from}, sum(func(r store.UsageRecord) bool { return r.KeyID == "key_1" && !r.At.Before(from) })},
		"key, to only":    {store.SpendFilter{KeyID: "key_1", To: to}, sum(func(r store.UsageRecord) bool { return r.KeyID == "key_1" && r.At.Before(to) })},
		"unknown key":     {store.SpendFilter{KeyID: "key_9"}, 0},
		"empty span ends": {store.SpendFilter{TenantID: "tnt_a", From: base.Add(100 * time.Hour)}, 0},
	} {
		got, err := s.Ledger().Spend(ctx(t), c.f)
		if err != nil || got != c.want {
			t.Errorf("%s: spend %d, %v; want %d", name, got, err, c.want)
		}
	}
	for name, f := range map[string]store.SpendFilter{
		"no id":    {},
		"two ids":  {TenantID: "a", KeyID: "b"},
		"empty":    {KeyID: "k", From: base, To: base},
		"reversed": {KeyID: "k", From: to, To: from},
		"bad utf8": {KeyID: "\xff"},
	} {
		_, err := s.Ledger().Spend(ctx(t), f)
		wantErr(t, name, err, store.ErrInvalid)
	}
}
