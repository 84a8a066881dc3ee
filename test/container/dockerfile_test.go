// Package container checks the Dockerfile at the repository's root. There
// is no container engine where the tests run, so what can be checked
// without one is: that the build stage runs the README's go build (static,
// stamped) and that command, run here, yields a static binary that reports
// the stamped build information; that the final stage is a minimal base
// and runs as a non-root user from a data directory it owns; and that the
// entrypoint is the binary the build stage produced.
package container

import (
	"bufio"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

type instr struct{ op, args string }

type stage struct {
	from, name string
	instrs     []instr
}

// parse reads a Dockerfile's stages, joining continued lines.
func parse(t *testing.T, path string) []stage {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var stages []stage
	var cont string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if cont == "" && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cont += strings.TrimSuffix(line, "\\") + " "
			continue
		}
		line, cont = cont+line, ""
		op, args, _ := strings.Cut(line, " ")
		op = strings.ToUpper(op)
		if op == "FROM" {
			f := strings.Fields(args)
			s := stage{from: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				s.name = f[2]
			}
			stages = append(stages, s)
			continue
		}
		if len(stages) > 0 {
			stages[len(stages)-1].instrs = append(stages[len(stages)-1].instrs, instr{op, strings.TrimSpace(args)})
		}
	}
	if len(stages) < 2 {
		t.Fatalf("%s: %d stages, want a build stage and a final one", path, len(stages))
	}
	return stages
}

func (s stage) all(op string) []string {
	var out []string
	for _, in := range s.instrs {
		if in.op == op {
			out = append(out, in.args)
		}
	}
	return out
}

func (s stage) last(op string) string {
	a := s.all(op)
	if len(a) == 0 {
		return ""
	}
	return a[len(a)-1]
}

// readmeBuild is the build command the README gives.
func readmeBuild(t *testing.T) string {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	// The README wraps its lines: a command may span two.
	m := regexp.MustCompile(`go\s+build\s+-o\s+(\S+)\s+(\./cmd/llmgw)`).FindStringSubmatch(string(b))
	if m == nil {
		t.Fatal("README gives no go build command")
	}
	return "go build -o " + m[1] + " " + m[2]
}

// buildRun is the build stage's RUN that builds the gateway.
func buildRun(t *testing.T, build stage) string {
	for _, r := range build.all("RUN") {
		if strings.Contains(r, "go build") {
			return r
		}
	}
	t.Fatal("the build stage runs no go build")
	return ""
}

func TestFinalStageRunsAsNonRoot(t *testing.T) {
	stages := parse(t, "../../Dockerfile")
	final := stages[len(stages)-1]
	if !strings.HasPrefix(final.from, "gcr.io/distroless/static") && final.from != "scratch" {
		t.Errorf("final base %s: want distroless/static or scratch", final.from)
	}
	user := final.last("USER")
	uid, _, _ := strings.Cut(user, ":")
	if user == "" || uid == "0" || uid == "root" {
		t.Errorf("final stage USER %q: want a non-root user", user)
	}
	// The data directory is the working directory, owned by that user.
	wd := final.last("WORKDIR")
	owned := false
	for _, c := range final.all("COPY") {
		f := strings.Fields(c)
		if strings.Contains(c, "--chown="+user) && f[len(f)-1] == wd {
			owned = true
		}
	}
	if wd == "" || !owned {
		t.Errorf("WORKDIR %q is not copied in owned by %s: the gateway could not write its data", wd, user)
	}
	if !strings.Contains(strings.Join(final.all("VOLUME"), " "), wd) {
		t.Errorf("the data directory %s is not a volume: a read-only root filesystem leaves nowhere to write", wd)
	}
	if env := strings.Join(final.all("ENV"), " "); !strings.Contains(env, "LLMGW_DATA_DIR="+wd) {
		t.Errorf("ENV %q: the built-in defaults' data directory is not %s", env, wd)
	}
}

// The build stage's command is the README's, static; run here with the
// stamps, it gives a static binary that reports them, and the final stage
// starts that binary.
func TestBuildStageIsTheREADMEBuild(t *testing.T) {
	stages := parse(t, "../../Dockerfile")
	var build stage
	for _, s := range stages[:len(stages)-1] {
		if s.name == "build" {
			build = s
		}
	}
	if build.from == "" {
		t.Fatal("no stage named build")
	}
	run := buildRun(t, build)
	readme := readmeBuild(t)
	m := regexp.MustCompile(`^CGO_ENABLED=0 go build (.*) -o (\S+) (\./cmd/llmgw)$`).FindStringSubmatch(run)
	if m == nil {
		t.Fatalf("build RUN %q: want CGO_ENABLED=0 go build <flags> -o <out> ./cmd/llmgw", run)
	}
	if want := "go build -o " + m[2] + " " + m[3]; want != readme {
		t.Errorf("the build stage builds %q, the README %q", want, readme)
	}
	wd := build.last("WORKDIR")
	binary := filepath.Join(wd, m[2])
	final := stages[len(stages)-1]
	var dest string
	for _, c := range final.all("COPY") {
		f := strings.Fields(c)
		if len(f) >= 3 && f[0] == "--from=build" && f[len(f)-2] == binary {
			dest = f[len(f)-1]
		}
	}
	if dest == "" {
		t.Fatalf("the final stage does not copy %s from the build stage", binary)
	}
	if ep := final.last("ENTRYPOINT"); !strings.Contains(ep, `"`+dest+`"`) {
		t.Errorf("ENTRYPOINT %s does not start %s", ep, dest)
	}

	// Run the stage's command here with its build arguments set.
	if testing.Short() {
		t.Skip("builds the binary")
	}
	args := map[string]string{"VERSION": "v9.8.7", "COMMIT": "0123456789abcdef", "DATE": "2026-12-01T00:00:00Z"}
	flags := os.Expand(m[1], func(k string) string { return args[k] })
	ld := regexp.MustCompile(`-ldflags "([^"]*)"`).FindStringSubmatch(flags)
	if ld == nil {
		t.Fatalf("build flags %q carry no -ldflags", flags)
	}
	// -trimpath only changes the paths recorded in the binary, and here it
	// would rebuild every package outside the build cache the other tests
	// share: it is left out of the run (it stays in the checked command).
	var rest []string
	for _, f := range strings.Fields(strings.Replace(flags, ld[0], "", 1)) {
		if f != "-trimpath" {
			rest = append(rest, f)
		}
	}
	out := filepath.Join(t.TempDir(), "llmgw")
	cmd := exec.Command("go", append(append([]string{"build"}, rest...), "-ldflags", ld[1], "-o", out, "github.com/llmgw/llmgw/cmd/llmgw")...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary asks for a dynamic loader: not static")
		}
	}
	got, err := exec.Command(out, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range args {
		if !strings.Contains(string(got), v) {
			t.Errorf("llmgw version = %q, lacks the stamped %s", got, v)
		}
	}
}
