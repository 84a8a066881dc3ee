package main

import (
	"runtime/debug"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/llmgw/llmgw/internal/observe"
)

func TestReadBuildInfo(t *testing.T) {
	vcs := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-11-30T12:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	for _, tc := range []struct {
		name          string
		ver, com, dat string
		bi            *debug.BuildInfo
		want          buildInfo
	}{
		{"stamped wins", "v1.2.3", "def456", "2026-12-01T00:00:00Z", vcs, buildInfo{Version: "v1.2.3", Commit: "def456", Date: "2026-12-01T00:00:00Z", Go: "go1.26.8"}},
		{"from git", "", "", "", vcs, buildInfo{Version: "devel", Commit: "abc123", Date: "2026-11-30T12:00:00Z", Go: "go1.26.8", Modified: true}},
		{"go install", "", "", "", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.4.0"}}, buildInfo{Version: "v0.4.0", Go: "go1.26.8"}},
		{"nothing", "", "", "", nil, buildInfo{Version: "devel"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := readBuildInfo(tc.ver, tc.com, tc.dat, tc.bi); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// llmgw_build_info says which version and commit a replica runs, one
// series at a time.
func TestBuildInfoMetric(t *testing.T) {
	reg := observe.NewRegistry()
	registerBuildInfo(reg, buildInfo{Version: "v1.2.3", Commit: "0123abc"})
	registerBuildInfo(reg, buildInfo{Version: "v1.2.4", Commit: "4567def"})
	want := `
# HELP llmgw_build_info Build information of the running binary: 1, with its version and commit as labels.
# TYPE llmgw_build_info gauge
llmgw_build_info{commit="4567def",version="v1.2.4"} 1
`
	if err := testutil.GatherAndCompare(reg.Gatherer(), strings.NewReader(want), "llmgw_build_info"); err != nil {
		t.Fatal(err)
	}
}
