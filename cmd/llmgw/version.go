package main

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/llmgw/llmgw/internal/observe"
)

// Build information, stamped by the release build (the Dockerfile's):
//
//	go build -ldflags "-X main.version=v1.2.3 -X main.commit=<sha> -X main.date=<RFC 3339>"
//
// Unstamped, a binary built from a git checkout reports the commit and
// time the go command recorded (vcs.revision, vcs.time), and one installed
// with go install module@version reports that version.
var version, commit, date string

// buildInfo is what `llmgw version` prints and the start log line records.
type buildInfo struct {
	Version, Commit, Date, Go string
	Modified                  bool
}

// readBuildInfo merges the stamped values with what the go command
// recorded in bi (nil when there is none).
func readBuildInfo(ver, com, dat string, bi *debug.BuildInfo) buildInfo {
	b := buildInfo{Version: ver, Commit: com, Date: dat}
	if bi != nil {
		b.Go = bi.GoVersion
		if b.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			b.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if b.Commit == "" {
					b.Commit = s.Value
				}
			case "vcs.time":
				if b.Date == "" {
					b.Date = s.Value
				}
			case "vcs.modified":
				b.Modified = s.Value == "true" && com == ""
			}
		}
	}
	if b.Version == "" {
		b.Version = "devel"
	}
	return b
}

func currentBuild() buildInfo {
	bi, _ := debug.ReadBuildInfo()
	return readBuildInfo(version, commit, date, bi)
}

// versionString is the version alone.
func versionString() string { return currentBuild().Version }

// versionLine is `llmgw version`'s output after the program's name:
// "v1.2.3 (commit 0123abc, built 2026-12-01T10:00:00Z, go1.26.8)".
func versionLine() string {
	b := currentBuild()
	var extra []string
	if b.Commit != "" {
		c := b.Commit
		if b.Modified {
			c += "+modified"
		}
		extra = append(extra, "commit "+c)
	}
	if b.Date != "" {
		extra = append(extra, "built "+b.Date)
	}
	if b.Go != "" {
		extra = append(extra, b.Go)
	}
	if len(extra) == 0 {
		return b.Version
	}
	return fmt.Sprintf("%s (%s)", b.Version, strings.Join(extra, ", "))
}

// registerBuildInfo exports llmgw_build_info, 1 with the version and
// commit as labels: during a rolling upgrade or a canary, which replicas
// run which version.
func registerBuildInfo(reg *observe.Registry, b buildInfo) {
	g := observe.Register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "llmgw_build_info",
		Help: "Build information of the running binary: 1, with its version and commit as labels.",
	}, []string{"version", "commit"}))
	g.Reset()
	v := b.Version
	if v == "" {
		v = "devel"
	}
	g.WithLabelValues(v, b.Commit).Set(1)
}
