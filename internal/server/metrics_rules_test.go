package server

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"
)

// The alert rules, their unit tests and the dashboards in deploy/ read
// histogram buckets by their le label: each le they name must be a bucket
// boundary of that histogram, or the query finds no series (a latency SLI
// with no data never burns).
func TestRuleBucketsExist(t *testing.T) {
	buckets := map[string][]float64{
		"llmgw_request_duration_seconds":    durationBuckets,
		"llmgw_time_to_first_token_seconds": ttftBuckets,
		"llmgw_inter_token_latency_seconds": itlBuckets,
		"llmgw_request_body_bytes":          bytesBuckets,
		"llmgw_response_body_bytes":         bytesBuckets,
	}
	le := regexp.MustCompile(`(llmgw_[a-z_]+)_bucket\{[^}]*le=\\?"([0-9.e+]+)\\?"`)
	var files []string
	for _, glob := range []string{"prometheus/*.yaml", "prometheus/tests/*.yaml", "grafana/*.json"} {
		m, err := filepath.Glob(filepath.Join("..", "..", "deploy", glob))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 3 {
		t.Fatalf("found %d files under deploy/", len(files))
	}
	seen := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range le.FindAllStringSubmatch(string(b), -1) {
			seen++
			bs, ok := buckets[m[1]]
			if !ok {
				t.Errorf("%s: %s_bucket{le=%q}: not a histogram of the server's (add it to this test)", f, m[1], m[2])
				continue
			}
			v, err := strconv.ParseFloat(m[2], 64)
			if err != nil || !slices.Contains(bs, v) {
				t.Errorf("%s: %s_bucket{le=%q}: not one of its buckets %v", f, m[1], m[2], bs)
			}
		}
	}
	if seen == 0 {
		t.Error("no le label found in deploy/: the pattern no longer matches the rules")
	}
}
