package server

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

const limitedConfig = baseConfig + `  - name: slow
    targets: [{provider: slow-mock, model: mock}]
  - name: capped
    targets: [{provider: mock, model: mock}]
    limits: {rpm: 1}
keys:
  - name: rpm-key
    key: sk-rpm-key
    limits: {rpm: 2, tpm: 100000}
  - name: conc-key
    key: sk-conc-key
    limits: {concurrent: 1}
  - name: free-key
    key: sk-free-key
`

func newLimitedGateway(t *testing.T) *testGateway {
	t.Helper()
	yaml := strings.Replace(limitedConfig, "  - name: mock\n    type: mock\n",
		"  - name: mock\n    type: mock\n  - name: slow-mock\n    type: mock\n    mock: {tokens_per_second: 4}\n", 1)
	return newGateway(t, yaml, nil)
}

func chatBody(model string, stream bool, maxTokens int) string {
	b := `{"model":"` + model + `","messages":[{"role":"user","content":"one two three four five six seven eight nine ten"}]`
	if stream {
		b += `,"stream":true`
	}
	if maxTokens > 0 {
		b += `,"max_tokens":` + strconv.Itoa(maxTokens)
	}
	return b + "}"
}

func TestRateLimitRPM429OpenAI(t *testing.T) {
	g := newLimitedGateway(t)
	auth := []string{"Authorization", "Bearer sk-rpm-key"}
	for i := 0; i < 2; i++ {
		resp, body := g.do("POST", "/v1/chat/completions", chatBody("mock", false, 10), auth...)
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, body)
		}
		h := resp.Header
		if h.Get("X-Ratelimit-Limit-Requests") != "2" || h.Get("X-Ratelimit-Remaining-Requests") != strconv.Itoa(1-i) ||
			h.Get("X-Ratelimit-Reset-Requests") == "" || h.Get("X-Ratelimit-Limit-Tokens") != "100000" ||
			h.Get("X-Ratelimit-Remaining-Tokens") == "" || h.Get("X-Ratelimit-Reset-Tokens") == "" {
			t.Errorf("request %d: rate limit headers %v", i, h)
		}
	}
	resp, body := g.do("POST", "/v1/chat/completions", chatBody("mock", false, 10), auth...)
	if resp.StatusCode != 429 {
		t.Fatalf("third request: %d %s", resp.StatusCode, body)
	}
	ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || ra < 1 || ra > 30 {
		t.Errorf("Retry-After = %q, want 1..30 seconds", resp.Header.Get("Retry-After"))
	}
	if resp.Header.Get("X-Ratelimit-Remaining-Requests") != "0" || resp.Header.Get("X-Ratelimit-Limit-Requests") != "2" {
		t.Errorf("429 rate limit headers: %v", resp.Header)
	}
	var e struct {
		Error struct{ Message, Type, Code string }
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatal(err)
	}
	if e.Error.Code != "rate_limit_exceeded" || e.Error.Type != "rate_limit_error" ||
		!strings.Contains(e.Error.Message, "this key's requests per minute limit") {
		t.Errorf("429 body: %s", body)
	}
	if strings.Contains(body, "sk-rpm-key") || strings.Contains(g.logs.String(), "sk-rpm-key") {
		t.Error("the key's secret appears in the answer or the logs")
	}
	// An unlimited key gets no rate limit headers.
	resp, _ = g.do("POST", "/v1/chat/completions", chatBody("mock", false, 10), "Authorization", "Bearer sk-free-key")
	if resp.StatusCode != 200 || resp.Header.Get("X-Ratelimit-Limit-Requests") != "" {
		t.Errorf("unlimited key: %d, headers %v", resp.StatusCode, resp.Header)
	}
}

func TestRateLimit429Anthropic(t *testing.T) {
	g := newLimitedGateway(t)
	body := `{"model":"capped","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`
	hdr := []string{"x-api-key", "sk-free-key", "anthropic-version", "2023-06-01"}
	if resp, b := g.do("POST", "/v1/messages", body, hdr...); resp.StatusCode != 200 {
		t.Fatalf("first: %d %s", resp.StatusCode, b)
	}
	resp, b := g.do("POST", "/v1/messages", body, hdr...)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("second: %d %v %s", resp.StatusCode, resp.Header, b)
	}
	var e struct {
		Type  string
		Error struct{ Type, Message string }
	}
	if err := json.Unmarshal([]byte(b), &e); err != nil {
		t.Fatal(err)
	}
	if e.Type != "error" || e.Error.Type != "rate_limit_error" || !strings.Contains(e.Error.Message, "this model's requests per minute") {
		t.Errorf("429 body: %s", b)
	}
	if resp.Header.Get("X-Ratelimit-Limit-Requests") != "1" {
		t.Errorf("429 headers: %v", resp.Header)
	}
}

func TestRateLimitTooManyTokensNeverPasses(t *testing.T) {
	g := newLimitedGateway(t)
	resp, body := g.do("POST", "/v1/chat/completions", chatBody("mock", false, 200000), "Authorization", "Bearer sk-rpm-key")
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "" || !strings.Contains(body, "allows at once") {
		t.Fatalf("%d Retry-After %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
}

func TestRateLimitTokensReconciled(t *testing.T) {
	g := newLimitedGateway(t)
	auth := []string{"Authorization", "Bearer sk-rpm-key"}
	if resp, body := g.do("POST", "/v1/chat/completions", chatBody("mock", false, 60000), auth...); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	resp, body := g.do("POST", "/v1/chat/completions", chatBody("mock", false, 10), auth...)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	// Reconciled: the first call holds its real usage (a few dozen tokens),
	// not the 60000 it reserved.
	rem, _ := strconv.Atoi(resp.Header.Get("X-Ratelimit-Remaining-Tokens"))
	if rem < 99_000 {
		t.Errorf("remaining tokens = %d after a small call: the first reservation was not reconciled", rem)
	}
}

func TestRateLimitHeadersOnStream(t *testing.T) {
	g := newLimitedGateway(t)
	req, _ := http.NewRequest("POST", g.http.URL+"/v1/chat/completions", strings.NewReader(chatBody("mock", true, 10)))
	req.Header.Set("Authorization", "Bearer sk-rpm-key")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Ratelimit-Limit-Requests") != "2" || resp.Header.Get("X-Ratelimit-Remaining-Tokens") == "" {
		t.Errorf("stream: %d, headers %v", resp.StatusCode, resp.Header)
	}
}

// A client that goes away mid-stream frees its concurrency slot.
func TestRateLimitConcurrencyReleasedOnCancel(t *testing.T) {
	g := newLimitedGateway(t)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", g.http.URL+"/v1/chat/completions", strings.NewReader(chatBody("slow", true, 0)))
	req.Header.Set("Authorization", "Bearer sk-conc-key")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("stream: %d", resp.StatusCode)
	}
	if _, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	// While it streams, the key's one slot is taken.
	r2, body := g.do("POST", "/v1/chat/completions", chatBody("mock", false, 10), "Authorization", "Bearer sk-conc-key")
	if r2.StatusCode != 429 || !strings.Contains(body, "concurrent requests") {
		t.Fatalf("second while streaming: %d %s", r2.StatusCode, body)
	}
	cancel()
	resp.Body.Close()
	deadline := time.Now().Add(2 * time.Second)
	for {
		r3, body := g.do("POST", "/v1/chat/completions", chatBody("mock", false, 10), "Authorization", "Bearer sk-conc-key")
		if r3.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the slot was not freed within 2s of the client leaving: %d %s", r3.StatusCode, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
