package sqlite_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/store"
	"github.com/llmgw/llmgw/internal/store/sqlite"
)

// BenchmarkLedgerInsert: a batch of 200 records, as the ledger's writer
// sends them under load; ns/op is per record.
func BenchmarkLedgerInsert(b *testing.B) {
	s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "llmgw.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const batch = 200
	recs := make([]store.UsageRecord, batch)
	id := 0
	b.ResetTimer()
	for i := 0; i < b.N; i += batch {
		for j := range recs {
			id++
			recs[j] = store.UsageRecord{RequestID: fmt.Sprintf("%032x", uint64(id)*0x9e3779b97f4a7c15), At: time.Now(), TenantID: "t1", Tenant: "bench",
				KeyID: "k1", KeyName: "bench", Model: "bench-model", Provider: "upstream", UpstreamModel: "gpt-4o-mini",
				InputTokens: 12, OutputTokens: 9, LatencyMicros: 400, Status: 200}
		}
		if _, err := s.Ledger().Insert(b.Context(), recs); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLedgerInsertManyRows: a batch is written many rows to a statement,
// in statements of 64, 32, ... 1 rows; every size writes every row once,
// and a row already in the ledger, or twice in the batch, counts once.
func TestLedgerInsertManyRows(t *testing.T) {
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "llmgw.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := time.Now().Add(-time.Minute)
	mk := func(i int) store.UsageRecord {
		return store.UsageRecord{RequestID: fmt.Sprintf("req-%04d", i), At: at.Add(time.Duration(i) * time.Millisecond),
			Tenant: "bench", Model: "m", InputTokens: int64(i), Status: 200}
	}
	next := 0
	total := 0
	for _, size := range []int{1, 2, 3, 63, 64, 65, 127, 130} {
		var recs []store.UsageRecord
		for range size {
			recs = append(recs, mk(next))
			next++
		}
		// The first record again (already written, unless it is this
		// batch's), and this batch's last twice.
		recs = append(recs, mk(0), recs[len(recs)-1])
		n, err := s.Ledger().Insert(t.Context(), recs)
		if err != nil {
			t.Fatal(err)
		}
		if n != size {
			t.Fatalf("batch of %d new records: %d written", size, n)
		}
		total += size
	}
	page, err := s.Ledger().Scan(t.Context(), at.Add(-time.Second), time.Now(), store.ListOptions{Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != total {
		t.Fatalf("%d records in the ledger, want %d", len(page.Items), total)
	}
	for i, r := range page.Items {
		if r.RequestID != fmt.Sprintf("req-%04d", i) || r.InputTokens != int64(i) {
			t.Fatalf("record %d: %+v", i, r)
		}
	}
}
