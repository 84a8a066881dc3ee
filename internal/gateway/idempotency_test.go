package gateway

import (
	"context"
	"crypto/rand"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/idempotency"
)

func parseIdem(t *testing.T, yaml string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte("providers: [{name: mock, type: mock}]\nmodels: [{name: mock, targets: [{provider: mock, model: mock}]}]\n"+yaml),
		func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// The store is the process's: a snapshot takes the one it is given, and
// has none when idempotency is off.
func TestIdempotencyStoreOfSnapshots(t *testing.T) {
	cfg := parseIdem(t, "")
	s, closer, err := OpenIdempotency(cfg, nil, nil)
	if err != nil || s == nil {
		t.Fatal(err)
	}
	defer closer()
	snap, err := Compile(cfg, Options{Idempotency: s})
	if err != nil || snap.Idempotency != s {
		t.Fatalf("%v %v", snap.Idempotency, err)
	}
	own, err := Compile(cfg, Options{})
	if err != nil || own.Idempotency == nil || own.Idempotency == s {
		t.Fatalf("a snapshot without one: %v %v", own.Idempotency, err)
	}
	off := parseIdem(t, "idempotency: {enabled: false}\n")
	if s, _, err := OpenIdempotency(off, nil, nil); s != nil || err != nil {
		t.Fatalf("off: %v %v", s, err)
	}
	if snap, err := Compile(off, Options{Idempotency: idempotency.New(idempotency.Options{})}); err != nil || snap.Idempotency != nil {
		t.Fatalf("off: %v %v", snap.Idempotency, err)
	}
}

// With redis.url, records live in Redis: what one process's store keeps,
// another's replays.
func TestOpenIdempotencyRedis(t *testing.T) {
	cfg := parseIdem(t, "redis: {url: \""+redisURL(t)+"\", timeout: \"2s\"}\nidempotency: {ttl: \"1m\"}\n")
	a, closeA, err := OpenIdempotency(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer closeA()
	b, closeB, err := OpenIdempotency(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer closeB()
	id := idempotency.IDOf("t", "gateway-test-"+randomSuffix())
	fp := idempotency.FingerprintOf("POST", "/v1/x", nil)
	l, _, err := a.Begin(context.Background(), id, fp)
	if err != nil || l == nil {
		t.Fatalf("%v %v", l, err)
	}
	w := l.Writer(httptest.NewRecorder())
	_, _ = w.Write([]byte("kept"))
	l.Finish(true)
	_, j, err := b.Begin(context.Background(), id, fp)
	if err != nil || j == nil || !j.Replayed() {
		t.Fatalf("%v %v", j, err)
	}
	rec := httptest.NewRecorder()
	if ok, err := j.Serve(context.Background(), rec); !ok || err != nil || rec.Body.String() != "kept" {
		t.Fatalf("%v %v %q", ok, err, rec.Body)
	}
}

func TestOpenIdempotencyBadURL(t *testing.T) {
	cfg := parseIdem(t, "")
	cfg.Redis.URL = "redis://user:hunter2@[::1"
	_, _, err := OpenIdempotency(cfg, nil, nil)
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("%v", err)
	}
}

func randomSuffix() string { return rand.Text() }
