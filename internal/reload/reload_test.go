package reload_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/observe"
	"github.com/llmgw/llmgw/internal/reload"
)

const valid = `
server: {listen: "127.0.0.1:0"}
providers: [{name: mock, type: mock}]
models:
  - name: m
    targets: [{provider: mock, model: m, weight: %W%}]
`

func cfgText(weight string) string { return strings.ReplaceAll(valid, "%W%", weight) }

// env is a Reloader over a file in a temporary directory, applying
// configurations to applied.
type env struct {
	t        *testing.T
	path     string
	r        *reload.Reloader
	reg      *observe.Registry
	logs     *syncBuffer
	done     chan reload.Status
	watching chan struct{}
	settled  chan bool
	mu       sync.Mutex
	applied  []*config.Config
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newEnv(t *testing.T, dir string) *env {
	t.Helper()
	e := &env{t: t, path: filepath.Join(dir, "llmgw.yaml"), reg: observe.NewRegistry(), logs: &syncBuffer{}, done: make(chan reload.Status, 16), watching: make(chan struct{}), settled: make(chan bool, 16)}
	e.write(cfgText("1"))
	first, err := config.Load(e.path)
	if err != nil {
		t.Fatal(err)
	}
	e.r = reload.New(first, reload.Options{
		Source:   e.path,
		Load:     func() (*config.Config, error) { return config.Load(e.path) },
		Apply:    e.apply,
		Metrics:  e.reg,
		Logger:   slog.New(slog.NewJSONHandler(e.logs, nil)),
		Done:     func(st reload.Status, _ error) { e.done <- st },
		Watching: func() { close(e.watching) },
		Settled:  func(reloaded bool) { e.settled <- reloaded },
	})
	return e
}

func (e *env) write(text string) {
	e.t.Helper()
	if err := os.WriteFile(e.path, []byte(text), 0o600); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) apply(cfg *config.Config) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.applied = append(e.applied, cfg)
	return nil
}

func (e *env) reloads(result string) float64 {
	e.t.Helper()
	n := 0.0
	mfs, err := e.reg.Gatherer().Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "llmgw_config_reloads_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == result {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return n
}

// A valid configuration is applied and moves the version and hash; an
// invalid one (syntax error, unknown key, unknown provider, a setting
// that needs a restart, an unreadable file) is not: the status shows the
// error, the failure metric counts it and one ERROR line lists every
// problem.
func TestReloadAppliesValidAndRefusesInvalid(t *testing.T) {
	e := newEnv(t, t.TempDir())
	st0 := e.r.Status()
	if st0.Version != 1 || !strings.HasPrefix(st0.Hash, "sha256:") || st0.LastAttemptAt != nil || st0.Source != e.path {
		t.Fatalf("initial status %+v", st0)
	}
	e.write(cfgText("3"))
	st, err := e.r.Reload(reload.TriggerAdmin)
	if err != nil || st.Version != 2 || st.Hash == st0.Hash || st.LastResult != "success" || st.LastError != nil || len(e.applied) != 1 {
		t.Fatalf("valid reload: %+v, %v (applied %d)", st, err, len(e.applied))
	}
	if w := e.applied[0].Models[0].Targets[0].Weight; w != 3 {
		t.Errorf("applied weight %d", w)
	}
	cases := []struct {
		name, text string
		want       []string // every problem, in the status and the log
	}{
		{"syntax error", "models: [\n", []string{"yaml"}},
		{"unknown key and unknown provider", cfgText("1") + `  - name: other
    targets: [{provider: nope, model: x}]
bogus: 1
`, []string{"bogus", `unknown provider "nope"`}},
		{"restart-only settings", strings.Replace(cfgText("1"), `listen: "127.0.0.1:0"`, `listen: "127.0.0.1:1", data_dir: /elsewhere`, 1),
			[]string{"server.listen: changed, but takes effect only on restart", "server.data_dir: changed"}},
		{"missing secret", strings.Replace(cfgText("1"), "providers: [{name: mock, type: mock}]", `providers: [{name: mock, type: mock}, {name: oa, type: openai, api_key: "${LLMGW_TEST_UNSET_KEY}"}]`, 1),
			[]string{"providers[1].api_key"}},
		{"unreadable file", "", []string{"no such file"}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.text == "" {
				os.Remove(e.path)
				defer e.write(cfgText("3"))
			} else {
				e.write(c.text)
			}
			before := e.logs.String()
			st, err := e.r.Reload(reload.TriggerSignal)
			if err == nil || st.Version != 2 || st.LastResult != "failure" || st.LastError == nil || len(e.applied) != 1 {
				t.Fatalf("status %+v, err %v, applied %d", st, err, len(e.applied))
			}
			if got := e.reloads("failure"); got != float64(i+1) {
				t.Errorf("failures counted %v, want %d", got, i+1)
			}
			var line struct {
				Level    string   `json:"level"`
				Problems []string `json:"problems"`
			}
			logged := strings.TrimSpace(strings.TrimPrefix(e.logs.String(), before))
			if err := json.Unmarshal([]byte(logged), &line); err != nil || line.Level != "ERROR" {
				t.Fatalf("log %q: %v", logged, err)
			}
			for _, w := range c.want {
				if !strings.Contains(*st.LastError, w) || !strings.Contains(strings.Join(line.Problems, "\n"), w) {
					t.Errorf("%q missing: last_error %q, logged %q", w, *st.LastError, line.Problems)
				}
			}
			if len(line.Problems) < len(c.want) || len(st.LastProblems) != len(line.Problems) {
				t.Errorf("problems %q logged, %q in the status", line.Problems, st.LastProblems)
			}
		})
	}
	if got := e.reloads("success"); got != 1 {
		t.Errorf("successes counted %v", got)
	}
	if got := testutil.ToFloat64(gaugeOf(t, e.reg, "llmgw_config_version")); got != 2 {
		t.Errorf("llmgw_config_version %v", got)
	}
	// A valid file again clears the error.
	e.write(cfgText("4"))
	if st, err := e.r.Reload(reload.TriggerAdmin); err != nil || st.Version != 3 || st.LastError != nil || st.LastProblems != nil {
		t.Fatalf("after the failures: %+v, %v", st, err)
	}
}

// gaugeOf is the single-series gauge name in reg.
func gaugeOf(t *testing.T, reg *observe.Registry, name string) *single {
	return &single{t: t, reg: reg, name: name}
}

// The file watcher reloads once per change, whether the file is written in
// place, replaced by a rename, or swapped under a Kubernetes ConfigMap's
// ..data symlink; a write that does not change the bytes reloads nothing.
func TestWatchReloadsOncePerChange(t *testing.T) {
	dir := t.TempDir()
	// ConfigMap layout: llmgw.yaml -> ..data/llmgw.yaml, ..data -> ..v1.
	if err := os.Mkdir(filepath.Join(dir, "..v1"), 0o700); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, dir)
	os.Rename(e.path, filepath.Join(dir, "..v1", "llmgw.yaml"))
	must(t, os.Symlink("..v1", filepath.Join(dir, "..data")))
	must(t, os.Symlink(filepath.Join("..data", "llmgw.yaml"), e.path))

	defer watch(t, e)()
	waitReload := func(step string, version int64) {
		t.Helper()
		select {
		case st := <-e.done:
			if st.Version != version || st.LastResult != "success" {
				t.Fatalf("%s: %+v", step, st)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: no reload", step)
		}
	}
	swap := func(name, text string) {
		t.Helper()
		must(t, os.Mkdir(filepath.Join(dir, name), 0o700))
		must(t, os.WriteFile(filepath.Join(dir, name, "llmgw.yaml"), []byte(text), 0o600))
		must(t, os.Symlink(name, filepath.Join(dir, "..data_tmp")))
		must(t, os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")))
	}
	<-e.watching
	swap("..v2", cfgText("2"))
	waitReload("ConfigMap swap", 2)
	// Rename over: an editor's save.
	tmp := filepath.Join(dir, ".llmgw.yaml.swp")
	must(t, os.WriteFile(tmp, []byte(cfgText("3")), 0o600))
	must(t, os.Remove(e.path))
	must(t, os.Rename(tmp, e.path))
	waitReload("rename over", 3)
	// Written in place, in two writes.
	f, err := os.OpenFile(e.path, os.O_WRONLY|os.O_TRUNC, 0)
	must(t, err)
	text := cfgText("4")
	_, _ = f.WriteString(text[:10])
	_, _ = f.WriteString(text[10:])
	must(t, f.Close())
	waitReload("write in place", 4)
	// The same bytes again: no reload; the next change is version 5.
	must(t, os.WriteFile(e.path, []byte(text), 0o600))
	must(t, os.WriteFile(e.path, []byte(cfgText("5")), 0o600))
	waitReload("after an unchanged write", 5)
	// The watch reports each of its reloads (versions 2 to 5) settled
	// just after it, and quiet periods without a change as they pass: wait
	// for the four reports of reloads, so that none is taken for the
	// settling of the signal step's write.
	for reloads := 0; reloads < 4; {
		select {
		case reloaded := <-e.settled:
			if reloaded {
				reloads++
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("the watch reported %d of its 4 reloads settled", reloads)
		}
	}
	// A change a signal has already loaded is not loaded again when the
	// watch sees it. A watch event left from the step before may still
	// fire between the write and the signal and load the write first: the
	// step is then made again with another change.
	version, change := int64(5), 5
	for attempt := 0; ; attempt++ {
		if attempt == 5 {
			t.Fatal("five times the watch loaded the write before the signal could")
		}
		for len(e.settled) > 0 {
			<-e.settled
		}
		change++
		must(t, os.WriteFile(e.path, []byte(cfgText(strconv.Itoa(change))), 0o600))
		if _, err := e.r.Reload(reload.TriggerSignal); err != nil {
			t.Fatal(err)
		}
		version++
		first := nextStatus(t, e)
		if first.LastTrigger == reload.TriggerFile {
			version++
			if st := nextStatus(t, e); st.Version != version || st.LastTrigger != reload.TriggerSignal {
				t.Fatalf("the signal's reload: %+v", st)
			}
			continue
		}
		if first.Version != version || first.LastTrigger != reload.TriggerSignal || first.LastResult != "success" {
			t.Fatalf("signal: %+v", first)
		}
		select {
		case reloaded := <-e.settled:
			if reloaded {
				t.Fatal("the watch loaded again what the signal had loaded")
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the watch did not settle")
		}
		break
	}
	// Had the watch loaded the signal's change again, this would be one
	// version further.
	change++
	must(t, os.WriteFile(e.path, []byte(cfgText(strconv.Itoa(change))), 0o600))
	version++
	waitReload("after a change the signal loaded", version)
	if got := e.reloads("success"); got != float64(version-1) {
		t.Errorf("%v reloads, want %d", got, version-1)
	}
}

// nextStatus returns the status of e's next reload.
func nextStatus(t *testing.T, e *env) reload.Status {
	t.Helper()
	select {
	case st := <-e.done:
		return st
	case <-time.After(10 * time.Second):
		t.Fatal("no reload")
		return reload.Status{}
	}
}

// A change made after the start's read and before the watch began, which
// raised no event the watch could see, is loaded once the watch is up.
func TestWatchLoadsAChangeMadeBeforeIt(t *testing.T) {
	e := newEnv(t, t.TempDir())
	must(t, os.WriteFile(e.path, []byte(cfgText("2")), 0o600))
	defer watch(t, e)()
	select {
	case st := <-e.done:
		if st.Version != 2 || st.LastResult != "success" || st.LastTrigger != reload.TriggerFile {
			t.Fatalf("%+v", st)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the change made before the watch was never loaded")
	}
}

// watch runs e's file watch, with a short debounce, until the returned
// function is called; it checks that the watch ended without an error.
func watch(t *testing.T, e *env) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	watching := make(chan error, 1)
	go func() { watching <- e.r.Watch(ctx, 20*time.Millisecond) }()
	return func() {
		cancel()
		if err := <-watching; err != nil {
			t.Error(err)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
