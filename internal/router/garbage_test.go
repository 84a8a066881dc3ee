package router_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/llmgw/llmgw/internal/observe"
	"github.com/llmgw/llmgw/internal/pipeline"
	protocol "github.com/llmgw/llmgw/internal/protocol/openai"
	"github.com/llmgw/llmgw/internal/provider"
	"github.com/llmgw/llmgw/internal/provider/openai"
	"github.com/llmgw/llmgw/internal/provider/providertest"
	"github.com/llmgw/llmgw/internal/router"
)

// lockedBuffer collects log lines written from many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A 200 that is not a chat completion counts as a failed attempt: the
// request goes on to a healthy target, which serves it, the failure is
// counted against the faulty target, and it is logged once, at WARN, with
// the request, the target, the attempt and a reason that holds no secret.
func TestGarbage200FailsOverAndIsLogged(t *testing.T) {
	const key, header = "sk-canary-PROVIDER-0123456789", "canary-header-value-9876543210"
	garbage := providertest.NewOpenAI(t)
	echo := `{"error":{"message":"upstream proxy failed; request headers: Authorization: Bearer ` + key + `; X-Org: ` + header + `"}}`
	answers := []providertest.Response{
		{Body: []byte(echo)},
		{Body: []byte("\x00\x01 binary junk " + key)},
		{SSE: []byte("data: {\"choices\":[],\"k\":\"" + key + "\"}\n\ndata: [DONE]\n\n")},
	}
	garbage.Enqueue(answers...)
	healthy := providertest.NewOpenAI(t)
	newP := func(name, url string) *openai.Provider {
		p, err := openai.New(openai.Config{Name: name, Type: openai.TypeOpenAI, BaseURL: url, APIKey: key,
			Headers: map[string]string{"X-Org": header}, HTTPClient: provider.NewHTTPClient(provider.ClientOptions{})})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	m := router.Model{Name: "m",
		Targets: []router.Target{
			{Provider: newP("garbage", garbage.URL), Model: "gpt-x", Weight: 1},
			{Provider: newP("healthy", healthy.URL), Model: "gpt-y", Weight: 1},
		},
		Retry:   router.Retry{MaxAttempts: 2, BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond},
		Breaker: router.BreakerPolicy{ConsecutiveFailures: 100, Cooldown: time.Second, HalfOpenProbes: 1},
	}
	reg := observe.NewRegistry()
	logs := &lockedBuffer{}
	// Rand 0 picks the first ready target: the garbage one, while untried.
	r := router.New([]router.Model{m}, router.Options{Metrics: reg, Rand: func() float64 { return 0 },
		Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	for i := range answers {
		body := `{"model":"m","messages":[{"role":"user","content":"secret prompt text"}]}`
		c := pipeline.NewChatCall(protocol.Protocol, []byte(body), protocol.DecodeChatRequest)
		c.Model, c.RequestID = "m", "req-"+string(rune('a'+i))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		s, err := r.Invoke(ctx, c)
		if err != nil {
			cancel()
			t.Fatalf("request %d failed: %v", i, err)
		}
		out, err := drain(s)
		cancel()
		if err != nil || !bytes.Contains(out, []byte("chat.completion")) || c.Provider != "healthy" || c.Attempts != 2 {
			t.Fatalf("request %d: served by %q in %d attempts: %v %s", i, c.Provider, c.Attempts, err, out)
		}
		if bytes.Contains(out, []byte(key)) {
			t.Fatalf("key in the answer: %s", out)
		}
	}
	failed := &sumCollector{t: t, reg: reg, name: "llmgw_upstream_attempts_total", label: [2]string{"outcome", "error"}}
	if n := testutil.ToFloat64(failed); n != float64(len(answers)) {
		t.Errorf("%v failed attempts counted, want %d", n, len(answers))
	}

	out := logs.String()
	for _, s := range []string{key, header, "canary", "secret prompt"} {
		if strings.Contains(out, s) {
			t.Errorf("log holds %q:\n%s", s, out)
		}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(answers) {
		t.Fatalf("%d log lines, want one per failed attempt (%d):\n%s", len(lines), len(answers), out)
	}
	for i, l := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("log line is not JSON: %s", l)
		}
		want := map[string]any{"level": "WARN", "msg": "upstream attempt failed", "request_id": "req-" + string(rune('a'+i)),
			"provider": "garbage", "model": "m", "target_model": "gpt-x", "attempt": 1.0, "error": "upstream_error"}
		for k, v := range want {
			if rec[k] != v {
				t.Errorf("line %d: %s = %v, want %v", i, k, rec[k], v)
			}
		}
		if r, _ := rec["reason"].(string); r == "" || len(r) > 320 {
			t.Errorf("line %d: reason %q", i, r)
		}
	}
	if !strings.Contains(lines[0], `"upstream_status":200`) || !strings.Contains(lines[0], "upstream proxy failed") {
		t.Errorf("the error object's status and message are not in the line: %s", lines[0])
	}
}
