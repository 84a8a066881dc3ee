package pricing

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/pricing.md from the built-in table")

// TestDocPricing compares docs/pricing.md with the page generated from the
// built-in table, or writes it with -update.
func TestDocPricing(t *testing.T) {
	got := Builtin().Markdown()
	path := filepath.Join("..", "..", "docs", "pricing.md")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (generate it with -update)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("docs/pricing.md is not what the table produces; regenerate it with\n"+
			"  go test ./internal/pricing -run TestDocPricing -update\ngenerated:\n%s", got)
	}
}
