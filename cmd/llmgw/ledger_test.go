package main

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/store"
	"github.com/llmgw/llmgw/internal/store/sqlite"
)

// SIGTERM writes every usage record to the store before the process
// exits: the ledger is flushed on a graceful shutdown.
func TestServeFlushesTheLedgerOnShutdown(t *testing.T) {
	data := filepath.Join(t.TempDir(), "state")
	cmd, addr, logs := startServe(t, "LLMGW_DATA_DIR="+data)
	const n = 25
	for i := range n {
		resp, err := http.Post("http://"+addr+"/v1/chat/completions", "application/json",
			strings.NewReader(`{"model":"mock","messages":[{"role":"user","content":"hello ledger"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: %d", i, resp.StatusCode)
		}
	}
	stop(t, cmd, logs)
	db, err := sqlite.Open(context.Background(), filepath.Join(data, "llmgw.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	page, err := db.Ledger().Scan(context.Background(), time.Now().Add(-time.Hour), time.Now().Add(time.Hour), store.ListOptions{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != n {
		t.Fatalf("%d usage records after shutdown, want %d\n%s", len(page.Items), n, logs.String())
	}
	for _, u := range page.Items {
		if u.Model != "mock" || u.Provider != "mock" || u.InputTokens == 0 || u.OutputTokens == 0 || u.Status != 200 {
			t.Fatalf("record %+v", u)
		}
	}
}
