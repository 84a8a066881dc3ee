package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/llmgw/llmgw/internal/audit"
	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/store"
)

// cliRun runs the command line with the config at path and returns its
// exit code, stdout and stderr.
func cliRun(t *testing.T, path string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(append(args, "--config", path), &out, &errb)
	return code, out.String(), errb.String()
}

var keyShape = regexp.MustCompile(`sk-llmgw-[A-Za-z0-9_-]{43}`)

func TestCLITenantsAndKeys(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, "server:\n  data_dir: "+dir+"\n")
	code, out, errOut := cliRun(t, path, "tenants", "create", "acme", "--label", "env=prod")
	if code != 0 || !strings.Contains(out, "created tenant acme") {
		t.Fatalf("tenants create: %d %q %q", code, out, errOut)
	}
	if !strings.Contains(errOut, "generated a server secret") {
		t.Errorf("first use does not say a secret was generated: %q", errOut)
	}
	st, err := os.Stat(filepath.Join(dir, "secret"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v, %v", st, err)
	}
	if code, _, errOut := cliRun(t, path, "tenants", "create", "acme"); code != 1 || !strings.Contains(errOut, "conflict") {
		t.Errorf("duplicate tenant: %d %q", code, errOut)
	}
	code, out, errOut = cliRun(t, path, "keys", "create", "--tenant", "acme", "--name", "ci", "--models", "mock,gpt-4o", "--expires", "30d")
	if code != 0 {
		t.Fatalf("keys create: %d %q %q", code, out, errOut)
	}
	key := keyShape.FindString(out)
	if key == "" || strings.Contains(errOut, "generated a server secret") {
		t.Fatalf("keys create printed %q (stderr %q)", out, errOut)
	}
	// The key is stored by its keyed hash under the secret kept in the
	// data directory: a later process finds it.
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	state, err := gateway.OpenState(context.Background(), cfg, func(string) string { return "" }, audit.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer state.Close()
	sum := state.Hasher.Sum(key)
	k, err := state.Store.Keys().GetByHash(t.Context(), sum[:])
	if err != nil || k.Name != "ci" || len(k.Models) != 2 || k.ExpiresAt.IsZero() || k.Prefix != key[:13] {
		t.Fatalf("stored key = %+v, %v", k, err)
	}
	code, out, _ = cliRun(t, path, "keys", "list", "--tenant", "acme", "--json")
	if code != 0 || strings.Contains(out, key[13:]) || strings.Contains(out, `"hash"`) {
		t.Fatalf("keys list: %d %s", code, out)
	}
	var listed []map[string]any
	if err := json.Unmarshal([]byte(out), &listed); err != nil || len(listed) != 1 || listed[0]["id"] != k.ID {
		t.Fatalf("keys list --json = %s (%v)", out, err)
	}
	if !k.Limits.IsZero() {
		t.Errorf("a key created without limit flags has limits %+v", k.Limits)
	}
	// --rpm, --tpm and --concurrent set the key's limits; one left out
	// does not limit.
	code, out, errOut = cliRun(t, path, "keys", "create", "--tenant", "acme", "--name", "capped", "--rpm", "60", "--concurrent", "3", "--json")
	if code != 0 {
		t.Fatalf("keys create with limits: %d %q %q", code, out, errOut)
	}
	var capped struct {
		ID     string         `json:"id"`
		Limits map[string]any `json:"limits"`
	}
	if err := json.Unmarshal([]byte(out), &capped); err != nil || capped.Limits["rpm"] != 60.0 || capped.Limits["concurrent"] != 3.0 || len(capped.Limits) != 2 {
		t.Fatalf("keys create with limits printed %s (%v)", out, err)
	}
	if ck, err := state.Store.Keys().Get(t.Context(), capped.ID); err != nil || ck.Limits != (store.Limits{RPM: 60, Concurrent: 3}) {
		t.Fatalf("stored limits %+v, %v", ck.Limits, err)
	}
	if code, out, _ := cliRun(t, path, "keys", "revoke", capped.ID); code != 0 || !strings.Contains(out, "revoked key capped") {
		t.Fatalf("keys revoke capped: %d %q", code, out)
	}
	if code, out, _ := cliRun(t, path, "keys", "revoke", k.ID); code != 0 || !strings.Contains(out, "revoked key ci") {
		t.Fatalf("keys revoke: %d %q", code, out)
	}
	if k, err := state.Store.Keys().Get(t.Context(), k.ID); err != nil || k.RevokedAt.IsZero() {
		t.Fatalf("revoked key = %+v, %v", k, err)
	}
	if code, out, _ := cliRun(t, path, "keys", "list"); code != 0 || !strings.Contains(out, "revoked") || strings.Contains(out, key[13:]) {
		t.Fatalf("keys list: %d %q", code, out)
	}
	if code, out, _ := cliRun(t, path, "tenants", "list"); code != 0 || !strings.Contains(out, "acme") {
		t.Fatalf("tenants list: %d %q", code, out)
	}
	// Every change is in the audit log, chained, with no secret.
	page, err := state.Audit.List(t.Context(), store.AuditFilter{}, store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, r := range page.Items {
		actions = append(actions, r.Action)
		if !strings.HasPrefix(r.Actor, "cli") || strings.Contains(string(r.After), key[13:]) {
			t.Errorf("audit record %+v", r)
		}
	}
	if strings.Join(actions, ",") != "tenant.create,key.create,key.create,key.revoke,key.revoke" {
		t.Errorf("audit actions = %v", actions)
	}
	if res, err := state.Audit.Verify(t.Context()); err != nil || !res.OK || res.Records != 5 {
		t.Errorf("verify = %+v, %v", res, err)
	}
}

func TestCLIBadInput(t *testing.T) {
	// Run from an empty directory: no bad command may create anything in
	// the working directory (the default data directory is there).
	wd, _ := os.Getwd()
	cwd := t.TempDir()
	if err := os.Chdir(cwd); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chdir(wd) })
	path := writeFile(t, "server:\n  data_dir: "+t.TempDir()+"\n")
	defer func() {
		if entries, _ := os.ReadDir(cwd); len(entries) > 0 {
			t.Errorf("a bad command created %s in the working directory", entries[0].Name())
		}
	}()
	for _, args := range [][]string{
		{"keys", "create", "--name", "x"},
		{"keys", "create", "--tenant", "acme", "--name", "x", "--role", "root"},
		{"keys", "create", "--tenant", "acme", "--name", "x", "--expires", "yesterday"},
		{"keys", "create", "--tenant", "acme", "--name", "x", "--rpm", "-1"},
		{"keys", "create", "--tenant", "acme", "--name", "x", "--tpm", "many"},
		{"keys", "create", "--tenant", "acme", "--name", "x", "--concurrent", "1.5"},
		{"keys", "revoke"},
		{"tenants", "create"},
		{"tenants", "frobnicate"},
		{"keys"},
		{"tenants", "--json"},
	} {
		if code, _, _ := cliRun(t, path, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	for _, args := range [][]string{
		{"keys", "create", "--tenant", "nobody", "--name", "x"},
		{"keys", "revoke", "key_nothing"},
		{"tenants", "create", "bad\x00name"},
	} {
		if code, _, errOut := cliRun(t, path, args...); code != 1 || errOut == "" {
			t.Errorf("%v: exit %d (%q), want 1 with a message", args, code, errOut)
		}
	}
}

// With PostgreSQL, a generated secret would differ per replica: refused.
func TestCLIPostgresNeedsSecret(t *testing.T) {
	path := writeFile(t, "server:\n  data_dir: "+t.TempDir()+"\nstorage:\n  driver: postgres\n  dsn: postgres://nobody@127.0.0.1:1/x\n")
	t.Setenv("LLMGW_SECRET", "")
	code, _, errOut := cliRun(t, path, "tenants", "list")
	if code != 1 || !strings.Contains(errOut, "server.secret") || strings.Contains(errOut, "nobody") {
		t.Fatalf("exit %d, %q", code, errOut)
	}
}
