package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// child is a process the harness started.
type child struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	// withKids adds the process's children (nginx's workers) to what is
	// measured.
	withKids bool
}

// startChild starts argv with its output in dir/name.log.
func startChild(dir, name string, argv ...string) (*child, error) {
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(c.done)
	}()
	return c, nil
}

// pids returns the processes whose CPU and memory count as this child's.
func (c *child) pids() []int {
	if c == nil {
		return nil
	}
	p := []int{c.cmd.Process.Pid}
	if c.withKids {
		p = append(p, childrenOf(p[0])...)
	}
	return p
}

// stop sends SIGTERM, and SIGKILL when the process has not exited after a
// grace period.
func (c *child) stop() {
	if c == nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(15 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitHTTP polls url until it answers at all, the child exits, or the
// timeout passes.
func waitHTTP(ctx context.Context, c *child, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return nil
		}
		select {
		case <-c.done:
			return fmt.Errorf("%s exited before it was ready (see its log)", c.name)
		case <-ctx.Done():
			return fmt.Errorf("%s not ready: %w", c.name, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// gatewayConfig is the configuration the gateway runs with: every feature
// the gateway has switched on. Virtual keys (with a model allow-list) and the
// access log are on; the static key's limits and the bench model's are far
// above what the harness sends, so that they are checked on every request
// (the prompt counted for tokens per minute) without ever refusing one;
// the static key's budget, as large, is reserved and settled on every
// request, with the usage ledger on.
// With redisURL (Redis answered when the run began) the limits are counted
// in Redis, else in the gateway's memory. With tracing, every request is
// traced (sample ratio 1) and its spans exported over OTLP/HTTP to the
// upstream, which drops them. Sections for further features belong here as
// they land.
func gatewayConfig(listen, upstream, dataDir, redisURL string, tracing bool) string {
	redis := ""
	if redisURL != "" {
		redis = fmt.Sprintf("redis:\n  url: %q\n", redisURL)
	}
	if tracing {
		redis += fmt.Sprintf("tracing:\n  endpoint: %q\n  protocol: http/protobuf\n  sample_ratio: 1\n", upstream)
	}
	return fmt.Sprintf(`server:
  listen: %q
  access_log: true
  log_level: info
  data_dir: %q
  secret: %q
providers:
  - name: upstream
    type: openai
    base_url: "%s/v1"
    api_key: "sk-upstream-bench-0123456789"
models:
  - name: %s
    targets: [{provider: upstream, model: gpt-4o-mini}]
    limits: {rpm: 1000000000, tpm: 1000000000000, concurrent: 1000000}
  - name: other-model
    targets: [{provider: upstream, model: gpt-4o}]
keys:
  - name: bench-static
    key: %q
    tenant: bench
    models: [%s]
    limits: {rpm: 1000000000, tpm: 1000000000000, concurrent: 1000000}
    budget: {usd: 9000000, period: total}
  - name: other
    key: "sk-static-other-0123456789abcdef"
    tenant: other
pricing:
  - {provider: upstream, model: gpt-4o-mini, input_per_mtok: 0.15, output_per_mtok: 0.6, cached_input_per_mtok: 0.075}
  - {provider: upstream, model: gpt-4o, input_per_mtok: 2.5, output_per_mtok: 10, cached_input_per_mtok: 1.25}
`, listen, dataDir, benchSecret, upstream, benchModel, benchStaticKey, benchModel) + redis
}

// benchRedisURL returns LLMGW_BENCH_REDIS_URL (default
// redis://127.0.0.1:6379/0) when a Redis answers there, else "".
func benchRedisURL() string {
	u := os.Getenv("LLMGW_BENCH_REDIS_URL")
	if u == "" {
		u = "redis://127.0.0.1:6379/0"
	}
	o, err := redis.ParseURL(u)
	if err != nil {
		return ""
	}
	c := redis.NewClient(o)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if c.Ping(ctx).Err() != nil {
		return ""
	}
	return u
}

// Names the load generator sends, and the gateway's server secret.
const (
	benchModel     = "bench-model"
	benchStaticKey = "sk-static-bench-0123456789abcdef"
	benchSecret    = "bench-server-secret-0123456789abcdef"
)

// nginxConfig is a minimal nginx in front of the upstream: one worker,
// pooled keep-alive upstream connections, no buffering (so streams pass
// event by event), no access log.
func nginxConfig(dir string, port int, upstream string) string {
	host := strings.TrimPrefix(upstream, "http://")
	return fmt.Sprintf(`worker_processes 1;
daemon off;
user root;
pid %[1]s/nginx.pid;
error_log %[1]s/nginx-error.log warn;
worker_rlimit_nofile 20000;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path %[1]s/tmp-body;
  proxy_temp_path %[1]s/tmp-proxy;
  fastcgi_temp_path %[1]s/tmp-fastcgi;
  uwsgi_temp_path %[1]s/tmp-uwsgi;
  scgi_temp_path %[1]s/tmp-scgi;
  keepalive_requests 100000000;
  upstream up {
    server %[3]s;
    keepalive 1024;
    keepalive_requests 100000000;
  }
  server {
    listen 127.0.0.1:%[2]d;
    location / {
      proxy_pass http://up;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
`, dir, port, host)
}

// buildGateway builds ./cmd/llmgw into dir.
func buildGateway(ctx context.Context, dir string) (string, error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "llmgw")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/llmgw")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/llmgw: %w\n%s", err, out)
	}
	return bin, nil
}

func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run the harness inside the llmgw module")
	}
	return filepath.Dir(mod), nil
}
