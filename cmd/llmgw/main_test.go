package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "llmgw-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "llmgw")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"version"}, &out, io.Discard); code != 0 || !strings.HasPrefix(out.String(), "llmgw ") {
		t.Errorf("version: exit %d, output %q", code, out.String())
	}
	if code := run([]string{"bogus"}, io.Discard, io.Discard); code != 2 {
		t.Errorf("unknown command exit %d, want 2", code)
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "llmgw.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestValidateListsEveryProblem(t *testing.T) {
	bad := writeFile(t, `
server:
  listn: ":1"
providers:
  - name: a
    type: nope
models:
  - name: m
    targets: [{provider: x, model: y}]
`)
	var stderr bytes.Buffer
	code := run([]string{"validate", "--config", bad}, io.Discard, &stderr)
	if code == 0 {
		t.Fatal("validate accepted a bad config")
	}
	for _, want := range []string{"server.listn", "providers[0].type", `models[0].targets[0].provider: unknown provider "x"`} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("problems lack %q:\n%s", want, stderr.String())
		}
	}
	good := writeFile(t, "providers: [{name: mock, type: mock}]\nmodels: [{name: m, targets: [{provider: mock, model: mock}]}]\n")
	var stdout bytes.Buffer
	if code := run([]string{"validate", "--config", good}, &stdout, io.Discard); code != 0 {
		t.Errorf("validate rejected a good config (exit %d)", code)
	}
	// A provider type's own settings are checked: vertex takes no api_key
	// and needs its project.
	vertex := writeFile(t, "providers: [{name: c, type: vertex, api_key: k}]\nmodels: [{name: m, targets: [{provider: c, model: x}]}]\n")
	stderr.Reset()
	if code := run([]string{"validate", "--config", vertex}, io.Discard, &stderr); code == 0 || !strings.Contains(stderr.String(), "providers[0].api_key") ||
		!strings.Contains(stderr.String(), "providers[0].vertex") {
		t.Errorf("vertex without its settings: exit %d, %s", code, stderr.String())
	}
}

// The README's config example is valid as written.
func TestReadmeConfigValidates(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README has no yaml example")
	}
	// The example reads the keys from the environment.
	t.Setenv("OPENAI_API_KEY", "sk-test")
	t.Setenv("ANTHROPIC_API_KEY", "sk-ant-test")
	t.Setenv("LLMGW_CI_KEY", "sk-ci-test")
	var stderr bytes.Buffer
	if code := run([]string{"validate", "--config", writeFile(t, string(m[1]))}, io.Discard, &stderr); code != 0 {
		t.Fatalf("README config is invalid:\n%s", stderr.String())
	}
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServe runs the built binary with no config, as the README does.
// Arguments of the form NAME=value are set in the environment instead.
func startServe(t *testing.T, args ...string) (*exec.Cmd, string, *bytes.Buffer) {
	addr := freePort(t)
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	flags := []string{"serve", "--listen", addr}
	for _, a := range args {
		if !strings.HasPrefix(a, "-") && strings.Contains(a, "=") {
			env = append(env, a)
			continue
		}
		flags = append(flags, a)
	}
	cmd := exec.Command(binary, flags...)
	cmd.Env = env
	// The data directory (SQLite store, generated secret) is relative to
	// the working directory: a temporary one, not the repository.
	cmd.Dir = t.TempDir()
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	for i := 0; ; i++ {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if i > 200 {
			t.Fatalf("gateway did not become ready: %s", logs.String())
		}
		time.Sleep(25 * time.Millisecond)
	}
	return cmd, addr, &logs
}

// The README's curl examples, OpenAI's and Anthropic's, against the binary on
// its embedded defaults.
func TestReadmeCurlExamplesOnDefaults(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	examples := regexp.MustCompile(`(?s)curl -s http://127\.0\.0\.1:8080(/v1/[a-z/]+) .*?-d '(\{"model":"mock".*?\})'`).FindAllSubmatch(readme, -1)
	if len(examples) != 2 {
		t.Fatalf("README has %d curl examples for the mock model, want 2", len(examples))
	}
	_, addr, _ := startServe(t)
	want := map[string]string{"/v1/chat/completions": "choices.0.message.content", "/v1/messages": "content.0.text"}
	for _, ex := range examples {
		path := string(ex[1])
		field, ok := want[path]
		if !ok {
			t.Fatalf("unexpected example path %s", path)
		}
		resp, err := http.Post("http://"+addr+path, "application/json", bytes.NewReader(ex[2]))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || gjson.GetBytes(body, field).String() != "Hello, gateway!" {
			t.Errorf("README example %s: %d %s", path, resp.StatusCode, body)
		}
	}
}

// SIGTERM and SIGINT let a stream in flight finish, then the process exits 0.
func TestSignalsDrainAndExitZero(t *testing.T) {
	cfg := writeFile(t, `
providers:
  - name: mock
    type: mock
    mock: {tokens_per_second: 10}
models:
  - name: mock
    targets: [{provider: mock, model: mock}]
`)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd, addr, logs := startServe(t, "--config", cfg)
			resp, err := http.Post("http://"+addr+"/v1/chat/completions", "application/json",
				strings.NewReader(`{"model":"mock","stream":true,"messages":[{"role":"user","content":"one two three four five six"}]}`))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			br := bufio.NewReader(resp.Body)
			if _, err := br.ReadString('\n'); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			rest, err := io.ReadAll(br)
			if err != nil {
				t.Fatalf("stream cut by %v: %v", sig, err)
			}
			// At 10 words a second the words after the first were still to
			// come when the signal arrived.
			if n := strings.Count(string(rest), `"content":`); n < 4 {
				t.Errorf("only %d content events after the signal: %s", n, rest)
			}
			if !strings.HasSuffix(strings.TrimSpace(string(rest)), "data: [DONE]") {
				t.Errorf("stream did not finish: %s", rest)
			}
			if err := cmd.Wait(); err != nil {
				t.Errorf("exit: %v\n%s", err, logs.String())
			}
			// Log lines are buffered: a clean exit writes out every one,
			// the access log line of the drained stream and the last.
			var msgs []string
			for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
				msgs = append(msgs, gjson.Get(line, "msg").String())
			}
			if !slices.Contains(msgs, "request") || msgs[len(msgs)-1] != "stopped" {
				t.Errorf("log lines lost at exit: %q\n%s", msgs, logs.String())
			}
		})
	}
}

// LLMGW_CONFIG names the config when --config is absent, for serve and
// validate alike.
func TestConfigFromEnvironment(t *testing.T) {
	cfg := writeFile(t, "providers: [{name: mock, type: mock}]\nmodels: [{name: from-env, targets: [{provider: mock, model: mock}]}]\n")
	t.Setenv("LLMGW_CONFIG", cfg)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"validate"}, &stdout, &stderr); code != 0 {
		t.Fatalf("validate with LLMGW_CONFIG: exit %d: %s", code, stderr.String())
	}
	_, addr, _ := startServe(t, "LLMGW_CONFIG="+cfg)
	resp, err := http.Get("http://" + addr + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if got := gjson.GetBytes(body, "data.#.id").String(); got != `["from-env"]` {
		t.Errorf("models %s, want the config named by LLMGW_CONFIG", got)
	}
}

// server.metrics_listen serves /metrics, and only it, on an address of its
// own, behind server.metrics_token; the main listener then has no /metrics.
// Both listeners stop on SIGTERM.
func TestMetricsListener(t *testing.T) {
	maddr := freePort(t)
	cfg := writeFile(t, `
server:
  metrics_listen: "`+maddr+`"
  metrics_token: "${METRICS_TOKEN}"
providers: [{name: mock, type: mock}]
models: [{name: mock, targets: [{provider: mock, model: mock}]}]
`)
	cmd, addr, logs := startServe(t, "--config", cfg, "METRICS_TOKEN=s3cret-metrics")
	client := &http.Client{Timeout: 20 * time.Second}
	get := func(url, token string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("http://"+addr+"/metrics", "s3cret-metrics"); code != 404 {
		t.Errorf("main listener /metrics: %d %s", code, body)
	}
	if code, body := get("http://"+maddr+"/metrics", ""); code != 401 || strings.Contains(body, "s3cret") {
		t.Errorf("metrics without token: %d %s", code, body)
	}
	if code, _ := get("http://"+maddr+"/metrics", "wrong"); code != 401 {
		t.Errorf("metrics with a wrong token: %d", code)
	}
	if code, body := get("http://"+maddr+"/metrics", "s3cret-metrics"); code != 200 || !strings.Contains(body, "# TYPE") ||
		!strings.Contains(body, "llmgw_ledger_records_dropped_total 0") || !strings.Contains(body, "llmgw_ledger_spool_bytes") {
		t.Errorf("metrics with the token, the usage ledger's among them: %d %.200s", code, body)
	}
	for _, path := range []string{"/healthz", "/v1/models", "/admin/v1/targets"} {
		if code, _ := get("http://"+maddr+path, "s3cret-metrics"); code != 404 {
			t.Errorf("metrics listener %s: %d", path, code)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, logs.String())
	}
	if c, err := net.Dial("tcp", maddr); err == nil {
		c.Close()
		t.Error("metrics listener still open after exit")
	}
	if strings.Contains(logs.String(), "s3cret") {
		t.Error("the metrics token is in the logs")
	}
}
