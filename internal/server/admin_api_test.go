package server

import (
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/llmgw/llmgw/internal/admin"
	"github.com/llmgw/llmgw/internal/admin/admintest"
	"github.com/llmgw/llmgw/internal/audit"
	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/identity"
	"github.com/llmgw/llmgw/internal/provider/providertest"
	"github.com/llmgw/llmgw/internal/reload"
	"github.com/llmgw/llmgw/internal/router"
	"github.com/llmgw/llmgw/internal/store"
)

// The global admin tokens of adminConfig.
const (
	adminRoot   = "admin-root-token-0123456789"
	adminViewer = "admin-view-token-0123456789"
)

// adminConfig has the two kinds of global token and the mock model.
const adminConfig = `
server:
  admin_token: ` + adminRoot + `
  admin_tokens:
    - {name: viewer, token: ` + adminViewer + `, read_only: true}
providers:
  - name: fake-openai
    type: openai
    base_url: "${UPSTREAM}"
    api_key: sk-upstream-test
  - name: mock
    type: mock
models:
  - name: gpt
    targets: [{provider: fake-openai, model: "gpt-4o-mini"}]
  - name: mock
    targets: [{provider: mock, model: mock}]
pricing:
  - {provider: mock, model: mock, input_per_mtok: 1000, output_per_mtok: 1000}
`

// adminGateway is a gateway whose admin API and data plane have a real
// SQLite store, key directory and audit log.
type adminGateway struct {
	*testGateway
	st    store.Store
	audit *audit.Log
	// config is the configuration text a reload reads, adminConfig at
	// first.
	config atomic.Pointer[string]
}

func newAdminGateway(t *testing.T) *adminGateway {
	t.Helper()
	up := providertest.NewOpenAI(t)
	g := &adminGateway{}
	text := adminConfig
	g.config.Store(&text)
	load := func() (*config.Config, error) {
		return config.Parse([]byte(*g.config.Load()), func(k string) (string, bool) {
			if k == "UPSTREAM" {
				return up.URL, true
			}
			return "", false
		})
	}
	cfg, err := load()
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	st := admintest.SQLite(t)
	b, log := admintest.Backend(t, st)
	dir, err := identity.Open(t.Context(), identity.Options{Store: st, Hasher: b.Hasher})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dir.Close() })
	b.Keys = admin.DirectoryKeys(dir)
	lim, budgets, closeLim, err := gateway.OpenLimiter(cfg, nil, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeLim() })
	b.Budgets = budgets
	var srv *Server
	opts := gateway.Options{Directory: dir, Limiter: lim, Responses: st.Responses(), Health: router.NewHealth()}
	b.Configs = reload.New(cfg, reload.Options{Load: load, Apply: func(cfg *config.Config) error {
		snap, err := gateway.Compile(cfg, opts)
		if err == nil {
			srv.Swap(snap)
		}
		return err
	}})
	opts.Admin = b
	snap, err := gateway.Compile(cfg, opts)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	logs := &syncBuffer{}
	srv = New(snap, slog.New(slog.NewJSONHandler(logs, nil)))
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	g.testGateway, g.st, g.audit = &testGateway{t: t, srv: srv, http: ts, up: up, logs: logs}, st, log
	return g
}

// repoFile reads a file by its path from the repository root, the
// directory holding go.mod.
func repoFile(t *testing.T, path string) []byte {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
	b, err := os.ReadFile(filepath.Join(dir, path))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
