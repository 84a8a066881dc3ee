package gateway

import (
	"context"
	"testing"

	"github.com/llmgw/llmgw/internal/auth"
	"github.com/llmgw/llmgw/internal/auth/authtest"
	"github.com/llmgw/llmgw/internal/config"
)

// The JWT key sets are the process's: a second snapshot of the same issuer
// (a reload) uses the keys the first fetched, and fetches nothing again.
func TestJWTKeySetsOutliveSnapshots(t *testing.T) {
	is := authtest.New(t)
	v := auth.NewVerifiers(auth.VerifierOptions{})
	t.Cleanup(v.Close)
	yaml := `
providers:
  - name: m
    type: mock
models:
  - name: mock
    targets: [{provider: m, model: mock}]
auth:
  jwt:
    issuers:
      - issuer: "` + is.URL + `"
        audiences: [llmgw]
`
	tok := is.Sign("rsa-1", is.Claims("llmgw", "a"))
	for i := range 3 {
		cfg, err := config.Parse([]byte(yaml), nil)
		if err != nil {
			t.Fatal(err)
		}
		snap, err := Compile(cfg, Options{JWT: v})
		if err != nil {
			t.Fatal(err)
		}
		if snap.JWT.Len() != 1 {
			t.Fatalf("snapshot %d has %d issuers", i, snap.JWT.Len())
		}
		if _, err := snap.JWT.Verify(context.Background(), tok); err != nil {
			t.Fatalf("snapshot %d: %v", i, err)
		}
	}
	if n := is.JWKSFetches.Load(); n != 1 {
		t.Errorf("key set fetched %d times for three snapshots, want 1", n)
	}
}
