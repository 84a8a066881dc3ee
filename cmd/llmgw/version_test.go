package main

import (
	"runtime/debug"
	"testing"
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
