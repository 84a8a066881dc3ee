package ratelimits

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/testbin"
)

// binary is the llmgw binary built once for the package.
var binary string

func TestMain(m *testing.M) { testbin.Main(m, &binary) }

// redisURL is the test Redis, from LLMGW_TEST_REDIS_URL; a missing one is
// a skip, except in CI, where it is a failure.
func redisURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("LLMGW_TEST_REDIS_URL")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("LLMGW_TEST_REDIS_URL is not set; CI must provide Redis")
		}
		t.Skip("LLMGW_TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/0)")
	}
	return u
}

// gateway is a running llmgw process.
type gateway struct {
	addr string
	logs *testbin.Log
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// start runs `llmgw serve` on yaml and waits until it is ready.
func start(t *testing.T, yaml string) *gateway {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "llmgw.yaml")
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	g := &gateway{addr: "127.0.0.1:" + strconv.Itoa(freePort(t)), logs: &testbin.Log{}}
	cmd := exec.Command(binary, "serve", "--config", cfg, "--listen", g.addr)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	cmd.Dir = t.TempDir()
	cmd.Stdout, cmd.Stderr = g.logs, g.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-exited:
			t.Fatalf("gateway exited at start:\n%s", g.logs.String())
		default:
		}
		if r, err := client.Get("http://" + g.addr + "/readyz"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return g
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("gateway not ready:\n%s", g.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 200}}

// result is one answer: status, error code and message.
type result struct {
	status  int
	code    string
	message string
	retry   string
	cost    string // x-llmgw-cost-usd
	took    time.Duration
}

// chat sends one chat completion with key.
func (g *gateway) chat(key string) result {
	body := `{"model":"mock","messages":[{"role":"user","content":"hello"}],"max_tokens":16}`
	req, _ := http.NewRequest("POST", "http://"+g.addr+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return result{message: err.Error(), took: time.Since(start)}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	r := result{status: resp.StatusCode, retry: resp.Header.Get("Retry-After"), cost: resp.Header.Get("X-Llmgw-Cost-Usd"), took: time.Since(start)}
	var e struct {
		Error struct{ Code, Message string }
	}
	if json.Unmarshal(b, &e) == nil {
		r.code, r.message = e.Error.Code, e.Error.Message
	}
	return r
}
