package server

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/admin"
	"github.com/llmgw/llmgw/internal/audit"
	"github.com/llmgw/llmgw/internal/auth"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/store"
	"github.com/llmgw/llmgw/internal/store/sqlite"
)

// Failed authentications on the data plane reach the audit log as one
// record per source and key prefix, never a row per failure, and never
// with more of the key than its display prefix.
func TestDataPlaneAuthFailuresAudited(t *testing.T) {
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "llmgw.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	log := audit.New(db.Audit(), auth.Derive([]byte("a server secret of at least 32 characters"), auth.PurposeAuditChain),
		audit.Options{FailureWindow: time.Hour})
	defer log.Close()
	g := newGateway(t, keysConfig, nil)
	g.srv.Swap(compileConfig(t, keysConfig, map[string]string{"UPSTREAM": g.up.URL},
		gateway.Options{Admin: admin.Backend{Audit: log}}))
	bad, _ := auth.NewKeySecret()
	for range 25 {
		if resp, _ := g.do("POST", "/v1/chat/completions", `{"model":"mock","messages":[{"role":"user","content":"hi"}]}`, bearer(bad)...); resp.StatusCode != 401 {
			t.Fatalf("bad key: %d", resp.StatusCode)
		}
	}
	for range 5 {
		if resp, _ := g.do("GET", "/v1/models", ""); resp.StatusCode != 401 {
			t.Fatalf("no key: %d", resp.StatusCode)
		}
	}
	// A good key is no failure.
	if resp, _ := g.do("GET", "/v1/models", "", "Authorization", "Bearer sk-ci-key"); resp.StatusCode != 200 {
		t.Fatalf("good key: %d", resp.StatusCode)
	}
	if err := log.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	page, err := log.List(t.Context(), store.AuditFilter{Action: "auth.failure"}, store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, r := range page.Items {
		got[r.Source+" "+r.Target] = r.Count
		if strings.Contains(string(r.After), bad[auth.DisplayPrefixLen:]) {
			t.Fatalf("the key is in the audit log: %s", r.After)
		}
	}
	want := map[string]int64{"127.0.0.1 " + bad[:auth.DisplayPrefixLen]: 25, "127.0.0.1 ": 5}
	if len(got) != len(want) || got["127.0.0.1 "+bad[:auth.DisplayPrefixLen]] != 25 || got["127.0.0.1 "] != 5 {
		t.Fatalf("failure records = %v, want %v", got, want)
	}
}
