package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/store/pgtest"
)

// holdingProxy forwards TCP connections to target, each only once release
// is closed; accepted receives a value per connection taken.
func holdingProxy(t *testing.T, target string, release <-chan struct{}) (addr string, accepted <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	acc := make(chan struct{}, 100)
	var mu sync.Mutex
	var conns []net.Conn
	var wg sync.WaitGroup
	done := make(chan struct{})
	t.Cleanup(func() {
		close(done)
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			select {
			case acc <- struct{}{}:
			default:
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				select {
				case <-release:
				case <-done:
					c.Close()
					return
				}
				up, err := net.Dial("tcp", target)
				if err != nil {
					c.Close()
					return
				}
				mu.Lock()
				conns = append(conns, up)
				mu.Unlock()
				go func() { _, _ = io.Copy(up, c); up.Close() }()
				_, _ = io.Copy(c, up)
				c.Close()
			}()
		}
	}()
	return ln.Addr().String(), acc
}

// probe answers GET base+path: its status and body; 0 when no answer.
func probe(base, path string) (int, string, http.Header) {
	resp, err := http.Get(base + path)
	if err != nil {
		return 0, "", nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// TestStartupWhileTheStoreOpens holds the gateway's connections to its
// store: while they are held the process answers on its listener, /healthz
// 200, /startupz and /readyz 503 and every other route 503 with
// Retry-After; once the store answers, /startupz and /readyz answer 200.
func TestStartupWhileTheStoreOpens(t *testing.T) {
	dsn := pgtest.FreshSchema(t)
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		t.Fatalf("LLMGW_TEST_POSTGRES_DSN must be a URL: %v", err)
	}
	release := make(chan struct{})
	proxy, accepted := holdingProxy(t, u.Host, release)
	u.Host = proxy
	cfg := writeFile(t, fmt.Sprintf(`
server: {secret: "startup-test-secret-0123456789abcdefghij"}
storage: {driver: postgres, dsn: %q}
providers: [{name: mock, type: mock}]
models: [{name: m, targets: [{provider: mock, model: mock}]}]
`, u.String()))
	addr := freePort(t)
	cmd := exec.Command(binary, "serve", "--config", cfg, "--listen", addr)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	cmd.Dir = t.TempDir()
	var logs syncLog
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	base := "http://" + addr
	<-accepted // the gateway is opening its store, held
	for i := 0; ; i++ {
		if code, _, _ := probe(base, "/healthz"); code == 200 {
			break
		}
		if i > 400 {
			t.Fatalf("no answer on the listener while the store opens: %s", logs.String())
		}
		time.Sleep(25 * time.Millisecond)
	}
	if code, body, _ := probe(base, "/startupz"); code != 503 || gjson.Get(body, "status").String() != "starting" {
		t.Errorf("/startupz while starting: %d %s", code, body)
	}
	if code, body, _ := probe(base, "/readyz"); code != 503 || gjson.Get(body, "status").String() != "unavailable" ||
		!gjson.Get(body, "checks.server.starting").Bool() {
		t.Errorf("/readyz while starting: %d %s", code, body)
	}
	if code, body, h := probe(base, "/v1/models"); code != 503 || h.Get("Retry-After") != "1" ||
		gjson.Get(body, "error.code").String() != "service_unavailable" {
		t.Errorf("/v1/models while starting: %d %v %s", code, h, body)
	}
	// A SIGHUP while starting neither ends the process (its default
	// action) nor is lost: the configuration is reloaded once started.
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	close(release)
	for i := 0; ; i++ {
		if code, _, _ := probe(base, "/startupz"); code == 200 {
			break
		}
		if i > 400 {
			t.Fatalf("the gateway did not start once the store answered: %s", logs.String())
		}
		time.Sleep(25 * time.Millisecond)
	}
	if code, body, _ := probe(base, "/readyz"); code != 200 || gjson.Get(body, "checks.store.status").String() != "ok" ||
		gjson.Get(body, "checks.server.starting").Bool() {
		t.Errorf("/readyz once started: %d %s", code, body)
	}
	for i := 0; ; i++ {
		if _, m, _ := probe(base, "/metrics"); strings.Contains(m, "\nllmgw_config_version 2\n") {
			break
		}
		if i > 400 {
			t.Fatalf("the SIGHUP received while starting did not reload: %s", logs.String())
		}
		time.Sleep(25 * time.Millisecond)
	}
	if code, body, _ := probe(base, "/v1/models"); code != 200 {
		t.Errorf("/v1/models once started: %d %s", code, body)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
	}
}

// syncLog collects a process's stderr.
type syncLog struct {
	mu sync.Mutex
	b  []byte
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b = append(l.b, p...)
	return len(p), nil
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}

// TestServeRunsActiveChecks: serve checks a provider with health_check
// from its start, reports it in /readyz and /metrics, and stops the
// checks on SIGTERM with a clean exit.
func TestServeRunsActiveChecks(t *testing.T) {
	checked := make(chan struct{}, 100)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/models" && r.Header.Get("Authorization") == "Bearer sk-fake-upstream" {
			select {
			case checked <- struct{}{}:
			default:
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"object":"list","data":[]}`))
			return
		}
		w.WriteHeader(http.StatusNotFound)
	}))
	defer up.Close()
	cfg := writeFile(t, fmt.Sprintf(`
providers:
  - {name: fake, type: openai, base_url: %q, api_key: sk-fake-upstream, health_check: {interval: 1s, timeout: 1s}}
models: [{name: m, targets: [{provider: fake, model: x}]}]
`, up.URL+"/v1"))
	cmd, addr, logs := startServe(t, "--config", cfg)
	select {
	case <-checked: // the first check, at start
	case <-time.After(30 * time.Second): // a bound on the external process, not a timing claim
		t.Fatalf("no check reached the provider: %s", logs.String())
	}
	base := "http://" + addr
	code, body, _ := probe(base, "/readyz")
	for i := 0; code != 200 || !gjson.Get(body, "checks.providers.fake.up").Bool(); i++ {
		// The check reached the fake a moment before its result was kept.
		if i > 200 {
			t.Fatalf("/readyz: %d %s", code, body)
		}
		time.Sleep(10 * time.Millisecond)
		code, body, _ = probe(base, "/readyz")
	}
	if _, metrics, _ := probe(base, "/metrics"); !strings.Contains(metrics, `llmgw_provider_up{provider="fake"} 1`) {
		t.Errorf("/metrics lacks llmgw_provider_up of fake")
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
	}
}
