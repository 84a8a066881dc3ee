package replicas

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/auth"
)

// A replica cut from PostgreSQL: a key it has cached keeps working on the
// data plane; one it has not is a 503 in the route's shape (not a 401, not
// a 500) without the database's words; /readyz is 503. When the database
// comes back, so does everything.
func TestStoreDown(t *testing.T) {
	db := newDatabase(t)
	cached, _ := db.key("cached")
	uncached, _ := db.key("uncached")
	p := newProxy(t, hostOf(t, db.dsn))
	g := start(t, config(t, via(t, db.dsn, p.addr()), true))
	chat := `{"model":"mock","messages":[{"role":"user","content":"still here"}]}`
	if status, body := g.do("POST", "/v1/chat/completions", chat, cached); status != 200 {
		t.Fatalf("before the cut: %d %s", status, body)
	}

	p.Cut()
	for range 5 {
		if status, body := g.do("POST", "/v1/chat/completions", chat, cached); status != 200 {
			t.Fatalf("cached key with the database cut: %d %s", status, body)
		}
	}
	status, body := g.do("POST", "/v1/chat/completions", chat, uncached)
	if status != 503 || gjson.Get(body, "error.code").String() != "service_unavailable" {
		t.Errorf("uncached key with the database cut: %d %s", status, body)
	}
	status, body = g.do("POST", "/v1/messages", `{"model":"mock","max_tokens":8,"messages":[{"role":"user","content":"x"}]}`, uncached)
	if status != 503 || gjson.Get(body, "type").String() != "error" || gjson.Get(body, "error.type").String() != "api_error" {
		t.Errorf("uncached key on /v1/messages with the database cut: %d %s", status, body)
	}
	for _, leak := range []string{"dial", "refused", "EOF", "postgres"} {
		if strings.Contains(body, leak) {
			t.Errorf("the answer carries the database's error (%q): %s", leak, body)
		}
	}
	// /readyz keeps a store's answer for a second (a probe storm asks it
	// once): the cut shows within that.
	if !g.readyzBecomes(t, 503) {
		t.Errorf("/readyz with the database cut: not 503")
	}

	p.Restore()
	deadline := time.Now().Add(15 * time.Second)
	for {
		status, body := g.do("POST", "/v1/chat/completions", chat, uncached)
		if status == 200 {
			break
		}
		if status != 503 || time.Now().After(deadline) {
			t.Fatalf("after the database came back: %d %s\n%s", status, body, g.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !g.readyzBecomes(t, 200) {
		t.Errorf("/readyz after the database came back: not 200")
	}
	if !g.logged("the key store did not answer") {
		t.Errorf("the outage is not logged:\n%s", g.logs.String())
	}
	logs := g.logs.String()
	for _, k := range []string{cached, uncached} {
		if strings.Contains(logs, k[auth.DisplayPrefixLen:]) {
			t.Error("the log holds a key")
		}
	}
}

// hostOf returns the host:port of a postgres:// DSN.
func hostOf(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if u.Port() == "" {
		return u.Hostname() + ":5432"
	}
	return u.Host
}

// readyzBecomes polls /readyz until it answers want, for at most 15
// seconds (a bound on the process, not a timing claim: readiness keeps
// its store's answer for one second).
func (g *gateway) readyzBecomes(t *testing.T, want int) bool {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if status, _ := g.get("/readyz", ""); status == want {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}
