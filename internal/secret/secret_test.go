package secret

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/audit"
	"github.com/llmgw/llmgw/internal/config"
)

// parse loads a configuration whose one provider's api_key is ref, with
// the vault section given, through a Load of r.
func parse(t *testing.T, r *Resolver, ref, secrets string) (*config.Config, *Load, error) {
	t.Helper()
	doc := "providers: [{name: oa, type: openai, api_key: \"" + ref + "\"}]\n" + secrets
	l := r.Load()
	cfg, err := config.ParseWith([]byte(doc), nil, l)
	return cfg, l, err
}

func vaultSection(addr, auth string) string {
	return "secrets:\n  vault:\n    address: " + addr + "\n    auth: " + auth + "\n"
}

func newResolver(t *testing.T) (*Resolver, *recorder) {
	rec := &recorder{}
	r := New(Options{Retries: -1})
	r.SetAudit(context.Background(), rec)
	return r, rec
}

// recorder is an Auditor that keeps the events.
type recorder struct {
	mu     sync.Mutex
	events []audit.Event
}

func (r *recorder) Record(_ context.Context, e audit.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	return nil
}

func (r *recorder) all() []audit.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]audit.Event(nil), r.events...)
}

func writeSecret(t *testing.T, path, v string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(v), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestFileReference(t *testing.T) {
	r, _ := newResolver(t)
	path := filepath.Join(t.TempDir(), "key")
	writeSecret(t, path, "sk-file-one\n")
	cfg, l, err := parse(t, r, "file:"+path, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Providers[0].APIKey.Value(); got != "sk-file-one" {
		t.Fatalf("api_key = %q", got)
	}
	r.Use(l)
	if r.Refresh(context.Background()) {
		t.Fatal("unchanged file reported as changed")
	}
	writeSecret(t, path, "sk-file-two\n")
	if !r.Refresh(context.Background()) {
		t.Fatal("changed file not reported")
	}
	if r.Refresh(context.Background()) {
		t.Fatal("a change reported twice")
	}
}

func TestFileReferenceErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	writeSecret(t, empty, "\n")
	for _, c := range []struct{ ref, want string }{
		{"file:" + filepath.Join(dir, "missing"), "providers[0].api_key: file:" + filepath.Join(dir, "missing") + ": cannot read the file: no such file or directory"},
		{"file:" + empty, "providers[0].api_key: file:" + empty + ": the file is empty"},
		{"file:relative/key", "providers[0].api_key: file:relative/key: a file reference needs an absolute path"},
	} {
		r, _ := newResolver(t)
		_, _, err := parse(t, r, c.ref, "")
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: err = %v, want %s", c.ref, err, c.want)
		}
	}
}

func TestVaultToken(t *testing.T) {
	f := newFakeVault(t)
	f.allow("hvs.static", true)
	f.put("kv/llm/openai", map[string]any{"api_key": "sk-vault-one", "other": 3})
	r, rec := newResolver(t)
	sec := vaultSection(f.URL, "{method: token, token: hvs.static}")
	cfg, l, err := parse(t, r, "vault:kv/llm/openai#api_key", sec)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Providers[0].APIKey.Value(); got != "sk-vault-one" {
		t.Fatalf("api_key = %q", got)
	}
	r.Use(l)
	f.put("kv/llm/openai", map[string]any{"api_key": "sk-vault-two"})
	if !r.Refresh(context.Background()) {
		t.Fatal("rotation in Vault not seen")
	}
	// Errors name the field and the reference.
	for _, c := range []struct{ ref, want string }{
		{"vault:kv/llm/missing#api_key", "providers[0].api_key: vault:kv/llm/missing#api_key: Vault read: not found (404)"},
		{"vault:kv/llm/openai#nope", `providers[0].api_key: vault:kv/llm/openai#nope: Vault: the secret has no key "nope"`},
		{"vault:kv/llm/openai", `providers[0].api_key: vault:kv/llm/openai: want "vault:<mount>/<path>#<key>": the key is missing`},
	} {
		_, _, err := parse(t, r, c.ref, sec)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: err = %v, want %s", c.ref, err, c.want)
		}
	}
	f.put("kv/llm/num", map[string]any{"k": 3})
	if _, _, err := parse(t, r, "vault:kv/llm/num#k", sec); err == nil || !strings.Contains(err.Error(), `the key "k" is not a string`) {
		t.Errorf("number: %v", err)
	}
	// The audit log has every fetch, never a value.
	events := rec.all()
	if len(events) < 5 {
		t.Fatalf("audit: %d events", len(events))
	}
	b, _ := json.Marshal(events)
	if strings.Contains(string(b), "sk-vault") || strings.Contains(string(b), "hvs.static") {
		t.Fatalf("a value in the audit log: %s", b)
	}
	e := events[0]
	if e.Action != "secret.fetch" || e.Actor != "system" || e.Target != "vault:kv/llm/openai#api_key" ||
		e.After.(map[string]string)["result"] != "success" {
		t.Fatalf("first event: %+v", e)
	}
	last := events[len(events)-1].After.(map[string]string)
	if last["result"] != "failure" || !strings.Contains(last["error"], "not a string") {
		t.Fatalf("last event: %+v", last)
	}
}

func TestVaultForbiddenAndDown(t *testing.T) {
	f := newFakeVault(t)
	f.put("kv/llm/openai", map[string]any{"api_key": "sk-vault-one"})
	r, _ := newResolver(t)
	_, _, err := parse(t, r, "vault:kv/llm/openai#api_key", vaultSection(f.URL, "{method: token, token: hvs.revoked}"))
	if want := "providers[0].api_key: vault:kv/llm/openai#api_key: Vault read: permission denied (403)"; err == nil || err.Error() != want {
		t.Fatalf("403: %v, want %s", err, want)
	}
	if strings.Contains(err.Error(), "hvs.revoked") {
		t.Fatal("the token in the error")
	}
	f.Close()
	_, _, err = parse(t, r, "vault:kv/llm/openai#api_key", vaultSection(f.URL, "{method: token, token: hvs.revoked}"))
	if err == nil || !strings.HasPrefix(err.Error(), "providers[0].api_key: vault:kv/llm/openai#api_key: Vault read: Vault is unreachable: ") {
		t.Fatalf("down: %v", err)
	}
}

func TestVaultAppRole(t *testing.T) {
	f := newFakeVault(t)
	f.roleID, f.secretID = "role-1", "secret-id-1"
	f.put("kv/llm/openai", map[string]any{"api_key": "sk-approle"})
	dir := t.TempDir()
	sid := filepath.Join(dir, "secret_id")
	writeSecret(t, sid, "secret-id-1\n")
	r, _ := newResolver(t)
	sec := vaultSection(f.URL, "{method: approle, role_id: role-1, secret_id: \"file:"+sid+"\"}")
	cfg, l, err := parse(t, r, "vault:kv/llm/openai#api_key", sec)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Providers[0].APIKey.Value() != "sk-approle" || f.logins != 1 {
		t.Fatalf("api_key %q after %d logins", cfg.Providers[0].APIKey.Value(), f.logins)
	}
	// The token is reused while its lease runs.
	r.Use(l)
	r.Refresh(context.Background())
	if f.logins != 1 {
		t.Fatalf("%d logins", f.logins)
	}
	// A revoked token: one login again, and the read succeeds.
	f.mu.Lock()
	f.tokens = map[string]bool{}
	f.mu.Unlock()
	f.put("kv/llm/openai", map[string]any{"api_key": "sk-approle-2"})
	if !r.Refresh(context.Background()) || f.logins != 2 {
		t.Fatalf("after revocation: %d logins", f.logins)
	}
	// A wrong secret ID: the login's error, naming the field.
	writeSecret(t, sid, "wrong\n")
	_, _, err = parse(t, r, "vault:kv/llm/openai#api_key", sec)
	if want := "providers[0].api_key: vault:kv/llm/openai#api_key: Vault approle login: bad request: invalid role or secret ID (400)"; err == nil || err.Error() != want {
		t.Fatalf("wrong secret id: %v, want %s", err, want)
	}
}

func TestVaultAppRoleLease(t *testing.T) {
	f := newFakeVault(t)
	f.roleID, f.secretID, f.lease = "role-1", "s", 100
	f.put("kv/a/b", map[string]any{"k": "v"})
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := New(Options{Retries: -1, Now: func() time.Time { return now }})
	sec := vaultSection(f.URL, "{method: approle, role_id: role-1, secret_id: s}")
	_, l, err := parse(t, r, "vault:kv/a/b#k", sec)
	if err != nil {
		t.Fatal(err)
	}
	r.Use(l)
	now = now.Add(79 * time.Second)
	r.Refresh(context.Background())
	if f.logins != 1 {
		t.Fatalf("logged in again before four-fifths of the lease: %d", f.logins)
	}
	now = now.Add(2 * time.Second)
	r.Refresh(context.Background())
	if f.logins != 2 {
		t.Fatalf("not logged in again after four-fifths of the lease: %d", f.logins)
	}
}

func TestVaultKubernetes(t *testing.T) {
	f := newFakeVault(t)
	f.k8sRole, f.k8sJWT = "llmgw", "eyJhbGciOiJSUzI1NiJ9.sa.sig"
	f.put("secret/llm", map[string]any{"key": "sk-k8s"})
	jwt := filepath.Join(t.TempDir(), "token")
	writeSecret(t, jwt, f.k8sJWT)
	r, _ := newResolver(t)
	cfg, _, err := parse(t, r, "vault:secret/llm#key", vaultSection(f.URL, "{method: kubernetes, role: llmgw, jwt_file: "+jwt+"}"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Providers[0].APIKey.Value() != "sk-k8s" {
		t.Fatalf("api_key %q", cfg.Providers[0].APIKey.Value())
	}
	_, _, err = parse(t, New(Options{Retries: -1}), "vault:secret/llm#key", vaultSection(f.URL, "{method: kubernetes, role: other, jwt_file: "+jwt+"}"))
	if want := "providers[0].api_key: vault:secret/llm#key: Vault kubernetes login: permission denied (403)"; err == nil || err.Error() != want {
		t.Fatalf("wrong role: %v, want %s", err, want)
	}
}

// Fetches made before the audit log opens are recorded when it does.
func TestAuditPendingUntilSetAudit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key")
	writeSecret(t, path, "sk-pending")
	r := New(Options{})
	if _, _, err := parse(t, r, "file:"+path, ""); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	r.SetAudit(context.Background(), rec)
	if ev := rec.all(); len(ev) != 1 || ev[0].Target != "file:"+path {
		t.Fatalf("events: %+v", ev)
	}
}

// Run calls changed after a round that saw a change, and stops with ctx.
func TestRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key")
	writeSecret(t, path, "one")
	r, _ := newResolver(t)
	_, l, err := parse(t, r, "file:"+path, "")
	if err != nil {
		t.Fatal(err)
	}
	r.Use(l)
	tick := make(chan time.Time)
	changed := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx, tick, func() { changed <- struct{}{} }); close(done) }()
	tick <- time.Time{}
	writeSecret(t, path, "two")
	tick <- time.Time{}
	tick <- time.Time{} // the round that saw "two" has finished
	select {
	case <-changed:
	default:
		t.Fatal("changed not called")
	}
	select {
	case <-changed:
		t.Fatal("changed called twice")
	default:
	}
	cancel()
	<-done
}
