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
		CostKnown: true, LatencyMicros: 850000, TTFTMicros: 120000, Status: 200, Stream: true, Cache: "miss"}
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
