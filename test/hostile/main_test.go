package hostile

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/testbin"
)

// binary is the llmgw binary built once for the whole suite.
var binary string

func TestMain(m *testing.M) { testbin.Main(m, &binary) }

// Canaries: secrets of the configuration that must never appear in a
// response, a log line, a metric or an admin answer.
const (
	canaryProviderKey  = "sk-canary-prov-7f3a9c"
	canaryAnthropicKey = "sk-canary-prov-anth-2b8e1d"
	canaryHeader       = "hdr-canary-5d9e0a"
	canaryVirtualKey   = "sk-canary-vk-81c4e2"
	canaryNoModelsKey  = "sk-canary-vk-none-3f6b7a"
	canaryOneModelKey  = "sk-canary-vk-one-9a1d5c"
	canaryFailingKey   = "sk-canary-vk-fail-4e0b77"
	canaryAdminToken   = "adm-canary-c0ffee42"
)

// canaries are every secret above; the virtual keys are in the requests the
// tests send, never in what comes back.
var canaries = []string{canaryProviderKey, canaryAnthropicKey, canaryHeader, canaryVirtualKey,
	canaryNoModelsKey, canaryOneModelKey, canaryFailingKey, canaryAdminToken}

// gateway is a running llmgw process.
type gateway struct {
	t    *testing.T
	cmd  *exec.Cmd
	addr string
	logs *testbin.Log
	// exited is closed when the process has been waited for; err is its
	// exit error.
	exited chan struct{}
	err    error
}

// freePort returns a loopback address nothing listens on.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startGateway writes yaml to a file and runs `llmgw serve` on it, on a
// free loopback port, and waits until /readyz answers 200. The process is
// killed at the end of the test if still running.
func startGateway(t *testing.T, yaml string) *gateway {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "llmgw.yaml")
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	g := &gateway{t: t, addr: freePort(t), logs: &testbin.Log{}, exited: make(chan struct{})}
	g.cmd = exec.Command(binary, "serve", "--config", cfg, "--listen", g.addr)
	g.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	g.cmd.Dir = t.TempDir() // where the default data directory goes
	g.cmd.Stdout, g.cmd.Stderr = g.logs, g.logs
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { g.err = g.cmd.Wait(); close(g.exited) }()
	t.Cleanup(func() {
		_ = g.cmd.Process.Kill()
		<-g.exited
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-g.exited:
			t.Fatalf("gateway exited at start (%v):\n%s", g.err, g.logs.String())
		default:
		}
		resp, err := http.Get("http://" + g.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return g
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("gateway not ready:\n%s", g.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// alive fails the test if the process has exited.
func (g *gateway) alive(t *testing.T) {
	t.Helper()
	select {
	case <-g.exited:
		t.Fatalf("the gateway died (%v):\n%s", g.err, crash(g.logs.String()))
	default:
	}
}

// dead reports whether the process has exited.
func (g *gateway) dead() bool {
	select {
	case <-g.exited:
		return true
	default:
		return false
	}
}

// crash returns the start of a Go crash report in out, or its tail.
func crash(out string) string {
	for _, mark := range []string{"runtime: ", "fatal error: ", "panic: "} {
		if i := strings.Index(out, mark); i >= 0 {
			return out[i:min(len(out), i+1500)] + "\n..."
		}
	}
	return tail(out, 2000)
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// answer is a response with its body read and how long it took.
type answer struct {
	status  int
	header  http.Header
	body    []byte
	elapsed time.Duration
	err     error
}

// noKeepAlive is a client that closes every connection after its
// response, so that the gateway's connection count says nothing of the
// client's pool. Its timeout only ends a test whose gateway stalls; the
// tests' own bounds are shorter.
var noKeepAlive = &http.Client{
	Transport: &http.Transport{DisableKeepAlives: true, MaxResponseHeaderBytes: 1 << 20},
	Timeout:   time.Minute,
}

// do sends a request to the gateway; headers are name, value pairs. A
// response body is read up to 32 MiB.
func (g *gateway) do(method, path string, body []byte, headers ...string) answer {
	return g.doCtx(context.Background(), method, path, body, headers...)
}

func (g *gateway) doCtx(ctx context.Context, method, path string, body []byte, headers ...string) answer {
	req, err := http.NewRequestWithContext(ctx, method, "http://"+g.addr+path, bytes.NewReader(body))
	if err != nil {
		return answer{err: err}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if strings.EqualFold(headers[i], "Host") {
			req.Host = headers[i+1]
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	start := time.Now()
	resp, err := noKeepAlive.Do(req)
	if err != nil {
		return answer{err: err, elapsed: time.Since(start)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	return answer{status: resp.StatusCode, header: resp.Header, body: b, elapsed: time.Since(start), err: err}
}

// auth returns the headers that carry key.
func auth(key string) []string { return []string{"Authorization", "Bearer " + key} }

// metric returns the value of an unlabelled metric from /metrics, or -1.
func (g *gateway) metric(name string) float64 {
	a := g.do("GET", "/metrics", nil)
	if a.err != nil || a.status != 200 {
		return -1
	}
	sc := bufio.NewScanner(bytes.NewReader(a.body))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && f[0] == name {
			v, err := strconv.ParseFloat(f[1], 64)
			if err == nil {
				return v
			}
		}
	}
	return -1
}

// goroutines is the gateway's go_goroutines gauge.
func (g *gateway) goroutines(t *testing.T) int {
	t.Helper()
	v := g.metric("go_goroutines")
	if v < 0 {
		t.Fatalf("/metrics has no go_goroutines")
	}
	return int(v)
}

// fds counts the gateway process's open file descriptors.
func (g *gateway) fds(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", g.cmd.Process.Pid))
	if err != nil {
		t.Fatalf("reading the gateway's fds: %v", err)
	}
	return len(ents)
}

// baseline is the gateway's goroutine and fd counts at rest.
type baseline struct{ goroutines, fds int }

func (g *gateway) baseline(t *testing.T) baseline {
	t.Helper()
	return baseline{g.goroutines(t), g.fds(t)}
}

// settles waits until the goroutine and fd counts are back within slack of
// b, polling up to a generous deadline, and fails with the last counts
// otherwise.
func (g *gateway) settles(t *testing.T, b baseline, slack int, within time.Duration) {
	t.Helper()
	start := time.Now()
	deadline := start.Add(within)
	var gr, fd int
	for {
		gr, fd = g.goroutines(t), g.fds(t)
		if gr <= b.goroutines+slack && fd <= b.fds+slack {
			t.Logf("back to baseline after %v: goroutines %d (baseline %d), fds %d (baseline %d)",
				time.Since(start).Round(time.Millisecond), gr, b.goroutines, fd, b.fds)
			return
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("not back to baseline after %v: goroutines %d (baseline %d), fds %d (baseline %d), slack %d",
		within, gr, b.goroutines, fd, b.fds, slack)
}

// noCanary fails if any canary appears in s, which came from where.
func noCanary(t *testing.T, where string, s string) {
	t.Helper()
	for _, c := range canaries {
		if i := strings.Index(s, c); i >= 0 {
			lo, hi := max(0, i-200), min(len(s), i+len(c)+100)
			t.Errorf("%s holds the secret %q: ...%s...", where, c, s[lo:hi])
		}
	}
}

// noCanaryIn checks an answer's headers and body.
func noCanaryIn(t *testing.T, where string, a answer) {
	t.Helper()
	var h strings.Builder
	_ = a.header.Write(&h)
	noCanary(t, where+" headers", h.String())
	noCanary(t, where+" body", string(a.body))
}

// finish ends a test's gateway: no secret in /metrics or the admin API's
// targets, then SIGTERM, a clean exit, and no secret, panic or line over
// maxLogLine in everything it logged.
func (g *gateway) finish(t *testing.T) {
	t.Helper()
	g.alive(t)
	noCanaryIn(t, "/metrics", g.do("GET", "/metrics", nil))
	targets := g.do("GET", "/admin/v1/targets", nil, auth(canaryAdminToken)...)
	if targets.status != 200 {
		t.Errorf("/admin/v1/targets: %d %s", targets.status, targets.body)
	}
	noCanaryIn(t, "/admin/v1/targets", targets)
	g.stop(t, 20*time.Second)
	g.checkLog(t)
}

// maxLogLine bounds a log line: reflected client values are truncated.
const maxLogLine = 4096

// checkLog checks what the gateway logged: no secret, no recovered panic,
// no line longer than maxLogLine.
func (g *gateway) checkLog(t *testing.T) {
	t.Helper()
	out := g.logs.String()
	noCanary(t, "the gateway's log", out)
	for _, line := range strings.Split(out, "\n") {
		if len(line) > maxLogLine {
			t.Errorf("a log line of %d bytes: %.300s...", len(line), line)
		}
		if strings.Contains(line, "panic") {
			t.Errorf("the gateway logged a panic: %.1000s", line)
		}
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (g *gateway) stop(t *testing.T, within time.Duration) {
	t.Helper()
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.exited:
		if g.err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", g.err, tail(g.logs.String(), 2000))
		}
	case <-time.After(within):
		t.Errorf("still running %v after SIGTERM", within)
	}
}

// Error shapes by route.
const (
	openaiShape    = "openai"
	anthropicShape = "anthropic"
)

func shapeOf(path string) string {
	if path == "/v1/messages" || strings.HasPrefix(path, "/v1/messages/") {
		return anthropicShape
	}
	return openaiShape
}

// errorShape checks that body is an error in the route's shape and returns
// its OpenAI code or Anthropic type.
func errorShape(t *testing.T, path string, a answer) string {
	t.Helper()
	if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: error with Content-Type %q", path, ct)
	}
	if !gjson.ValidBytes(a.body) {
		t.Errorf("%s: error body is not JSON: %.300q", path, a.body)
		return ""
	}
	if shapeOf(path) == anthropicShape {
		if gjson.GetBytes(a.body, "type").String() != "error" || gjson.GetBytes(a.body, "error.message").Type != gjson.String {
			t.Errorf("%s: not an Anthropic error: %.300s", path, a.body)
		}
		return gjson.GetBytes(a.body, "error.type").String()
	}
	e := gjson.GetBytes(a.body, "error")
	if !e.IsObject() || e.Get("message").Type != gjson.String || e.Get("type").Type != gjson.String {
		t.Errorf("%s: not an OpenAI error: %.300s", path, a.body)
	}
	return e.Get("code").String()
}

// wantError checks status and, for OpenAI routes, the code (for Anthropic
// routes the status fixes the type).
func wantError(t *testing.T, path string, a answer, status int, code string) {
	t.Helper()
	if a.err != nil {
		t.Errorf("%s: %v", path, a.err)
		return
	}
	if a.status != status {
		t.Errorf("%s: status %d, want %d: %.300s", path, a.status, status, a.body)
		return
	}
	got := errorShape(t, path, a)
	if shapeOf(path) == openaiShape && code != "" && got != code {
		t.Errorf("%s: code %q, want %q: %.300s", path, got, code, a.body)
	}
}

// signal sends sig to the process.
func (g *gateway) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := g.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}
