package server

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/store"
)

// sink collects usage records in memory, as the ledger writer would
// queue them.
type sink struct {
	mu   sync.Mutex
	recs []store.UsageRecord
}

func (s *sink) Add(r store.UsageRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recs = append(s.recs, r)
}

func (s *sink) all() []store.UsageRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]store.UsageRecord(nil), s.recs...)
}

// Every request that names a model leaves one usage record, streamed or
// not, with its caller, model, provider, tokens, cost, latency and status.
func TestUsageRecorded(t *testing.T) {
	led := &sink{}
	cfg := pricedConfig + `
keys:
  - {name: ci, key: sk-ci-key, tenant: acme}
`
	g := newGateway(t, cfg, nil)
	g.srv.Swap(compileConfig(t, cfg, map[string]string{"UPSTREAM": g.up.URL}, gateway.Options{Ledger: led}))
	key := []string{"Authorization", "Bearer sk-ci-key"}
	if resp, body := g.do("POST", "/v1/chat/completions", `{"model":"mock","messages":[{"role":"user","content":"hello there"}]}`, key...); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if resp, _ := g.do("POST", "/v1/chat/completions", `{"model":"mock","stream":true,"messages":[{"role":"user","content":"hello there"}]}`, key...); resp.StatusCode != 200 {
		t.Fatal(resp.StatusCode)
	}
	// A client's request ID, reused, still gives two records.
	for range 2 {
		g.do("POST", "/v1/messages", `{"model":"gpt","max_tokens":50,"messages":[{"role":"user","content":"hi"}]}`,
			append(key, "anthropic-version", "2023-06-01", "X-Request-Id", "client-req-1")...)
	}
	// Refused before a model is known: not a request of the ledger (the
	// audit log counts failed authentications).
	g.do("POST", "/v1/chat/completions", `{"model":"mock","messages":[{"role":"user","content":"x"}]}`, "Authorization", "Bearer wrong")
	// The edge records once the handler has returned, which may be just
	// after the client has read the answer.
	deadline := time.Now().Add(5 * time.Second)
	for len(led.all()) < 4 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // and no fifth one comes
	recs := led.all()
	if len(recs) != 4 {
		t.Fatalf("%d records, want 4: %+v", len(recs), recs)
	}
	u := recs[0]
	if u.Tenant != "acme" || u.TenantID != "acme" || u.KeyName != "ci" || u.Model != "mock" || u.Provider != "mock" ||
		u.UpstreamModel != "mock" || u.InputTokens != 6 || u.OutputTokens != 2 || !u.CostKnown ||
		u.CostPico != (6*1+2*2)*1_000_000 || u.Status != 200 || u.Stream || u.LatencyMicros <= 0 || u.RequestID == "" {
		t.Fatalf("non-streamed record %+v", u)
	}
	s := recs[1]
	if !s.Stream || s.TTFTMicros <= 0 || s.InputTokens == 0 || s.OutputTokens == 0 || !s.CostKnown || s.Status != 200 {
		t.Fatalf("streamed record %+v", s)
	}
	a, b := recs[2], recs[3]
	if !strings.HasPrefix(a.RequestID, "client-req-1.") || !strings.HasPrefix(b.RequestID, "client-req-1.") || a.RequestID == b.RequestID {
		t.Fatalf("reused client request IDs: %q %q", a.RequestID, b.RequestID)
	}
	if a.Provider != "fake-openai" || a.UpstreamModel != "gpt-4o-mini" || a.InputTokens == 0 {
		t.Fatalf("translated record %+v", a)
	}
}

// A model name the store could not keep (invalid UTF-8, NUL, huge) is
// made to fit, so its record is kept like any other.
func TestUsageRecordOfHostileModelName(t *testing.T) {
	led := &sink{}
	g := newGateway(t, baseConfig, nil)
	g.srv.Swap(compileConfig(t, baseConfig, map[string]string{"UPSTREAM": g.up.URL}, gateway.Options{Ledger: led}))
	name := "m\xff\\u0000" + strings.Repeat("x", 5000)
	g.do("POST", "/v1/chat/completions", `{"model":"`+name+`","messages":[{"role":"user","content":"hi"}]}`)
	deadline := time.Now().Add(5 * time.Second)
	for len(led.all()) < 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	recs := led.all()
	if len(recs) != 1 {
		t.Fatalf("%d records", len(recs))
	}
	if err := store.CheckUsage(&recs[0]); err != nil {
		t.Fatalf("the record would be refused: %v (%q)", err, recs[0].Model[:20])
	}
}
