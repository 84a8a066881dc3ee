package admin_test

import (
	"context"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/admin"
	"github.com/llmgw/llmgw/internal/store/pgtest"
	"github.com/llmgw/llmgw/internal/store/postgres"
)

// cutProxy forwards TCP to an address until it is cut: then every open
// connection is closed and new ones are closed as soon as accepted, as a
// database that went away.
type cutProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  map[net.Conn]struct{}
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	t.Cleanup(func() { ln.Close(); p.set(true) })
	go p.accept()
	return p
}

func (p *cutProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		go func() { io.Copy(up, c); up.Close(); c.Close() }()
		go func() { io.Copy(c, up); up.Close(); c.Close() }()
	}
}

// set cuts (true) or restores (false) the link.
func (p *cutProxy) set(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for c := range p.conns {
			c.Close()
		}
		clear(p.conns)
	}
}

// routeSample is a request for one admin route: the path with its
// wildcards filled and a body the route accepts.
func routeSample(rt admin.Route, tenant, team, key string) (path, body string) {
	path = strings.NewReplacer("{tenant}", tenant, "{team}", team, "{key}", key).Replace(rt.Pattern)
	switch rt.Method + " " + rt.Pattern {
	case "POST /admin/v1/tenants":
		body = `{"name":"sample-tenant"}`
	case "PATCH /admin/v1/tenants/{tenant}":
		body = `{"labels":{"patched":"yes"}}`
	case "POST /admin/v1/tenants/{tenant}/teams":
		body = `{"name":"sample-team"}`
	case "PATCH /admin/v1/tenants/{tenant}/teams/{team}":
		body = `{"name":"renamed-team"}`
	case "POST /admin/v1/keys":
		body = `{"tenant":"` + tenant + `","name":"sample-key","models":["gpt-4o"],"expires_at":"2080-01-01T00:00:00Z"}`
	case "PATCH /admin/v1/keys/{key}":
		body = `{"labels":{"patched":"yes"}}`
	case "POST /admin/v1/keys/{key}/rotate":
		body = `{"grace":"1m"}`
	case "POST /admin/v1/targets/reset":
		body = `{"all":true}`
	}
	return path, body
}

func TestStoreDownIs503WithoutTheDriversText(t *testing.T) {
	dsn := pgtest.FreshSchema(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newCutProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	q := u.Query()
	q.Set("connect_timeout", "5")
	u.RawQuery = q.Encode()
	st, err := postgres.Open(context.Background(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := newEnv(t, st)
	tenant := e.tenant("acme")
	team := e.must(201, "POST", "/admin/v1/tenants/acme/teams", rootToken, `{"name":"t"}`).str(t, "id")
	key, _ := e.key(rootToken, `{"tenant":"acme","name":"k"}`)
	_, tenantAdmin := e.key(rootToken, `{"tenant":"acme","name":"ta","role":"tenant_admin"}`)

	proxy.set(true)
	for _, rt := range admin.Routes() {
		if strings.HasPrefix(rt.Pattern, admin.Prefix+"/targets") || rt.Pattern == admin.Prefix+"/config" {
			continue // routing state and the running configuration, not in the store
		}
		t.Run(rt.Method+" "+rt.Pattern, func(t *testing.T) {
			path, body := routeSample(rt, tenant, team, key)
			r := e.do(rt.Method, path, rootToken, body)
			if r.status != 503 || r.errField(t, "code") != "service_unavailable" || !strings.Contains(r.errField(t, "message"), "the store is unavailable") {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			for _, leak := range []string{"pgx", "postgres", "dial", "connect", "EOF", "127.0.0.1", "sqlstate", "failed to"} {
				if strings.Contains(strings.ToLower(r.body), strings.ToLower(leak)) {
					t.Errorf("the answer shows the driver's text (%q): %s", leak, r.body)
				}
			}
		})
	}
	// An admin key cannot be checked either: 503, not 401.
	if r := e.do("GET", "/admin/v1/keys", tenantAdmin, ""); r.status != 503 {
		t.Errorf("tenant admin key with the store down: %d %s", r.status, r.body)
	}

	proxy.set(false)
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := e.do("GET", "/admin/v1/keys/"+key, tenantAdmin, "")
		if r.status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the store came back but the API answers %d %s", r.status, r.body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
