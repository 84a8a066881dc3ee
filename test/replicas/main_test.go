package replicas

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/auth"
	"github.com/llmgw/llmgw/internal/store"
	"github.com/llmgw/llmgw/internal/store/pgtest"
	"github.com/llmgw/llmgw/internal/store/postgres"
	"github.com/llmgw/llmgw/internal/testbin"
)

// binary is the llmgw binary built once for the package.
var binary string

func TestMain(m *testing.M) { testbin.Main(m, &binary) }

// adminToken is every replica's global admin token.
const adminToken = "replicas-test-admin-token-0123456789"

// secret is the server secret every replica of a test shares.
const secret = "replicas-test-secret-0123456789abcdef"

var hasher = auth.NewHasher(auth.Derive([]byte(secret), auth.PurposeKeyHash))

// database is one test's schema, opened directly by the test as another
// writer would.
type database struct {
	t      *testing.T
	dsn    string // the schema's DSN, direct to the server
	st     *postgres.Store
	tenant store.Tenant
}

func newDatabase(t *testing.T) *database {
	t.Helper()
	base := pgtest.BaseDSN(t)
	if !strings.Contains(base, "://") {
		t.Fatal("LLMGW_TEST_POSTGRES_DSN must be a postgres:// URL for these tests")
	}
	dsn := pgtest.InSchema(base, pgtest.NewSchema(t, base))
	st, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tn, err := st.Tenants().Create(context.Background(), store.Tenant{Name: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	return &database{t: t, dsn: dsn, st: st, tenant: tn}
}

// key creates a key in the store and returns its secret and ID.
func (db *database) key(name string) (string, string) {
	db.t.Helper()
	k, prefix := auth.NewKeySecret()
	h := hasher.Sum(k)
	out, err := db.st.Keys().Create(context.Background(), store.Key{TenantID: db.tenant.ID, Name: name, Hash: h[:], Prefix: prefix})
	if err != nil {
		db.t.Fatal(err)
	}
	return k, out.ID
}

func (db *database) revoke(id string) {
	db.t.Helper()
	if _, err := db.st.Keys().Revoke(context.Background(), id); err != nil {
		db.t.Fatal(err)
	}
}

// via returns the DSN with its host and port replaced by addr.
func via(t *testing.T, dsn, addr string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = addr
	return u.String()
}

// config is a gateway on dsn, with the mock model; notify false makes it
// poll only.
func config(t *testing.T, dsn string, notify bool) string {
	return fmt.Sprintf(`
server:
  secret: %q
  admin_token: %q
  data_dir: %q
storage:
  driver: postgres
  dsn: %q
  notify: %t
providers: [{name: mock, type: mock}]
models: [{name: mock, targets: [{provider: mock, model: mock}]}]
`, secret, adminToken, t.TempDir(), dsn, notify)
}

// gateway is a running llmgw process.
type gateway struct {
	addr string
	logs *testbin.Log
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// start runs `llmgw serve` on yaml and waits until it is ready.
func start(t *testing.T, yaml string) *gateway {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "llmgw.yaml")
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	g := &gateway{addr: freePort(t), logs: &testbin.Log{}}
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
		if status, _ := g.get("/readyz", ""); status == 200 {
			return g
		}
		if time.Now().After(deadline) {
			t.Fatalf("gateway not ready:\n%s", g.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var client = &http.Client{Timeout: 10 * time.Second}

// get sends GET path with key (none when empty) and returns the status
// and body.
func (g *gateway) get(path, key string) (int, string) {
	return g.do("GET", path, "", key)
}

// createKey creates a key of the database's tenant through g's admin API
// and returns its secret and ID.
func (g *gateway) createKey(t *testing.T, name string) (string, string) {
	t.Helper()
	status, body := g.do("POST", "/admin/v1/keys", `{"tenant":"acme","name":"`+name+`"}`, adminToken)
	if status != 201 {
		t.Fatalf("create key through the admin API: %d %s", status, body)
	}
	var out struct{ ID, Key string }
	if err := json.Unmarshal([]byte(body), &out); err != nil || out.Key == "" || out.ID == "" {
		t.Fatalf("create key answer %s: %v", body, err)
	}
	return out.Key, out.ID
}

// revokeKey revokes a key through g's admin API.
func (g *gateway) revokeKey(t *testing.T, id string) {
	t.Helper()
	if status, body := g.do("POST", "/admin/v1/keys/"+id+"/revoke", "", adminToken); status != 200 {
		t.Fatalf("revoke key through the admin API: %d %s", status, body)
	}
}

func (g *gateway) do(method, path, body, key string) (int, string) {
	req, err := http.NewRequest(method, "http://"+g.addr+path, strings.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b)
}

// until asks g for /v1/models with key until it answers want, and returns
// how long that took; it fails the test after within.
func (g *gateway) until(t *testing.T, key string, want int, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		status, body := g.get("/v1/models", key)
		if status == want {
			return time.Since(start)
		}
		if status != 200 && status != 401 {
			t.Fatalf("status %d while waiting for %d: %s", status, want, body)
		}
		if time.Since(start) > within {
			t.Fatalf("still %d after %v, want %d\n%s", status, within, want, g.logs.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// logged reports whether the log holds s within two seconds (log lines
// are buffered for 100ms).
func (g *gateway) logged(s string) bool {
	for range 100 {
		if strings.Contains(g.logs.String(), s) {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// proxy is a TCP proxy to PostgreSQL that the test can cut: every
// connection closed, new ones closed as soon as accepted.
type proxy struct {
	ln     net.Listener
	target string
	cut    atomic.Bool
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	done := make(chan struct{})
	go p.serve(done)
	t.Cleanup(func() {
		ln.Close()
		<-done
		p.Cut()
	})
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) serve(done chan struct{}) {
	defer close(done)
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.cut.Load() {
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.track(c, up)
		go p.pipe(c, up)
		go p.pipe(up, c)
	}
}

func (p *proxy) track(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
}

func (p *proxy) pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
}

// Cut closes every connection and refuses new ones.
func (p *proxy) Cut() {
	p.cut.Store(true)
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// Restore lets connections through again.
func (p *proxy) Restore() { p.cut.Store(false) }
