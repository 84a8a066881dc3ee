package gateway

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/llmgw/llmgw/internal/audit"
	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/observe"
	"github.com/llmgw/llmgw/internal/store"
	"github.com/llmgw/llmgw/internal/store/pgtest"
)

// The store OpenState opens is measured in the registry it is given,
// under its driver's name.
func TestOpenStateMeasuresTheStore(t *testing.T) {
	for _, driver := range []string{config.DriverSQLite, config.DriverPostgres} {
		t.Run(driver, func(t *testing.T) {
			dir := t.TempDir()
			dsn := filepath.Join(dir, "llmgw.db")
			if driver == config.DriverPostgres {
				dsn = pgtest.FreshSchema(t)
			}
			cfg, err := config.Parse([]byte(`
server: {data_dir: "`+dir+`", secret: "`+strings.Repeat("s", config.MinSecretLen)+`"}
storage: {driver: `+driver+`, dsn: "`+dsn+`"}
providers: [{name: mock, type: mock}]
models: [{name: mock, targets: [{provider: mock, model: mock}]}]
`), nil)
			if err != nil {
				t.Fatal(err)
			}
			reg := observe.NewRegistry()
			st, err := OpenState(context.Background(), cfg, nil, audit.Options{}, reg)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if _, err := st.Store.Tenants().Create(t.Context(), store.Tenant{Name: "acme"}); err != nil {
				t.Fatal(err)
			}
			n, err := testutil.GatherAndCount(reg.Gatherer(), "llmgw_store_operation_duration_seconds")
			if err != nil || n < 40 {
				t.Errorf("%d duration series (%v), want one per operation from the start", n, err)
			}
			if calls, _ := storeOp(t, reg, driver, "tenants.create"); calls != 1 {
				t.Errorf("tenants.create observed %d times, want 1", calls)
			}
		})
	}
}

// storeOp reads the calls and errors of one store operation.
func storeOp(t *testing.T, reg *observe.Registry, driver, op string) (calls uint64, errs float64) {
	t.Helper()
	mfs, err := reg.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["driver"] != driver || labels["op"] != op {
				continue
			}
			switch mf.GetName() {
			case "llmgw_store_operation_duration_seconds":
				calls = m.GetHistogram().GetSampleCount()
			case "llmgw_store_errors_total":
				errs = m.GetCounter().GetValue()
			}
		}
	}
	return calls, errs
}
