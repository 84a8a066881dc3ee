package identity_test

import (
	"path/filepath"
	"testing"

	"github.com/llmgw/llmgw/internal/auth"
	"github.com/llmgw/llmgw/internal/identity"
	"github.com/llmgw/llmgw/internal/store"
	"github.com/llmgw/llmgw/internal/store/sqlite"
)

// BenchmarkLookup compares the hot path of a store key (a cache hit) with
// a static key's (auth.Keys.Lookup), and the data plane's whole resolution
// of a store key: a static-key miss, then the directory.
func BenchmarkLookup(b *testing.B) {
	s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "llmgw.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	tn, err := s.Tenants().Create(b.Context(), store.Tenant{Name: "acme"})
	if err != nil {
		b.Fatal(err)
	}
	secret, prefix := auth.NewKeySecret()
	h := testHasher.Sum(secret)
	if _, err := s.Keys().Create(b.Context(), store.Key{TenantID: tn.ID, Name: "k", Hash: h[:], Prefix: prefix, Models: []string{"m"}}); err != nil {
		b.Fatal(err)
	}
	d, err := identity.Open(b.Context(), identity.Options{Store: s, Hasher: testHasher})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Lookup(b.Context(), secret); err != nil {
		b.Fatal(err)
	}
	static := auth.NewKeys([]auth.Key{{Name: "s", Secret: "sk-static-bench-0123456789abcdef", Tenant: "acme", Models: []string{"m"}}})
	b.Run("store-hit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := d.Lookup(b.Context(), secret); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("static", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if static.Lookup("sk-static-bench-0123456789abcdef") == nil {
				b.Fatal("static key not found")
			}
		}
	})
	b.Run("static-miss-then-store-hit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if static.Lookup(secret) != nil {
				b.Fatal("found")
			}
			if _, err := d.Principal(b.Context(), secret); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("store-hit-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := d.Lookup(b.Context(), secret); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
