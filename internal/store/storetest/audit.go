package storetest

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/store"
)

// seal is a stand-in for the audit package's HMAC: any function of the
// record and its Prev shows that the store hands it both and keeps its
// result.
func seal(r *store.AuditRecord) []byte {
	h := sha256.New()
	h.Write(r.Prev)
	fmt.Fprintf(h, "%d|%d|%s|%s|%s|%s|%s|%s|%d|", r.Seq, r.At.UnixMicro(), r.Actor, r.Action, r.TenantID, r.Target, r.Source, r.RequestID, r.Count)
	h.Write(r.Before)
	h.Write([]byte{0})
	h.Write(r.After)
	return h.Sum(nil)
}

func appendRec(t *testing.T, s store.Store, r store.AuditRecord) store.AuditRecord {
	t.Helper()
	if r.At.IsZero() {
		r.At = time.Now()
	}
	got, err := s.Audit().Append(ctx(t), r, seal)
	if err != nil {
		t.Fatalf("append %s: %v", r.Action, err)
	}
	return got
}

// checkChain reads the whole log and checks numbering, links and seals.
func checkChain(t *testing.T, s store.Store, want int) {
	t.Helper()
	var all []store.AuditRecord
	after := int64(0)
	for {
		recs, err := s.Audit().Scan(ctx(t), after, 7)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			break
		}
		all = append(all, recs...)
		after = recs[len(recs)-1].Seq
	}
	if len(all) != want {
		t.Fatalf("log holds %d records, want %d", len(all), want)
	}
	var prev []byte
	for i, r := range all {
		if r.Seq != int64(i+1) {
			t.Fatalf("record %d has seq %d", i, r.Seq)
		}
		if !bytes.Equal(r.Prev, prev) {
			t.Fatalf("record %d: prev %x, want %x", r.Seq, r.Prev, prev)
		}
		if !bytes.Equal(r.Hash, seal(&r)) {
			t.Fatalf("record %d does not read back as sealed", r.Seq)
		}
		prev = r.Hash
	}
	seq, hash, err := s.Audit().Head(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if seq != int64(want) || !bytes.Equal(hash, prev) {
		t.Fatalf("head (%d, %x), want (%d, %x)", seq, hash, want, prev)
	}
}

func testAuditAppend(t *testing.T, s store.Store) {
	seq, hash, err := s.Audit().Head(ctx(t))
	if err != nil || seq != 0 || hash != nil {
		t.Fatalf("empty log head = %d, %x, %v", seq, hash, err)
	}
	at := time.Date(2026, 3, 4, 5, 6, 7, 891234567, time.FixedZone("x", 3600))
	// Before and after are kept byte for byte: spacing and key order too.
	before := []byte(`{"b": 1,  "a":[true]}`)
	after := []byte(`{"name":"é\u00e9"}`)
	r1 := appendRec(t, s, store.AuditRecord{At: at, Actor: "admin_token", Action: "tenant.create", TenantID: "tn_1",
		Target: "tn_1", Source: "10.0.0.1", RequestID: "req-1", Before: before, After: after})
	if r1.Seq != 1 || r1.Prev != nil || r1.Count != 1 || !r1.At.Equal(at.Truncate(time.Microsecond)) {
		t.Fatalf("first record = seq %d prev %x count %d at %v", r1.Seq, r1.Prev, r1.Count, r1.At)
	}
	r2 := appendRec(t, s, store.AuditRecord{Actor: "gateway", Action: "auth.failure", Target: "sk-llmgw-ab", Count: 42})
	if r2.Seq != 2 || !bytes.Equal(r2.Prev, r1.Hash) || r2.Count != 42 {
		t.Fatalf("second record = seq %d prev %x count %d", r2.Seq, r2.Prev, r2.Count)
	}
	page, err := s.Audit().List(ctx(t), store.AuditFilter{}, store.ListOptions{})
	if err != nil || len(page.Items) != 2 {
		t.Fatalf("list = %d, %v", len(page.Items), err)
	}
	got := page.Items[0]
	if !bytes.Equal(got.Before, before) || !bytes.Equal(got.After, after) || got.After == nil || page.Items[1].Before != nil {
		t.Fatalf("before/after read back as %q, %q (second %q)", got.Before, got.After, page.Items[1].Before)
	}
	if got.Source != "10.0.0.1" || got.RequestID != "req-1" || got.TenantID != "tn_1" || got.At.Location() != time.UTC {
		t.Fatalf("record read back as %+v", got)
	}
	checkChain(t, s, 2)
}

func testAuditList(t *testing.T, s store.Store) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 12 {
		tenant := "tn_a"
		if i%3 == 0 {
			tenant = "tn_b"
		}
		actor := "admin_token"
		if i%2 == 0 {
			actor = "key:k1"
		}
		appendRec(t, s, store.AuditRecord{At: base.Add(time.Duration(i) * time.Hour), Actor: actor,
			Action: "key.update" + strconv.Itoa(i%4), TenantID: tenant, Target: "k" + strconv.Itoa(i)})
	}
	count := func(f store.AuditFilter) []string {
		recs := pageAll(t, 5, func(o store.ListOptions) (store.Page[store.AuditRecord], error) {
			return s.Audit().List(ctx(t), f, o)
		})
		var out []string
		for _, r := range recs {
			out = append(out, r.Target)
		}
		return out
	}
	diff(t, "all", []string{"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9", "k10", "k11"}, count(store.AuditFilter{}))
	diff(t, "tenant b", []string{"k0", "k3", "k6", "k9"}, count(store.AuditFilter{TenantID: "tn_b"}))
	diff(t, "actor", []string{"k1", "k3", "k5", "k7", "k9", "k11"}, count(store.AuditFilter{Actor: "admin_token"}))
	diff(t, "action", []string{"k2", "k6", "k10"}, count(store.AuditFilter{Action: "key.update2"}))
	diff(t, "time", []string{"k3", "k4"}, count(store.AuditFilter{From: base.Add(3 * time.Hour), To: base.Add(5 * time.Hour)}))
	diff(t, "combined", []string{"k6"}, count(store.AuditFilter{TenantID: "tn_b", Actor: "key:k1", From: base.Add(time.Hour)}))
	if _, err := s.Audit().List(ctx(t), store.AuditFilter{}, store.ListOptions{Cursor: store.Cursor("x")}); err == nil {
		t.Fatal("a cursor that is not a record's was accepted")
	}
}

// Appends from many goroutines (many replicas, for PostgreSQL) serialise:
// numbers without gaps and one unbroken chain.
func testAuditConcurrent(t *testing.T, s store.Store) {
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Audit().Append(ctx(t), store.AuditRecord{At: time.Now(), Actor: "a", Action: "x", Target: strconv.Itoa(i)}, seal)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	checkChain(t, s, n)
}

func testAuditInvalid(t *testing.T, s store.Store) {
	now := time.Now()
	for name, r := range map[string]store.AuditRecord{
		"no actor":    {At: now, Action: "x"},
		"no action":   {At: now, Actor: "a"},
		"no time":     {Actor: "a", Action: "x"},
		"bad json":    {At: now, Actor: "a", Action: "x", After: []byte(`{"a":`)},
		"nul":         {At: now, Actor: "a\x00", Action: "x"},
		"bad utf8":    {At: now, Actor: "a", Action: "x", Source: "\xff"},
		"huge":        {At: now, Actor: "a", Action: "x", Target: string(bytes.Repeat([]byte("t"), store.MaxAuditText+1))},
		"negative":    {At: now, Actor: "a", Action: "x", Count: -1},
		"huge before": {At: now, Actor: "a", Action: "x", Before: []byte(`"` + string(bytes.Repeat([]byte("b"), store.MaxAuditJSON)) + `"`)},
	} {
		_, err := s.Audit().Append(ctx(t), r, seal)
		wantErr(t, name, err, store.ErrInvalid)
	}
	checkChain(t, s, 0)
}
