package helm

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The chart's rule files (files/prometheus, since helm reads nothing
// outside the chart) are byte for byte deploy/prometheus's, and there are
// no others: change deploy/prometheus, then copy.
func TestRuleFilesAreCopies(t *testing.T) {
	src, _ := filepath.Glob(filepath.Join("..", "prometheus", "*.yaml"))
	dst, _ := filepath.Glob(filepath.Join(chartDir, "files", "prometheus", "*.yaml"))
	if len(src) == 0 || len(src) != len(dst) {
		t.Fatalf("deploy/prometheus has %d rule files, the chart %d: cp deploy/prometheus/*.yaml deploy/helm/llmgw/files/prometheus/", len(src), len(dst))
	}
	for _, s := range src {
		want, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		d := filepath.Join(chartDir, "files", "prometheus", filepath.Base(s))
		got, err := os.ReadFile(d)
		if err != nil {
			t.Errorf("%v: cp %s %s", err, s, d)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s: cp deploy/prometheus/*.yaml deploy/helm/llmgw/files/prometheus/", d, s)
		}
	}
}
