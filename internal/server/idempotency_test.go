package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/idempotency"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// idemConfig is baseConfig with two tenants' keys.
const idemConfig = baseConfig + `
keys:
  - {name: a1, key: sk-tenant-a-1, tenant: acme}
  - {name: a2, key: sk-tenant-a-2, tenant: acme}
  - {name: b1, key: sk-tenant-b-1, tenant: globex}
`

var keyA = []string{"Authorization", "Bearer sk-tenant-a-1"}

// idemGateway is a gateway on idemConfig (plus extra) recording usage in
// led, with idem as its idempotency store (nil: one of its own).
func idemGateway(t *testing.T, extra string, idem *idempotency.Store) (*testGateway, *sink) {
	t.Helper()
	led := &sink{}
	g := newGateway(t, idemConfig+extra, nil)
	g.srv.Swap(compileConfig(t, idemConfig+extra, map[string]string{"UPSTREAM": g.up.URL}, gateway.Options{Ledger: led, Idempotency: idem}))
	return g, led
}

// chatCalls counts the chat requests the fake upstream received.
func chatCalls(up *providertest.OpenAI) int {
	n := 0
	for _, r := range up.Requests() {
		if strings.HasSuffix(r.Path, "/chat/completions") {
			n++
		}
	}
	return n
}

// waitRecords waits until the ledger holds n records (the edge records
// once the handler has returned, which may be just after the client has
// read its answer), then checks that it holds exactly n.
func waitRecords(t *testing.T, led *sink, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(led.all()) < n && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // and no other comes
	if got := len(led.all()); got != n {
		t.Fatalf("%d ledger records, want %d: %+v", got, n, led.all())
	}
}

// sseChunks is an OpenAI chat stream of words, with usage, as OpenAI sends
// it.
func sseChunks(words ...string) []byte {
	var b strings.Builder
	for i, w := range words {
		role := ""
		if i == 0 {
			role = `"role":"assistant",`
		}
		fmt.Fprintf(&b, `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{%s"content":%q},"finish_reason":null}]}`+"\n\n", role, w)
	}
	b.WriteString(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}` + "\n\n")
	b.WriteString(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}` + "\n\n")
	b.WriteString("data: [DONE]\n\n")
	return []byte(b.String())
}

// checkCompleteStream checks that body is a well-formed OpenAI stream that
// ends with [DONE] and carries text.
func checkCompleteStream(t *testing.T, body, text string) {
	t.Helper()
	evs := events(t, body)
	if len(evs) < 2 || evs[len(evs)-1] != "[DONE]" {
		t.Fatalf("stream not complete: %q", body)
	}
	var got strings.Builder
	for _, e := range evs[:len(evs)-1] {
		if strings.Contains(e, `"error"`) {
			t.Fatalf("error event in %q", body)
		}
		if i := strings.Index(e, `"content":"`); i >= 0 {
			rest := e[i+len(`"content":"`):]
			got.WriteString(rest[:strings.IndexByte(rest, '"')])
		}
	}
	if got.String() != text {
		t.Fatalf("stream text %q, want %q", got.String(), text)
	}
}

// Twenty clients sending the same request with the same key at once: the
// upstream is called once, all get the same body, the ledger one record.
func TestIdempotencyConcurrentDuplicates(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(fmt.Sprintf("stream=%v", stream), func(t *testing.T) {
			g, led := idemGateway(t, "", nil)
			hold := make(chan struct{})
			body := fmt.Sprintf(userHello, "gpt", fmt.Sprintf(`,"stream":%v`, stream))
			if stream {
				g.up.Enqueue(providertest.Response{SSE: sseChunks("Hello ", "there, ", "gateway"), Hold: hold, HoldAfter: 100})
			} else {
				g.up.Enqueue(providertest.Response{Header: http.Header{"Content-Type": {"application/json"}},
					SSE:  []byte(`{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"once"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}`),
					Hold: hold})
			}
			const n = 20
			bodies := make([]string, n)
			replayed := make([]string, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					resp, b := g.do("POST", "/v1/chat/completions", body, append(keyA, "Idempotency-Key", "same-key")...)
					if resp.StatusCode != 200 {
						t.Errorf("%d %s", resp.StatusCode, b)
					}
					bodies[i], replayed[i] = b, resp.Header.Get("Idempotent-Replayed")
				})
			}
			for len(g.up.Requests()) == 0 {
				time.Sleep(time.Millisecond)
			}
			close(hold)
			wg.Wait()
			if c := chatCalls(g.up); c != 1 {
				t.Fatalf("upstream called %d times", c)
			}
			leaders := 0
			for i := range n {
				if bodies[i] != bodies[0] {
					t.Fatalf("body %d differs:\n%s\n%s", i, bodies[i], bodies[0])
				}
				if replayed[i] == "" {
					leaders++
				}
			}
			if leaders != 1 {
				t.Fatalf("%d responses without Idempotent-Replayed, want 1", leaders)
			}
			if stream {
				checkCompleteStream(t, bodies[0], "Hello there, gateway")
			}
			waitRecords(t, led, 1)
		})
	}
}

// A repeat after the first request finished replays its response, streamed
// or not, on every inference route, without calling the upstream again.
func TestIdempotencyReplayAfterCompletion(t *testing.T) {
	anthropic := []string{"anthropic-version", "2023-06-01"}
	for _, tc := range []struct {
		name, path, body string
		headers          []string
	}{
		{"chat", "/v1/chat/completions", fmt.Sprintf(userHello, "gpt", ""), nil},
		{"chat stream", "/v1/chat/completions", fmt.Sprintf(userHello, "gpt", `,"stream":true,"stream_options":{"include_usage":true}`), nil},
		{"messages", "/v1/messages", `{"model":"gpt","max_tokens":20,"messages":[{"role":"user","content":"hello replay"}]}`, anthropic},
		{"messages stream", "/v1/messages", `{"model":"gpt","max_tokens":20,"stream":true,"messages":[{"role":"user","content":"hello replay"}]}`, anthropic},
		{"embeddings", "/v1/embeddings", `{"model":"gpt","input":"hello"}`, nil},
		{"responses", "/v1/responses", `{"model":"gpt","store":false,"input":"hello replay"}`, nil},
		{"responses stream", "/v1/responses", `{"model":"gpt","store":false,"stream":true,"input":"hello replay"}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, led := idemGateway(t, "", nil)
			h := append(append(append([]string{}, keyA...), tc.headers...), "Idempotency-Key", "k-"+tc.name)
			first, b1 := g.do("POST", tc.path, tc.body, h...)
			second, b2 := g.do("POST", tc.path, tc.body, h...)
			if first.StatusCode != 200 || second.StatusCode != 200 || b1 != b2 {
				t.Fatalf("%d %d\n%s\n%s", first.StatusCode, second.StatusCode, b1, b2)
			}
			if first.Header.Get("Idempotent-Replayed") != "" || second.Header.Get("Idempotent-Replayed") != "true" {
				t.Fatalf("Idempotent-Replayed: %q then %q", first.Header.Get("Idempotent-Replayed"), second.Header.Get("Idempotent-Replayed"))
			}
			for _, k := range []string{"Content-Type", "X-Llmgw-Provider"} {
				if first.Header.Get(k) != second.Header.Get(k) || first.Header.Get(k) == "" {
					t.Fatalf("%s: %q then %q", k, first.Header.Get(k), second.Header.Get(k))
				}
			}
			if first.Header.Get("X-Request-Id") == second.Header.Get("X-Request-Id") {
				t.Fatal("the replay has the first request's ID")
			}
			if strings.HasSuffix(tc.name, "stream") {
				if evs := events(t, b2); len(evs) < 3 {
					t.Fatalf("replayed stream %q", b2)
				}
			}
			if n := len(g.up.Requests()); n != 1 {
				t.Fatalf("upstream called %d times", n)
			}
			waitRecords(t, led, 1)
		})
	}
}

// The same key with another body, or on another route, is a 409 in the
// route's error shape; the stored response stays.
func TestIdempotencyConflict(t *testing.T) {
	g, _ := idemGateway(t, "", nil)
	h := append(append([]string{}, keyA...), "Idempotency-Key", "conflicted")
	if resp, b := g.do("POST", "/v1/chat/completions", fmt.Sprintf(userHello, "gpt", ""), h...); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	resp, b := g.do("POST", "/v1/chat/completions", fmt.Sprintf(userHello, "mock", ""), h...)
	if resp.StatusCode != 409 || !strings.Contains(b, `"code":"idempotency_key_conflict"`) || !strings.Contains(b, `"param":"Idempotency-Key"`) ||
		!strings.Contains(b, "different request") {
		t.Fatalf("another body: %d %s", resp.StatusCode, b)
	}
	resp, b = g.do("POST", "/v1/messages", `{"model":"gpt","max_tokens":5,"messages":[{"role":"user","content":"x"}]}`,
		append(h, "anthropic-version", "2023-06-01")...)
	if resp.StatusCode != 409 || !strings.HasPrefix(b, `{"type":"error","error":{"type":"invalid_request_error"`) {
		t.Fatalf("another route: %d %s", resp.StatusCode, b)
	}
	if resp, b := g.do("POST", "/v1/chat/completions", fmt.Sprintf(userHello, "gpt", ""), h...); resp.StatusCode != 200 || resp.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("the first request's replay: %d %s", resp.StatusCode, b)
	}
	if n := len(g.up.Requests()); n != 1 {
		t.Fatalf("upstream called %d times", n)
	}
}

// Keys are per tenant: two tenants' requests with the same key both run;
// two keys of one tenant share it.
func TestIdempotencyTenantScope(t *testing.T) {
	g, _ := idemGateway(t, "", nil)
	body := fmt.Sprintf(userHello, "gpt", "")
	for _, key := range []string{"sk-tenant-a-1", "sk-tenant-b-1", "sk-tenant-a-2"} {
		if resp, b := g.do("POST", "/v1/chat/completions", body, "Authorization", "Bearer "+key, "Idempotency-Key", "shared"); resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
	}
	if n := chatCalls(g.up); n != 2 {
		t.Fatalf("upstream called %d times, want 2 (one per tenant)", n)
	}
}

// A client that goes away mid-stream does not end the call: its retry with
// the same key gets the whole stream, from the one upstream call, billed
// once.
func TestIdempotencyDisconnectThenRetry(t *testing.T) {
	g, led := idemGateway(t, "", nil)
	// The gateway's handler, wrapped to tell when the server has seen the
	// first client go away.
	gone := make(chan struct{}, 4)
	g.http.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stop := context.AfterFunc(r.Context(), func() { gone <- struct{}{} })
		defer stop()
		g.srv.ServeHTTP(w, r)
	})
	hold := make(chan struct{})
	sse := sseChunks("Hello ", "there, ", "gateway")
	g.up.Enqueue(providertest.Response{SSE: sse, Hold: hold, HoldAfter: 200})
	body := fmt.Sprintf(userHello, "gpt", `,"stream":true`)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", g.http.URL+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", keyA[1])
	req.Header.Set("Idempotency-Key", "retry-me")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v", resp, err)
	}
	// The first event arrived; then the client goes away.
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "data: ") {
		t.Fatalf("%q %v", line, err)
	}
	cancel()
	resp.Body.Close()
	<-gone
	retried := make(chan string)
	go func() {
		r2, b := g.do("POST", "/v1/chat/completions", body, append(keyA, "Idempotency-Key", "retry-me")...)
		if r2.StatusCode != 200 || r2.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("retry: %d %v", r2.StatusCode, r2.Header)
		}
		retried <- b
	}()
	close(hold)
	checkCompleteStream(t, <-retried, "Hello there, gateway")
	if n := chatCalls(g.up); n != 1 {
		t.Fatalf("upstream called %d times", n)
	}
	select {
	case <-g.up.Canceled():
		t.Fatal("the upstream call was canceled")
	default:
	}
	waitRecords(t, led, 1)
	if r := led.all()[0]; r.Status != 200 || r.OutputTokens != 3 {
		t.Fatalf("record %+v", r)
	}
}

// Failures a retry may cure free the key; a refusal of the body is kept.
func TestIdempotencyFailuresKept(t *testing.T) {
	g, _ := idemGateway(t, "", nil)
	body := fmt.Sprintf(userHello, "gpt", "")
	h := append(append([]string{}, keyA...), "Idempotency-Key", "fails-once")
	g.up.Enqueue(providertest.Response{Status: 500, Body: []byte(`{"error":{"message":"boom","type":"server_error","param":null,"code":null}}`)},
		providertest.Response{Status: 500, Body: []byte(`{"error":{"message":"boom","type":"server_error","param":null,"code":null}}`)},
		providertest.Response{Status: 500, Body: []byte(`{"error":{"message":"boom","type":"server_error","param":null,"code":null}}`)})
	if resp, b := g.do("POST", "/v1/chat/completions", body, h...); resp.StatusCode < 500 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	calls := chatCalls(g.up)
	if resp, b := g.do("POST", "/v1/chat/completions", body, h...); resp.StatusCode != 200 || resp.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("retry after a 5xx: %d %s", resp.StatusCode, b)
	}
	if chatCalls(g.up) != calls+1 {
		t.Fatal("the retry after a 5xx did not run")
	}
	// A 400 of the upstream for this body is the answer to this body.
	h = append(append([]string{}, keyA...), "Idempotency-Key", "refused")
	g.up.Enqueue(providertest.Response{Status: 400, Body: []byte(`{"error":{"message":"bad","type":"invalid_request_error","param":"messages","code":null}}`)})
	r1, b1 := g.do("POST", "/v1/chat/completions", body, h...)
	r2, b2 := g.do("POST", "/v1/chat/completions", body, h...)
	if r1.StatusCode != 400 || r2.StatusCode != 400 || b1 != b2 || r2.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("%d %s\n%d %s", r1.StatusCode, b1, r2.StatusCode, b2)
	}
}

// A stream that breaks after it began is not kept: the retry runs anew.
func TestIdempotencyBrokenStreamNotKept(t *testing.T) {
	g, _ := idemGateway(t, "", nil)
	body := fmt.Sprintf(userHello, "gpt", `,"stream":true`)
	h := append(append([]string{}, keyA...), "Idempotency-Key", "broken")
	cut := sseChunks("Hello ", "there")
	first := strings.Index(string(cut), "\n\n") + 2
	// The first event reaches the client; then the upstream sends part of
	// the next and hangs up.
	hold := make(chan struct{})
	g.up.Enqueue(providertest.Response{SSE: cut[:first+20], Hold: hold, HoldAfter: first, HangUp: true})
	req, _ := http.NewRequest("POST", g.http.URL+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", keyA[1])
	req.Header.Set("Idempotency-Key", "broken")
	resp1, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(resp1.Body)
	if line, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(line, "data: ") {
		t.Fatalf("%q %v", line, err)
	}
	close(hold)
	rest, _ := io.ReadAll(br)
	resp1.Body.Close()
	if !strings.Contains(string(rest), `"error"`) {
		t.Fatalf("no error event: %s", rest)
	}
	resp, b := g.do("POST", "/v1/chat/completions", body, h...)
	if resp.Header.Get("Idempotent-Replayed") != "" || chatCalls(g.up) != 2 {
		t.Fatalf("the retry was a replay: %s", b)
	}
	checkCompleteStream(t, b, "Hello there, gateway")
}

// Results expire after idempotency.ttl.
func TestIdempotencyTTL(t *testing.T) {
	var mu sync.Mutex
	now := time.Unix(2_000_000_000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	g, _ := idemGateway(t, "idempotency: {ttl: \"1h\"}\n", idempotency.New(idempotency.Options{TTL: time.Hour, Now: clock}))
	body := fmt.Sprintf(userHello, "gpt", "")
	h := append(append([]string{}, keyA...), "Idempotency-Key", "expiring")
	g.do("POST", "/v1/chat/completions", body, h...)
	mu.Lock()
	now = now.Add(59 * time.Minute)
	mu.Unlock()
	if resp, _ := g.do("POST", "/v1/chat/completions", body, h...); resp.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatal("not replayed within the TTL")
	}
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	if resp, _ := g.do("POST", "/v1/chat/completions", body, h...); resp.Header.Get("Idempotent-Replayed") != "" {
		t.Fatal("replayed after the TTL")
	}
	if n := chatCalls(g.up); n != 2 {
		t.Fatalf("upstream called %d times, want 2", n)
	}
}

// A response over idempotency.max_record_bytes is not kept: a retry runs
// the request again.
func TestIdempotencyRecordBound(t *testing.T) {
	g, _ := idemGateway(t, "idempotency: {max_record_bytes: 100}\n", nil)
	body := fmt.Sprintf(userHello, "gpt", "")
	h := append(append([]string{}, keyA...), "Idempotency-Key", "large")
	r1, b1 := g.do("POST", "/v1/chat/completions", body, h...)
	r2, _ := g.do("POST", "/v1/chat/completions", body, h...)
	if r1.StatusCode != 200 || len(b1) <= 100 || r2.Header.Get("Idempotent-Replayed") != "" || chatCalls(g.up) != 2 {
		t.Fatalf("%d %d bytes, replayed %q, %d calls", r1.StatusCode, len(b1), r2.Header.Get("Idempotent-Replayed"), chatCalls(g.up))
	}
}

// An invalid Idempotency-Key is a 400 naming the header, before any call.
func TestIdempotencyInvalidKey(t *testing.T) {
	g, _ := idemGateway(t, "", nil)
	body := fmt.Sprintf(userHello, "gpt", "")
	for name, key := range map[string]string{"empty": "", "too long": strings.Repeat("k", 256), "control": "a\tb", "non-ASCII": "cl\xc3\xa9"} {
		t.Run(name, func(t *testing.T) {
			resp, b := g.do("POST", "/v1/chat/completions", body, append(keyA, "Idempotency-Key", key)...)
			if resp.StatusCode != 400 || !strings.Contains(b, `"param":"Idempotency-Key"`) || !strings.Contains(b, "Idempotency-Key header") {
				t.Fatalf("%d %s", resp.StatusCode, b)
			}
		})
	}
	req, _ := http.NewRequest("POST", g.http.URL+"/v1/messages", strings.NewReader(`{}`))
	req.Header.Set("Authorization", keyA[1])
	req.Header["Idempotency-Key"] = []string{"one", "two"}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.HasPrefix(string(b), `{"type":"error"`) {
		t.Fatalf("two values: %d %s", resp.StatusCode, b)
	}
	if resp, b := g.do("POST", "/v1/chat/completions", body, append(keyA, "Idempotency-Key", strings.Repeat("k", 255))...); resp.StatusCode != 200 {
		t.Fatalf("longest key: %d %s", resp.StatusCode, b)
	}
	if n := chatCalls(g.up); n != 1 {
		t.Fatalf("upstream called %d times", n)
	}
}

// With idempotency.enabled false the header is ignored.
func TestIdempotencyDisabled(t *testing.T) {
	g, _ := idemGateway(t, "idempotency: {enabled: false}\n", nil)
	body := fmt.Sprintf(userHello, "gpt", "")
	for range 2 {
		if resp, _ := g.do("POST", "/v1/chat/completions", body, append(keyA, "Idempotency-Key", "ignored")...); resp.Header.Get("Idempotent-Replayed") != "" {
			t.Fatal("replayed while disabled")
		}
	}
	if n := chatCalls(g.up); n != 2 {
		t.Fatalf("upstream called %d times", n)
	}
}
