package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/llmgw/llmgw/internal/auth"
	"github.com/llmgw/llmgw/internal/store"
	"github.com/llmgw/llmgw/internal/store/sqlite"
)

// stop sends SIGTERM and waits for a clean exit.
func stop(t *testing.T, cmd *exec.Cmd, logs *bytes.Buffer) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, logs.String())
	}
}

func get(t *testing.T, url, key string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// On built-in defaults, serve keeps its state in the data directory: a
// private directory, a SQLite file and a generated secret (mode 0600,
// logged by path only), the same secret at the next start, so that a
// key stored under it works; its last use is written at shutdown.
func TestServeKeepsStateInTheDataDirectory(t *testing.T) {
	data := filepath.Join(t.TempDir(), "state")
	cmd, _, logs := startServe(t, "LLMGW_DATA_DIR="+data)
	stop(t, cmd, logs)
	st, err := os.Stat(data)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("data directory: %v, mode %v, want 0700", err, st.Mode().Perm())
	}
	secretPath := filepath.Join(data, auth.SecretFile)
	sf, err := os.Stat(secretPath)
	if err != nil || sf.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v, want mode 0600", err)
	}
	secret, err := os.ReadFile(secretPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), `"msg":"generated a server secret","path":"`+secretPath+`"`) {
		t.Errorf("the generated secret's path is not logged:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), strings.TrimSpace(string(secret))) {
		t.Fatal("the log holds the server secret")
	}

	// A key stored under the secret, as the admin API or the CLI would.
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(data, "llmgw.db"))
	if err != nil {
		t.Fatal(err)
	}
	tn, err := db.Tenants().Create(ctx, store.Tenant{Name: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	key, prefix := auth.NewKeySecret()
	h := auth.NewHasher(auth.Derive(bytes.TrimSpace(secret), auth.PurposeKeyHash)).Sum(key)
	k, err := db.Keys().Create(ctx, store.Key{TenantID: tn.ID, Name: "svc", Hash: h[:], Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	cmd, addr, logs := startServe(t, "LLMGW_DATA_DIR="+data)
	if strings.Contains(logs.String(), "generated a server secret") {
		t.Error("a second secret was generated")
	}
	if code := get(t, "http://"+addr+"/v1/models", ""); code != 401 {
		t.Errorf("no key with a key in the store: %d, want 401", code)
	}
	if code := get(t, "http://"+addr+"/v1/models", key); code != 200 {
		t.Errorf("the stored key: %d, want 200", code)
	}
	stop(t, cmd, logs)
	if db, err = sqlite.Open(ctx, filepath.Join(data, "llmgw.db")); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.Keys().Get(ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.LastUsedAt.IsZero() {
		t.Error("the key's last use was not written at shutdown")
	}
}

// With PostgreSQL, a generated secret would differ per replica: serve
// refuses to start without a configured one.
func TestServePostgresNeedsSecret(t *testing.T) {
	t.Setenv("LLMGW_SECRET", "")
	cfg := writeFile(t, `
server: {data_dir: "`+t.TempDir()+`"}
storage: {driver: postgres, dsn: "postgres://llmgw:hunter2-canary@127.0.0.1:1/llmgw"}
providers: [{name: mock, type: mock}]
models: [{name: mock, targets: [{provider: mock, model: mock}]}]
`)
	var stderr bytes.Buffer
	if code := run([]string{"serve", "--config", cfg, "--listen", "127.0.0.1:0"}, io.Discard, &stderr); code != 1 {
		t.Fatalf("exit %d, want 1: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "storage.driver postgres needs server.secret (or LLMGW_SECRET)") {
		t.Errorf("no clear message: %s", stderr.String())
	}
	if strings.Contains(stderr.String(), "hunter2-canary") {
		t.Errorf("the DSN's password is in the output: %s", stderr.String())
	}
}
