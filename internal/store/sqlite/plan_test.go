package sqlite

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/store"
)

// A budget's seed sums the ledger by one key, team or tenant over a span:
// each is a range search of its own index, not a scan of the ledger.
func TestSpendUsesIndexes(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "db"))
	from, to := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	for index, f := range map[string]store.SpendFilter{
		"usage_key_at":    {KeyID: "k", From: from, To: to},
		"usage_team_at":   {TeamID: "t", From: from, To: to},
		"usage_tenant_at": {TenantID: "t", From: from},
	} {
		q, args := spendQuery(f)
		rows, err := s.db.QueryContext(t.Context(), `EXPLAIN QUERY PLAN `+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if all := strings.Join(plan, "\n"); !strings.Contains(all, "SEARCH usage USING INDEX "+index) {
			t.Errorf("spend by %+v is not served by %s:\n%s", f, index, all)
		}
	}
}
