package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/store"
)

func usage(id string, at time.Time) store.UsageRecord {
	return store.UsageRecord{RequestID: id, At: at, TenantID: "tnt_1", Tenant: "acme", TeamID: "team_1", KeyID: "key_1",
		KeyName: "ci", Model: "gpt", Provider: "openai-main", UpstreamModel: "gpt-4o-mini", InputTokens: 1200,
		OutputTokens: 300, CachedTokens: 1000, CacheWriteTokens: 100, ReasoningTokens: 50, CostPico: 123456789,
		CostKnown: true, LatencyMicros: 850000, TTFTMicros: 120000, Status: 200, Stream: true, Cache: "miss", UsageEstimated: true}
}

// A record written twice counts once: a spool replayed after a crash
// cannot double what was billed.
func testLedgerIdempotent(t *testing.T, s store.Store) {
	at := time.Date(2026, 12, 2, 10, 0, 0, 123456789, time.UTC)
	batch := []store.UsageRecord{usage("req-1", at), usage("req-2", at.Add(time.Second)), usage("req-3", at.Add(2*time.Second))}
	n, err := s.Ledger().Insert(ctx(t), batch)
	if err != nil || n != 3 {
		t.Fatalf("insert = %d, %v", n, err)
	}
	again := []store.UsageRecord{usage("req-2", at), usage("req-4", at.Add(3*time.Second)), usage("req-3", at)}
	again[0].CostPico = 1 // a replay that differs still does not replace
	if n, err := s.Ledger().Insert(ctx(t), again); err != nil || n != 1 {
		t.Fatalf("replayed insert = %d, %v; want 1 new", n, err)
	}
	page, err := s.Ledger().Scan(ctx(t), at.Add(-time.Hour), at.Add(time.Hour), store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range page.Items {
		ids = append(ids, r.RequestID)
	}
	diff(t, "ids", []string{"req-1", "req-2", "req-3", "req-4"}, ids)
	want := usage("req-2", store.Micro(at.Add(time.Second)))
	diff(t, "record", want, page.Items[1])
}

func testLedgerScan(t *testing.T, s store.Store) {
	base := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var recs []store.UsageRecord
	for i := range 25 {
		// Three records share each time: the order within it is by ID.
		recs = append(recs, usage(fmt.Sprintf("r%02d", 24-i), base.Add(time.Duration(i/3)*time.Minute)))
	}
	if _, err := s.Ledger().Insert(ctx(t), recs); err != nil {
		t.Fatal(err)
	}
	got := pageAll(t, 4, func(o store.ListOptions) (store.Page[store.UsageRecord], error) {
		return s.Ledger().Scan(ctx(t), base.Add(time.Minute), base.Add(5*time.Minute), o)
	})
	var ids []string
	for _, r := range got {
		ids = append(ids, r.RequestID)
	}
	// Minutes 1 to 4: records i = 3..14, IDs r21..r10, by time then ID.
	diff(t, "page ids", []string{"r19", "r20", "r21", "r16", "r17", "r18", "r13", "r14", "r15", "r10", "r11", "r12"}, ids)
	if _, err := s.Ledger().Scan(ctx(t), base, base.Add(time.Hour), store.ListOptions{Cursor: store.Cursor("nope")}); err == nil {
		t.Fatal("a cursor naming no record was accepted")
	}
}

func testLedgerInvalid(t *testing.T, s store.Store) {
	now := time.Now()
	for name, r := range map[string]store.UsageRecord{
		"no id":    {At: now},
		"no time":  {RequestID: "x"},
		"negative": {RequestID: "x", At: now, InputTokens: -1},
		"bad utf8": {RequestID: "x", At: now, Model: "\xff"},
		"nul":      {RequestID: "x\x00", At: now},
	} {
		_, err := s.Ledger().Insert(ctx(t), []store.UsageRecord{r})
		wantErr(t, name, err, store.ErrInvalid)
	}
	// One bad record refuses its whole batch: nothing half-written.
	_, err := s.Ledger().Insert(ctx(t), []store.UsageRecord{usage("good", now), {RequestID: "bad", At: now, OutputTokens: -5}})
	wantErr(t, "mixed batch", err, store.ErrInvalid)
	page, err := s.Ledger().Scan(ctx(t), now.Add(-time.Hour), now.Add(time.Hour), store.ListOptions{})
	if err != nil || len(page.Items) != 0 {
		t.Fatalf("after refused batches: %d records, %v", len(page.Items), err)
	}
}

// Sums by group match the records, on both drivers, for every grouping.
func testLedgerAggregate(t *testing.T, s store.Store) {
	base := time.Date(2026, 11, 30, 22, 0, 0, 0, time.UTC)
	var recs []store.UsageRecord
	for i := range 60 {
		r := usage(fmt.Sprintf("agg-%02d", i), base.Add(time.Duration(i)*7*time.Minute)) // spans 3 days
		r.TenantID, r.Tenant = []string{"tnt_a", "tnt_b"}[i%2], []string{"acme", "beta"}[i%2]
		r.Model = []string{"gpt", "claude", "mock"}[i%3]
		r.KeyID, r.KeyName = fmt.Sprintf("key_%d", i%4), fmt.Sprintf("k%d", i%4)
		r.InputTokens, r.OutputTokens, r.CostPico = int64(i), int64(2*i), int64(1000*i)
		r.CostKnown = i%5 != 0
		if !r.CostKnown {
			r.CostPico = 0
		}
		recs = append(recs, r)
	}
	if _, err := s.Ledger().Insert(ctx(t), recs); err != nil {
		t.Fatal(err)
	}
	type sums struct{ N, In, Out, Cost, Unpriced int64 }
	want := func(key func(r store.UsageRecord) string, keep func(r store.UsageRecord) bool) map[string]sums {
		m := map[string]sums{}
		for _, r := range recs {
			if keep != nil && !keep(r) {
				continue
			}
			s := m[key(r)]
			s.N++
			s.In += r.InputTokens
			s.Out += r.OutputTokens
			s.Cost += r.CostPico
			if !r.CostKnown {
				s.Unpriced++
			}
			m[key(r)] = s
		}
		return m
	}
	got := func(q store.UsageQuery, key func(g store.UsageGroup) string) map[string]sums {
		gs, truncated, err := s.Ledger().Aggregate(ctx(t), q)
		if err != nil || truncated {
			t.Fatalf("aggregate %+v: %v (truncated %v)", q, err, truncated)
		}
		m := map[string]sums{}
		for _, g := range gs {
			m[key(g)] = sums{g.Requests, g.InputTokens, g.OutputTokens, g.CostPico, g.UnpricedRequests}
		}
		return m
	}
	day := func(t time.Time) string { return t.UTC().Truncate(24 * time.Hour).Format("2006-01-02") }
	diff(t, "by tenant and model",
		want(func(r store.UsageRecord) string { return r.TenantID + "/" + r.Tenant + "/" + r.Model }, nil),
		got(store.UsageQuery{GroupBy: []string{"tenant", "model"}}, func(g store.UsageGroup) string { return g.TenantID + "/" + g.Tenant + "/" + g.Model }))
	diff(t, "by key and day",
		want(func(r store.UsageRecord) string { return r.KeyID + "/" + r.KeyName + "/" + day(r.At) }, nil),
		got(store.UsageQuery{GroupBy: []string{"key", "day"}}, func(g store.UsageGroup) string {
			return g.KeyID + "/" + g.KeyName + "/" + g.Bucket.Format("2006-01-02")
		}))
	hour := func(t time.Time) string { return t.UTC().Truncate(time.Hour).Format(time.RFC3339) }
	from, to := base.Add(2*time.Hour), base.Add(5*time.Hour)
	diff(t, "tenant b by hour in a range",
		want(func(r store.UsageRecord) string { return hour(r.At) }, func(r store.UsageRecord) bool {
			return r.TenantID == "tnt_b" && !r.At.Before(from) && r.At.Before(to)
		}),
		got(store.UsageQuery{GroupBy: []string{"hour"}, TenantID: "tnt_b", From: from, To: to}, func(g store.UsageGroup) string { return g.Bucket.Format(time.RFC3339) }))
	diff(t, "everything",
		want(func(store.UsageRecord) string { return "" }, nil),
		got(store.UsageQuery{}, func(store.UsageGroup) string { return "" }))
	gs, truncated, err := s.Ledger().Aggregate(ctx(t), store.UsageQuery{GroupBy: []string{"key", "model"}, Limit: 5})
	if err != nil || !truncated || len(gs) != 5 {
		t.Fatalf("limited aggregate: %d groups, truncated %v, %v", len(gs), truncated, err)
	}
	for _, bad := range []store.UsageQuery{
		{GroupBy: []string{"tenant; DROP TABLE usage"}},
		{GroupBy: []string{"model", "model"}},
		{GroupBy: []string{"day", "hour"}},
		{From: base, To: base},
	} {
		_, _, err := s.Ledger().Aggregate(ctx(t), bad)
		wantErr(t, fmt.Sprint(bad.GroupBy), err, store.ErrInvalid)
	}
}
