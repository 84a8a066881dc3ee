package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/store"
)

var respAt = time.Date(2026, 12, 2, 10, 0, 0, 123456000, time.UTC)

func storedResponse(tenant, id, prev string) store.StoredResponse {
	return store.StoredResponse{ID: id, TenantID: tenant, KeyID: "key_1", Model: "gpt", PreviousID: prev,
		CreatedAt: respAt, ExpiresAt: respAt.Add(time.Hour),
		Input:    []byte(`[{"id":"msg_` + id + `","type":"message","role":"user","content":"h\u00e9 \"` + id + `\""}]`),
		Response: []byte(`{"id":"` + id + `", "object":"response","output":[] , "z":1,"a":2}`)}
}

func mustPut(t *testing.T, s store.Store, r store.StoredResponse) {
	t.Helper()
	if err := s.Responses().Put(ctx(t), r); err != nil {
		t.Fatalf("put %s: %v", r.ID, err)
	}
}

func chainIDs(rs []store.StoredResponse) []string {
	ids := []string{}
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return ids
}

// A stored response comes back byte for byte, to its tenant only, until
// it expires; an ID is its tenant's once.
func testResponsesPutGet(t *testing.T, s store.Store) {
	r := storedResponse("tnt_a", "resp_1", "")
	mustPut(t, s, r)
	got, err := s.Responses().Get(ctx(t), "tnt_a", "resp_1", respAt)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "stored response", r, got)
	if _, err := s.Responses().Get(ctx(t), "tnt_b", "resp_1", respAt); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another tenant's get: %v, want not found", err)
	}
	if _, err := s.Responses().Get(ctx(t), "tnt_a", "resp_1", respAt.Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get after expiry: %v, want not found", err)
	}
	if err := s.Responses().Put(ctx(t), r); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("put twice: %v, want conflict", err)
	}
	other := storedResponse("tnt_b", "resp_1", "")
	mustPut(t, s, other) // the same ID under another tenant is another response
	if got, _ := s.Responses().Get(ctx(t), "tnt_b", "resp_1", respAt); got.TenantID != "tnt_b" {
		t.Fatalf("tenant b's response = %+v", got)
	}
}

// A chain is followed back, oldest first, within its tenant, up to a
// missing or expired link and at most max long.
func testResponsesChain(t *testing.T, s store.Store) {
	prev := ""
	for i := range 5 {
		r := storedResponse("tnt_a", fmt.Sprintf("resp_%d", i), prev)
		r.CreatedAt = respAt.Add(time.Duration(i) * time.Minute)
		r.ExpiresAt = r.CreatedAt.Add(time.Hour)
		mustPut(t, s, r)
		prev = r.ID
	}
	// Tenant b has a response named like one of tenant a's in the chain:
	// it is never followed.
	mustPut(t, s, storedResponse("tnt_b", "resp_9", "resp_2"))
	c, err := s.Responses().Chain(ctx(t), "tnt_a", "resp_4", respAt, 0)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "chain", []string{"resp_0", "resp_1", "resp_2", "resp_3", "resp_4"}, chainIDs(c))
	c, _ = s.Responses().Chain(ctx(t), "tnt_a", "resp_4", respAt, 2)
	diff(t, "chain of at most 2", []string{"resp_3", "resp_4"}, chainIDs(c))
	c, _ = s.Responses().Chain(ctx(t), "tnt_b", "resp_9", respAt, 0)
	diff(t, "tenant b's chain", []string{"resp_9"}, chainIDs(c))
	if _, err := s.Responses().Chain(ctx(t), "tnt_b", "resp_4", respAt, 0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another tenant's chain: %v", err)
	}
	// resp_0 expires first: the chain stops after it.
	c, _ = s.Responses().Chain(ctx(t), "tnt_a", "resp_4", respAt.Add(time.Hour+30*time.Second), 0)
	diff(t, "chain after the first expired", []string{"resp_1", "resp_2", "resp_3", "resp_4"}, chainIDs(c))
	if err := s.Responses().Delete(ctx(t), "tnt_a", "resp_2"); err != nil {
		t.Fatal(err)
	}
	c, _ = s.Responses().Chain(ctx(t), "tnt_a", "resp_4", respAt, 0)
	diff(t, "chain after a deletion", []string{"resp_3", "resp_4"}, chainIDs(c))
}

// Deletion is its tenant's; purge removes the expired only, a batch at a
// time.
func testResponsesDeletePurge(t *testing.T, s store.Store) {
	for i := range 5 {
		r := storedResponse("tnt_a", fmt.Sprintf("resp_%d", i), "")
		r.ExpiresAt = respAt.Add(time.Duration(i+1) * time.Minute)
		mustPut(t, s, r)
	}
	if err := s.Responses().Delete(ctx(t), "tnt_b", "resp_0"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another tenant's delete: %v", err)
	}
	if err := s.Responses().Delete(ctx(t), "tnt_a", "resp_0"); err != nil {
		t.Fatal(err)
	}
	if err := s.Responses().Delete(ctx(t), "tnt_a", "resp_0"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	now := respAt.Add(4 * time.Minute) // resp_1 to resp_3 have expired
	n, err := s.Responses().Purge(ctx(t), now, 2)
	if err != nil || n != 2 {
		t.Fatalf("purge = %d, %v; want 2", n, err)
	}
	if n, _ = s.Responses().Purge(ctx(t), now, 2); n != 1 {
		t.Fatalf("second purge = %d, want 1", n)
	}
	if n, _ = s.Responses().Purge(ctx(t), now, 0); n != 0 {
		t.Fatalf("third purge = %d, want 0", n)
	}
	if _, err := s.Responses().Get(ctx(t), "tnt_a", "resp_4", now); err != nil {
		t.Fatalf("the live response was purged: %v", err)
	}
}

// What cannot be stored is refused as invalid, and nothing is stored.
func testResponsesInvalid(t *testing.T, s store.Store) {
	mod := map[string]func(*store.StoredResponse){
		"empty id":        func(r *store.StoredResponse) { r.ID = "" },
		"long id":         func(r *store.StoredResponse) { r.ID = strings.Repeat("r", 300) },
		"NUL in id":       func(r *store.StoredResponse) { r.ID = "resp_\x00" },
		"invalid UTF-8":   func(r *store.StoredResponse) { r.Response = []byte(`{"a":"` + "\xff" + `"}`) },
		"input not array": func(r *store.StoredResponse) { r.Input = []byte(`{"a":1}`) },
		"object not JSON": func(r *store.StoredResponse) { r.Response = []byte(`resp`) },
		"too large": func(r *store.StoredResponse) {
			r.Response = []byte(`{"a":"` + strings.Repeat("x", store.MaxStoredResponse) + `"}`)
		},
		"no expiry":        func(r *store.StoredResponse) { r.ExpiresAt = time.Time{} },
		"NUL in response":  func(r *store.StoredResponse) { r.Response = []byte("{\"a\":\"\x00\"}") },
		"invalid model":    func(r *store.StoredResponse) { r.Model = "\xfe" },
		"invalid previous": func(r *store.StoredResponse) { r.PreviousID = strings.Repeat("p", 300) },
	}
	for name, m := range mod {
		r := storedResponse("tnt_a", "resp_x", "")
		m(&r)
		if err := s.Responses().Put(ctx(t), r); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
	if _, err := s.Responses().Get(ctx(t), "tnt_a", "resp_x", respAt); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a refused response was stored: %v", err)
	}
}
