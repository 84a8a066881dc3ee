package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/llmgw/llmgw/internal/admin"
	"github.com/llmgw/llmgw/internal/admin/admintest"
	"github.com/llmgw/llmgw/internal/audit"
	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/openai"
	"github.com/llmgw/llmgw/internal/reload"
	"github.com/llmgw/llmgw/internal/store"
	"github.com/llmgw/llmgw/internal/store/pgtest"
	"github.com/llmgw/llmgw/internal/store/postgres"
)

// The global tokens of the test API.
const (
	rootToken = "root-token-0123456789"
	viewToken = "view-token-0123456789"
)

// env is an admin API over a real store, served over HTTP the way the
// server serves it: errors in the OpenAI shape, an x-request-id on every
// answer.
type env struct {
	t     *testing.T
	st    store.Store
	audit *audit.Log
	b     admin.Backend
	url   string
	reqID int
}

func newEnv(t *testing.T, st store.Store) *env {
	t.Helper()
	if st == nil {
		st = admintest.SQLite(t)
	}
	b, log := admintest.Backend(t, st)
	b.Configs = testConfigs(t)
	return newEnvWith(t, st, b, log)
}

func newEnvWith(t *testing.T, st store.Store, b admin.Backend, log *audit.Log) *env {
	t.Helper()
	api := admin.New(admin.Options{
		Token:      rootToken,
		Tokens:     []admin.Token{{Name: "viewer", Token: viewToken, ReadOnly: true}},
		WriteError: writeError,
		Backend:    b,
	})
	e := &env{t: t, st: st, audit: log, b: b}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := r.Header.Get("X-Request-Id"); id != "" {
			w.Header().Set("X-Request-Id", id)
		}
		api.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	e.url = srv.URL
	return e
}

// drivers opens a store of each driver, for tests run against both.
var drivers = []struct {
	name string
	open func(t *testing.T) store.Store
}{
	{"sqlite", func(t *testing.T) store.Store { return admintest.SQLite(t) }},
	{"postgres", func(t *testing.T) store.Store {
		s, err := postgres.Open(context.Background(), pgtest.FreshSchema(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}},
}

// eachDriver runs test against a store of each driver.
func eachDriver(t *testing.T, test func(t *testing.T, st store.Store)) {
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) { test(t, d.open(t)) })
	}
}

// writeError writes err as the server does on admin routes.
func writeError(w http.ResponseWriter, _ *http.Request, err error) {
	e := llm.AsError(err)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status())
	_, _ = w.Write(openai.AppendError(nil, e))
}

// resp is an answer of the API.
type resp struct {
	status int
	body   string
	header http.Header
}

// json decodes the body into a generic value.
func (r resp) obj(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	return m
}

// str returns the string at key of the body's object.
func (r resp) str(t *testing.T, key string) string {
	t.Helper()
	s, _ := r.obj(t)[key].(string)
	return s
}

// errParam and errCode are the error's param and code.
func (r resp) errField(t *testing.T, field string) string {
	t.Helper()
	e, _ := r.obj(t)["error"].(map[string]any)
	s, _ := e[field].(string)
	return s
}

func (e *env) do(method, path, token, body string) resp {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	e.reqID++
	req.Header.Set("X-Request-Id", "req-"+itoa(e.reqID))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp{status: res.StatusCode, body: string(b), header: res.Header}
}

// must sends the request and fails the test unless it answers status.
func (e *env) must(status int, method, path, token, body string) resp {
	e.t.Helper()
	r := e.do(method, path, token, body)
	if r.status != status {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, status, r.body)
	}
	return r
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// tenant creates a tenant and returns its ID.
func (e *env) tenant(name string) string {
	e.t.Helper()
	return e.must(201, "POST", "/admin/v1/tenants", rootToken, `{"name":"`+name+`"}`).str(e.t, "id")
}

// key creates a key with body and returns its ID and secret.
func (e *env) key(token, body string) (id, secret string) {
	e.t.Helper()
	r := e.must(201, "POST", "/admin/v1/keys", token, body)
	return r.str(e.t, "id"), r.str(e.t, "key")
}

// records returns the whole audit log.
func (e *env) records() []store.AuditRecord {
	e.t.Helper()
	if err := e.audit.Flush(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	recs, err := e.st.Audit().Scan(context.Background(), 0, store.MaxLimit)
	if err != nil {
		e.t.Fatal(err)
	}
	return recs
}

// noSecrets fails the test when body holds a stored hash of any key in
// the store, in any of the encodings JSON would give it.
func (e *env) noSecrets(body string) {
	e.t.Helper()
	page, err := e.st.Keys().List(context.Background(), store.KeyFilter{}, store.ListOptions{Limit: store.MaxLimit})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, k := range page.Items {
		for _, h := range [][]byte{k.Hash, k.PrevHash} {
			if len(h) == 0 {
				continue
			}
			enc, _ := json.Marshal(h) // base64
			if bytes.Contains([]byte(body), bytes.Trim(enc, `"`)) || strings.Contains(body, hexOf(h)) {
				e.t.Fatalf("a key's hash is in the answer: %s", body)
			}
		}
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// testConfigs is a Reloader over a fixed configuration, applied to
// nothing.
func testConfigs(t *testing.T) *reload.Reloader {
	t.Helper()
	load := func() (*config.Config, error) {
		return config.Parse([]byte("providers: [{name: mock, type: mock}]\nmodels: [{name: m, targets: [{provider: mock, model: m}]}]\n"), nil)
	}
	cfg, err := load()
	if err != nil {
		t.Fatal(err)
	}
	return reload.New(cfg, reload.Options{Load: load, Apply: func(*config.Config) error { return nil }})
}
