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

// Two handles on one file stand for two processes sharing it.
func TestShared(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) (store.Store, store.Store) {
		path := filepath.Join(t.TempDir(), "llmgw.db")
		var out [2]store.Store
		for i := range out {
			s, err := sqlite.Open(t.Context(), path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			out[i] = s
		}
		return out[0], out[1]
	})
}
