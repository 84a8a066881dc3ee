package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/llmgw/llmgw/internal/store"
	"github.com/llmgw/llmgw/internal/store/sqlite"
	"github.com/llmgw/llmgw/internal/store/storetest"
)

func open(t *testing.T) store.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "llmgw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.RunSuite(t, open)
}
