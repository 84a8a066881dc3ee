package docs_test

import (
	"bufio"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/server"
)

// root is the repository's root, from this package's directory.
const root = "../.."

// pages returns every page the checks cover, as paths relative to root.
func pages(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, pattern := range []string{"*.md", "docs/*.md", "docs/adr/*.md"} {
		m, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range m {
			rel, err := filepath.Rel(root, p)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, filepath.ToSlash(rel))
		}
	}
	for _, must := range []string{"SECURITY.md", "CONTRIBUTING.md", "docs/README.md", "docs/adr/README.md"} {
		if !contains(out, must) {
			t.Errorf("%s is missing", must)
		}
	}
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// prose returns a page's text without its fenced code blocks, line by
// line (numbered from 1), so that sample output and shell sessions are
// not read as claims.
func prose(t *testing.T, page string) map[int]string {
	t.Helper()
	f, err := os.Open(filepath.Join(root, page))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines := map[int]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	fenced := false
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			continue
		}
		if !fenced {
			lines[n] = line
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// each calls fn for every line of prose of every page, in order.
func each(t *testing.T, fn func(page string, n int, line string)) {
	t.Helper()
	for _, page := range pages(t) {
		lines := prose(t, page)
		nums := make([]int, 0, len(lines))
		for n := range lines {
			nums = append(nums, n)
		}
		sort.Ints(nums)
		for _, n := range nums {
			fn(page, n, lines[n])
		}
	}
}

var link = regexp.MustCompile(`\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)

// TestRelativeLinksResolve checks that every relative link of the
// documentation names a file or directory of the repository.
func TestRelativeLinksResolve(t *testing.T) {
	checked := 0
	each(t, func(page string, n int, line string) {
		for _, m := range link.FindAllStringSubmatch(line, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") || strings.HasPrefix(target, "#") {
				continue
			}
			target, _, _ = strings.Cut(target, "#")
			path := filepath.Join(root, filepath.Dir(page), filepath.FromSlash(target))
			if _, err := os.Stat(path); err != nil {
				t.Errorf("%s:%d: link %q leads nowhere", page, n, m[1])
			}
			checked++
		}
	})
	if checked < 50 {
		t.Errorf("only %d relative links found: is the link pattern still right?", checked)
	}
}

// configKeys returns every key path of the configuration file, such as
// "server.read_timeout" and "models.targets.limits.rpm" (list indexes
// left out), read from the yaml tags of config.Config.
func configKeys() map[string]bool {
	keys := map[string]bool{}
	var walk func(prefix string, t reflect.Type)
	walk = func(prefix string, t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return
		}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" || name == "-" {
				continue
			}
			path := name
			if prefix != "" {
				path = prefix + "." + name
			}
			keys[path] = true
			walk(path, f.Type)
		}
	}
	walk("", reflect.TypeFor[config.Config]())
	return keys
}

var (
	code  = regexp.MustCompile("`([^`]+)`")
	index = regexp.MustCompile(`\[\d*\]`)
	// notKeys are backticked words shaped like keys that are something
	// else: audit log actions.
	notKeys = map[string]bool{"auth.failure": true}
)

// keyPattern matches a backticked configuration key: a top-level section
// of keys, then at least one field, list indexes as [] or [N].
func keyPattern(keys map[string]bool) *regexp.Regexp {
	var sections []string
	for k := range keys {
		if !strings.Contains(k, ".") {
			sections = append(sections, k)
		}
	}
	sort.Strings(sections)
	return regexp.MustCompile(`^(` + strings.Join(sections, "|") + `)(\[\d*\])?(\.[a-z0-9_]+(\[\d*\])?)+$`)
}

// TestConfigKeysExist checks that every configuration key named in
// backticks (`server.read_timeout`, `models[].retry.max_attempts`) is a
// key of the configuration file.
func TestConfigKeysExist(t *testing.T) {
	keys := configKeys()
	keyPath := keyPattern(keys)
	for _, k := range []string{"server.read_timeout", "models.targets.limits.rpm", "keys.budget.period"} {
		if !keys[k] {
			t.Fatalf("the key walk misses %q: %d keys found", k, len(keys))
		}
	}
	checked := 0
	each(t, func(page string, n int, line string) {
		for _, m := range code.FindAllStringSubmatch(line, -1) {
			s := m[1]
			if !keyPath.MatchString(s) || notKeys[s] || strings.HasSuffix(s, ".go") || strings.HasSuffix(s, ".md") {
				continue
			}
			if !keys[index.ReplaceAllString(s, "")] {
				t.Errorf("%s:%d: `%s` is not a configuration key", page, n, s)
			}
			checked++
		}
	})
	if checked < 50 {
		t.Errorf("only %d configuration keys found in the documentation: is the pattern still right?", checked)
	}
}

var route = regexp.MustCompile(`^(?:(GET|POST|PATCH|DELETE|PUT)\s+)?(/(?:v1|admin/v1)(?:/[^\s?]*)?|/healthz|/readyz|/metrics)(?:\?\S*)?$`)

// gatewayHandler returns the gateway's HTTP handler on a configuration
// with a static key and an admin token, so that every route it serves
// answers 401 (or, open ones, 200) to a request without credentials,
// before doing anything, and a path it does not serve 404 "no route" or
// 405.
func gatewayHandler(t *testing.T) http.Handler {
	t.Helper()
	const yaml = `
server:
  admin_token: "docs-test-admin-token-0123456789"
providers:
  - { name: mock, type: mock }
models:
  - name: mock
    targets: [{ provider: mock, model: mock }]
keys:
  - { name: docs, key: "sk-docs-test-key-0123456789" }
`
	cfg, err := config.Parse([]byte(yaml), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	snap, err := gateway.Compile(cfg, gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return server.New(snap, slog.New(slog.DiscardHandler))
}

// served reports whether the gateway serves path, with method when given.
func served(h http.Handler, method, path string) (bool, string) {
	m := method
	if m == "" {
		m = http.MethodGet
	}
	path = strings.NewReplacer("{", "", "}", "", "...", "").Replace(path)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(m, path, nil))
	body, _ := io.ReadAll(rec.Body)
	switch {
	case rec.Code == http.StatusNotFound && strings.Contains(string(body), "no route for"):
		return false, "no such route"
	case rec.Code == http.StatusMethodNotAllowed && method != "":
		return false, "the path accepts " + rec.Header().Get("Allow")
	}
	return true, ""
}

// TestRoutesExist checks that every route named in backticks (`GET
// /admin/v1/targets`, `/readyz`) is served by the gateway, with that
// method when one is named.
func TestRoutesExist(t *testing.T) {
	h := gatewayHandler(t)
	if ok, _ := served(h, "GET", "/admin/v1/no-such-thing"); ok {
		t.Fatal("an unknown path counts as served: the check is broken")
	}
	if ok, _ := served(h, "DELETE", "/v1/chat/completions"); ok {
		t.Fatal("a wrong method counts as served: the check is broken")
	}
	checked := 0
	each(t, func(page string, n int, line string) {
		for _, m := range code.FindAllStringSubmatch(line, -1) {
			r := route.FindStringSubmatch(strings.TrimSpace(m[1]))
			// A prefix (`/v1`, `/admin/v1/...`, `/v1/*`) names no route.
			if r == nil || r[2] == "/v1" || r[2] == "/admin/v1" || strings.HasSuffix(r[2], "/") ||
				strings.HasSuffix(r[2], "/...") || strings.HasSuffix(r[2], "/*") {
				continue
			}
			if ok, why := served(h, r[1], r[2]); !ok {
				t.Errorf("%s:%d: `%s`: %s", page, n, m[1], why)
			}
			checked++
		}
	})
	if checked < 30 {
		t.Errorf("only %d routes found in the documentation: is the pattern still right?", checked)
	}
}

var metric = regexp.MustCompile(`^llmgw_[a-z0-9_]+$`)

// TestMetricsExist checks that every llmgw_ metric named in backticks is
// declared in the gateway's code.
func TestMetricsExist(t *testing.T) {
	declared := map[string]bool{}
	for _, dir := range []string{"internal", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range regexp.MustCompile(`"(llmgw_[a-z0-9_]+)"`).FindAllStringSubmatch(string(b), -1) {
				declared[m[1]] = true
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	each(t, func(page string, n int, line string) {
		for _, m := range code.FindAllStringSubmatch(line, -1) {
			name := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(m[1], "_bucket"), "_sum"), "_count")
			if metric.MatchString(name) && !declared[name] {
				t.Errorf("%s:%d: metric `%s` is declared nowhere in the code", page, n, m[1])
			}
		}
	})
}

var (
	command = regexp.MustCompile("^llmgw( .*)?$")
	caseArm = regexp.MustCompile(`(?m)^\s*case ((?:"[^"]+",?\s*)+):`)
	quoted  = regexp.MustCompile(`"([^"]+)"`)
	flagDef = regexp.MustCompile(`fs\.(?:String|Bool|Int|Int64|Duration)(?:Var)?\((?:&[^,]+, )?"([a-z-]+)"|fs\.Var\(&[^,]+, "([a-z-]+)"`)
)

// cliSurface reads the commands (the case arms of cmd/llmgw's switches,
// such as "serve" and "keys revoke") and the flags cmd/llmgw declares.
func cliSurface(t *testing.T) (commands, flags map[string]bool) {
	t.Helper()
	commands, flags = map[string]bool{}, map[string]bool{}
	files, err := filepath.Glob(filepath.Join(root, "cmd/llmgw/*.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, arm := range caseArm.FindAllStringSubmatch(string(b), -1) {
			for _, q := range quoted.FindAllStringSubmatch(arm[1], -1) {
				commands[q[1]] = true
			}
		}
		for _, m := range flagDef.FindAllStringSubmatch(string(b), -1) {
			flags[m[1]+m[2]] = true
		}
	}
	return commands, flags
}

// TestCommandsExist checks that every llmgw command named in backticks
// (`llmgw keys revoke`, `llmgw serve --config llmgw.yaml`) is a command of
// cmd/llmgw, with flags it declares.
func TestCommandsExist(t *testing.T) {
	commands, flags := cliSurface(t)
	for _, c := range []string{"serve", "keys revoke"} {
		if !commands[c] {
			t.Fatalf("the command scan misses %q: %v", c, commands)
		}
	}
	if !flags["config"] || !flags["tenant"] {
		t.Fatalf("the flag scan misses config or tenant: %v", flags)
	}
	checked := 0
	each(t, func(page string, n int, line string) {
		for _, m := range code.FindAllStringSubmatch(line, -1) {
			if !command.MatchString(m[1]) {
				continue
			}
			words := strings.Fields(m[1])[1:]
			if len(words) == 0 {
				continue
			}
			switch {
			case !commands[words[0]]:
				t.Errorf("%s:%d: `%s`: no command %q", page, n, m[1], words[0])
			case (words[0] == "tenants" || words[0] == "keys") && len(words) > 1 && !strings.HasPrefix(words[1], "-") && !commands[words[0]+" "+words[1]]:
				t.Errorf("%s:%d: `%s`: no command %q", page, n, m[1], words[0]+" "+words[1])
			}
			for _, w := range words {
				if name, ok := strings.CutPrefix(w, "--"); ok {
					name, _, _ = strings.Cut(name, "=")
					if !flags[name] {
						t.Errorf("%s:%d: `%s`: no flag --%s", page, n, m[1], name)
					}
				}
			}
			checked++
		}
	})
	if checked < 10 {
		t.Errorf("only %d commands found in the documentation: is the pattern still right?", checked)
	}
}
