package gateway

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/store"
	"github.com/llmgw/llmgw/internal/store/sqlite"
)

// A purge removes every expired response, batch after batch, and only
// those; the purger stops when told.
func TestPurgeResponses(t *testing.T) {
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "llmgw.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now()
	put := func(id string, expires time.Time) {
		r := store.StoredResponse{ID: id, TenantID: "t", Model: "m", CreatedAt: expires.Add(-time.Hour), ExpiresAt: expires,
			Input: []byte(`[]`), Response: []byte(`{"id":"` + id + `"}`)}
		if err := db.Responses().Put(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	const expired = store.MaxLimit + 5
	for i := range expired {
		put(fmt.Sprintf("resp_%d", i), now.Add(-time.Minute))
	}
	put("resp_live", now.Add(time.Hour))
	if n := purgeResponses(t.Context(), db.Responses(), now, nil); n != expired {
		t.Fatalf("purged %d, want %d", n, expired)
	}
	if _, err := db.Responses().Get(t.Context(), "t", "resp_live", now); err != nil {
		t.Fatalf("the live response: %v", err)
	}
	PurgeResponses(db.Responses(), time.Hour, nil)()
}
