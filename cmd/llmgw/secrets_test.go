package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

const secretsConfig = `
server:
  admin_token: "${ADMIN}"
providers:
  - {name: up, type: openai, base_url: %q, api_key: "file:%s"}
models: [{name: m, targets: [{provider: up, model: x}]}]
secrets: {refresh_interval: 1s}
`

// A provider key read from a file is rotated by changing the file: the
// next refresh reloads the configuration and the upstream sees the new
// key, while requests sent throughout all succeed. Each fetch is in the
// audit log, without the value. A reload whose configuration names a
// missing secret is refused, naming the field, and the running
// configuration serves on.
func TestServeRotatesAFileSecret(t *testing.T) {
	const admin = "admin-token-0123456789abcdef"
	var mu sync.Mutex
	seen := map[string]int{}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Header.Get("Authorization")]++
		mu.Unlock()
		if r.URL.Path != "/v1/chat/completions" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"c1","object":"chat.completion","created":1,"model":"x","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
	}))
	defer up.Close()
	dir := t.TempDir()
	key := filepath.Join(dir, "openai-key")
	if err := os.WriteFile(key, []byte("sk-rotated-one\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := writeFile(t, fmt.Sprintf(secretsConfig, up.URL+"/v1", key))
	cmd, addr, logs := startServe(t, "--config", cfgPath, "ADMIN="+admin)
	get := func(p string) string {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+addr+p, nil)
		req.Header.Set("Authorization", "Bearer "+admin)
		resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	// Requests run throughout the rotation; every one must succeed.
	var sent, failed atomic.Int64
	var lastFailure atomic.Value
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		client := &http.Client{Timeout: 20 * time.Second}
		for {
			select {
			case <-stop:
				return
			default:
			}
			resp, err := client.Post("http://"+addr+"/v1/chat/completions", "application/json",
				strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"Hello"}]}`))
			sent.Add(1)
			if err != nil {
				failed.Add(1)
				lastFailure.Store(err.Error())
				continue
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				failed.Add(1)
				lastFailure.Store(fmt.Sprintf("%d %s", resp.StatusCode, b))
			}
		}
	}()
	count := func(auth string) int {
		mu.Lock()
		defer mu.Unlock()
		return seen[auth]
	}
	// wait polls the external process: a bound, not a timing claim.
	wait := func(what string, cond func() bool) {
		t.Helper()
		for i := 0; !cond(); i++ {
			if i > 1200 {
				t.Fatalf("%s: timed out\n%s", what, logs.String())
			}
			time.Sleep(25 * time.Millisecond)
		}
	}
	wait("requests with the first key", func() bool { return count("Bearer sk-rotated-one") > 0 })
	if err := os.WriteFile(key, []byte("sk-rotated-two\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wait("requests with the rotated key", func() bool { return count("Bearer sk-rotated-two") > 2 })
	close(stop)
	<-done
	if failed.Load() != 0 {
		t.Fatalf("%d of %d requests failed during the rotation; last: %v", failed.Load(), sent.Load(), lastFailure.Load())
	}
	body := get("/admin/v1/config")
	if gjson.Get(body, "version").Int() != 2 || gjson.Get(body, "last_trigger").String() != "secret" {
		t.Fatalf("after the rotation: %s", body)
	}
	auditLog := get("/admin/v1/audit?action=secret.fetch")
	if !strings.Contains(auditLog, "secret.fetch") || !strings.Contains(auditLog, "file:"+key) || strings.Contains(auditLog, "sk-rotated") {
		t.Fatalf("audit log: %s", auditLog)
	}
	// A reload naming a missing secret is refused; the gateway serves on
	// with the rotated key.
	missing := filepath.Join(dir, "missing-key")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf(secretsConfig, up.URL+"/v1", missing)), 0o600); err != nil {
		t.Fatal(err)
	}
	wait("the refused reload", func() bool {
		return gjson.Get(get("/admin/v1/config"), "last_result").String() == "failure"
	})
	body = get("/admin/v1/config")
	if want := "providers[0].api_key: file:" + missing + ": cannot read the file: no such file or directory"; !strings.Contains(gjson.Get(body, "last_error").String(), want) ||
		gjson.Get(body, "version").Int() != 2 {
		t.Fatalf("after a reload naming a missing secret: %s", body)
	}
	before := count("Bearer sk-rotated-two")
	resp, err := http.Post("http://"+addr+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"Hello"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || count("Bearer sk-rotated-two") != before+1 {
		t.Fatalf("after the refused reload: status %d", resp.StatusCode)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, logs.String())
	}
	if strings.Contains(logs.String(), "sk-rotated") {
		t.Errorf("a key in the logs:\n%s", logs.String())
	}
}

// At start, a configuration naming a missing secret, or a Vault that
// refuses or is down, is an error naming the field: validate and serve
// exit non-zero.
func TestStartRefusesAnUnresolvableSecret(t *testing.T) {
	vault := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `{"errors":["permission denied"]}`)
	}))
	defer vault.Close()
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	missing := filepath.Join(t.TempDir(), "nope")
	for _, c := range []struct{ name, doc, want string }{
		{"missing file", `providers: [{name: up, type: openai, api_key: "file:` + missing + `"}]`,
			"providers[0].api_key: file:" + missing + ": cannot read the file: no such file or directory"},
		{"vault 403", `{providers: [{name: up, type: openai, api_key: "vault:kv/llm#key"}], secrets: {vault: {address: "` + vault.URL + `", auth: {method: token, token: hvs.bad-token}}}}`,
			"providers[0].api_key: vault:kv/llm#key: Vault read: permission denied (403)"},
		{"vault down", `{providers: [{name: up, type: openai, api_key: "vault:kv/llm#key"}], secrets: {vault: {address: "` + down.URL + `", timeout: 2s, auth: {method: token, token: hvs.bad-token}}}}`,
			"providers[0].api_key: vault:kv/llm#key: Vault read: Vault is unreachable"},
		{"bad azure-kv", `providers: [{name: up, type: openai, api_key: "azure-kv:my_vault/openai"}]`,
			"providers[0].api_key: azure-kv:my_vault/openai: want "},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, c.doc)
			var stderr bytes.Buffer
			if code := run([]string{"validate", "--config", path}, io.Discard, &stderr); code != 1 || !strings.Contains(stderr.String(), c.want) {
				t.Fatalf("validate: %d %s\nwant %s", code, stderr.String(), c.want)
			}
			if strings.Contains(stderr.String(), "hvs.bad-token") {
				t.Fatal("the token in the output")
			}
			stderr.Reset()
			if code := run([]string{"serve", "--config", path, "--listen", "127.0.0.1:0"}, io.Discard, &stderr); code != 1 || !strings.Contains(stderr.String(), c.want) {
				t.Fatalf("serve: %d %s", code, stderr.String())
			}
		})
	}
}
