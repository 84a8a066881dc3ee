package gateway

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmgw/llmgw/internal/provider"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// TestCompileVertex: a vertex provider is built from its credentials file
// and serves both publishers; a file that cannot be read is a compile
// error naming the path, never the content of a file that is not a key.
func TestCompileVertex(t *testing.T) {
	g := providertest.NewGoogleAuth(t, 3600)
	dir := t.TempDir()
	good := filepath.Join(dir, "sa.json")
	if err := os.WriteFile(good, g.ServiceAccountJSON("p-1"), 0o600); err != nil {
		t.Fatal(err)
	}
	snap, err := compile(t, `
providers:
  - {name: vx, type: vertex, vertex: {project: p-1, location: us-east5, credentials_file: "`+good+`"}}
models:
  - {name: m, targets: [{provider: vx, model: "claude-sonnet-4@20250514"}, {provider: vx, model: gemini-2.5-flash}]}
`)
	if err != nil {
		t.Fatal(err)
	}
	p := snap.Providers["vx"]
	fw, ok := p.(provider.ModelForwarder)
	if !ok || fw.Protocol() != "anthropic" || !fw.ForwardsModel("claude-sonnet-4@20250514") || fw.ForwardsModel("gemini-2.5-flash") {
		t.Errorf("vx: %T", p)
	}
	if _, ok := p.(provider.Embedder); !ok {
		t.Error("vx has no embeddings")
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"type":"external_account","audience":"SECRET-AUDIENCE"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{filepath.Join(dir, "missing.json"), bad} {
		_, err := compile(t, `
providers:
  - {name: vx, type: vertex, vertex: {project: p-1, credentials_file: "`+file+`"}}
models:
  - {name: m, targets: [{provider: vx, model: gemini-2.5-flash}]}
`)
		if err == nil || strings.Contains(err.Error(), "SECRET-AUDIENCE") {
			t.Errorf("%s: %v", file, err)
		}
	}
}
