package secret

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/llmgw/llmgw/internal/observe"
)

// Every fetch is counted by source and result, those of the first load
// (made before the registry is wired) included, and timed.
func TestFetchMetrics(t *testing.T) {
	r, _ := newResolver(t)
	path := filepath.Join(t.TempDir(), "key")
	writeSecret(t, path, "sk-file-one\n")
	if _, _, err := parse(t, r, "file:"+path, ""); err != nil {
		t.Fatal(err)
	}
	reg := observe.NewRegistry()
	r.Instrument(reg)
	if _, _, err := parse(t, r, "file:"+path+"-missing", ""); err == nil {
		t.Fatal("a missing file was fetched")
	}
	f := newFakeVault(t)
	f.allow("hvs.static", true)
	f.put("kv/llm/openai", map[string]any{"api_key": "sk-vault-one"})
	if _, _, err := parse(t, r, "vault:kv/llm/openai#api_key", vaultSection(f.URL, "{method: token, token: hvs.static}")); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP llmgw_secret_fetches_total Fetches of secret references (at start, at reload and every secrets.refresh_interval), by source and result.
# TYPE llmgw_secret_fetches_total counter
llmgw_secret_fetches_total{result="error",source="file"} 1
llmgw_secret_fetches_total{result="success",source="file"} 1
llmgw_secret_fetches_total{result="success",source="vault"} 1
`
	if err := testutil.GatherAndCompare(reg.Gatherer(), strings.NewReader(want), "llmgw_secret_fetches_total"); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(r.m.duration, "llmgw_secret_fetch_duration_seconds"); n != 2 {
		t.Fatalf("%d duration series, want one per source", n)
	}
}
