package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/gateway"
)

// Canary secrets configured on the providers: their keys and an extra
// header's value, with characters JSON encoders escape.
const (
	canaryKey    = "sk-canary-PROVIDER-0123456789"
	canaryHeader = "canary-HEADER-<&>/0123456789"
)

// echoUpstream is an upstream that answers with its request headers quoted
// in what it sends back, as some proxies and self-hosted servers do in
// errors, and as an assistant quoting its context might in a completion.
// The prompt's last word chooses the answer: "error200", "success",
// "garbage", "nested"; a stream request gets an event stream. It speaks
// OpenAI's and Anthropic's APIs both.
type echoUpstream struct {
	*httptest.Server
	sawKey atomic.Int64 // requests that carried the canary key
}

func newEchoUpstream(t *testing.T) *echoUpstream {
	u := &echoUpstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(u.serve))
	t.Cleanup(u.Close)
	return u
}

func (u *echoUpstream) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var names []string
	for k := range r.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	var echo strings.Builder
	for _, k := range names {
		fmt.Fprintf(&echo, "%s: %s; ", k, strings.Join(r.Header[k], ","))
	}
	if strings.Contains(echo.String(), canaryKey) {
		u.sawKey.Add(1)
	}
	q, _ := json.Marshal(echo.String()) // HTML-escaped, as Go servers write it
	mode := "success"
	for _, m := range []string{"error200", "garbage", "nested"} {
		if bytes.Contains(body, []byte(m)) {
			mode = m
		}
	}
	anthropic := strings.HasPrefix(r.URL.Path, "/v1/messages")
	stream := gjson.GetBytes(body, "stream").Bool()
	switch {
	case mode == "garbage":
		_, _ = w.Write([]byte("\x00\x01\x02 not json " + canaryKey))
		return
	case mode == "nested":
		_, _ = w.Write(bytes.Repeat([]byte("["), 10_000_000))
		return
	case mode == "error200" && anthropic:
		fmt.Fprintf(w, `{"type":"error","error":{"type":"api_error","message":%s}}`, q)
		return
	case mode == "error200":
		fmt.Fprintf(w, `{"error":{"message":%s,"type":"server_error","code":null}}`, q)
		return
	case stream && anthropic:
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-x\",\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n"+
			"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"+
			"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":%s}}\n\n"+
			"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"+
			"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":5}}\n\n"+
			"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n", q)
	case stream:
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-x\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":%s},\"finish_reason\":null}]}\n\n"+
			"data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-x\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"+
			"data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-x\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":5,\"total_tokens\":8}}\n\n"+
			"data: [DONE]\n\n", q)
	case strings.HasSuffix(r.URL.Path, "/count_tokens"):
		fmt.Fprintf(w, `{"input_tokens":7,"note":%s}`, q)
	case anthropic:
		fmt.Fprintf(w, `{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":%s}],"stop_reason":"end_turn","usage":{"input_tokens":3,"output_tokens":5}}`, q)
	case strings.HasSuffix(r.URL.Path, "/embeddings"):
		fmt.Fprintf(w, `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.25,0.5]}],"model":%s,"usage":{"prompt_tokens":1,"total_tokens":1}}`, q)
	default:
		fmt.Fprintf(w, `{"id":"c1","object":"chat.completion","created":1,"model":"gpt-x","choices":[{"index":0,"message":{"role":"assistant","content":%s},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":5,"total_tokens":8}}`, q)
	}
}

// newEchoGateway serves models "gpt" (OpenAI) and "claude" (Anthropic) from
// one echoing upstream, both providers configured with the canaries.
func newEchoGateway(t *testing.T) (*testGateway, *echoUpstream) {
	up := newEchoUpstream(t)
	yaml := `
providers:
  - name: oai
    type: openai
    base_url: "${UP}/v1"
    api_key: "` + canaryKey + `"
    headers: {X-Org-Token: "` + canaryHeader + `"}
  - name: ant
    type: anthropic
    base_url: "${UP}"
    api_key: "` + canaryKey + `"
    headers: {X-Org-Token: "` + canaryHeader + `"}
models:
  - name: gpt
    targets: [{provider: oai, model: gpt-x}]
    retry: {max_attempts: 2, base_backoff: "1ms", max_backoff: "1ms"}
  - name: claude
    targets: [{provider: ant, model: claude-x}]
    retry: {max_attempts: 2, base_backoff: "1ms", max_backoff: "1ms"}
`
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	snap := compileConfig(t, yaml, map[string]string{"UP": up.URL}, gateway.Options{Logger: log})
	ts := httptest.NewServer(New(snap, log))
	t.Cleanup(ts.Close)
	return &testGateway{t: t, http: ts, logs: logs}, up
}

// canaryForms are the canaries as they are and as JSON escapes them.
var canaryForms = []string{canaryKey, canaryHeader, `canary-HEADER-\u003c\u0026\u003e/0123456789`, "canary-HEADER", "PROVIDER-0123456789"}

// No canary reaches a client through any route, whatever the upstream
// echoes in a 200: an error body, a completion, a stream event, embeddings,
// a message, a token count; on the fast path and translated.
func TestUpstreamEchoedSecretsNeverReachClients(t *testing.T) {
	g, up := newEchoGateway(t)
	chat := func(model, word, extra string) string {
		return `{"model":"` + model + `","messages":[{"role":"user","content":"please ` + word + `"}]` + extra + `}`
	}
	msgs := func(model, word, extra string) string {
		return `{"model":"` + model + `","max_tokens":50,"messages":[{"role":"user","content":"please ` + word + `"}]` + extra + `}`
	}
	const stream = `,"stream":true`
	for _, tc := range []struct {
		name, path, body string
		status           int
	}{
		{"chat fast path success", "/v1/chat/completions", chat("gpt", "success", ""), 200},
		{"chat fast path error in 200", "/v1/chat/completions", chat("gpt", "error200", ""), 502},
		{"chat fast path stream", "/v1/chat/completions", chat("gpt", "success", stream), 200},
		{"chat translated success", "/v1/chat/completions", chat("claude", "success", ""), 200},
		{"chat translated error in 200", "/v1/chat/completions", chat("claude", "error200", ""), 502},
		{"chat translated stream", "/v1/chat/completions", chat("claude", "success", stream), 200},
		{"messages fast path success", "/v1/messages", msgs("claude", "success", ""), 200},
		{"messages fast path error in 200", "/v1/messages", msgs("claude", "error200", ""), 502},
		{"messages fast path stream", "/v1/messages", msgs("claude", "success", stream), 200},
		{"messages translated success", "/v1/messages", msgs("gpt", "success", ""), 200},
		{"messages translated error in 200", "/v1/messages", msgs("gpt", "error200", ""), 502},
		{"messages translated stream", "/v1/messages", msgs("gpt", "success", stream), 200},
		{"embeddings success", "/v1/embeddings", `{"model":"gpt","input":"success"}`, 200},
		{"embeddings error in 200", "/v1/embeddings", `{"model":"gpt","input":"error200"}`, 502},
		{"count_tokens", "/v1/messages/count_tokens", msgs("claude", "success", ""), 200},
		{"count_tokens error in 200", "/v1/messages/count_tokens", msgs("claude", "error200", ""), 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := up.sawKey.Load()
			resp, body := g.do("POST", tc.path, tc.body, "anthropic-version", "2023-06-01")
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if up.sawKey.Load() == before {
				t.Fatal("the upstream was not called with the key: nothing was checked")
			}
			all := fmt.Sprint(resp.Header) + "\n" + body
			for _, s := range canaryForms {
				if strings.Contains(all, s) {
					t.Errorf("%q reached the client:\n%s", s, all)
				}
			}
		})
	}
	for _, s := range canaryForms {
		if strings.Contains(g.logs.String(), s) {
			t.Errorf("%q in the logs:\n%s", s, g.logs.String())
		}
	}
}

// A 200 that is not a chat completion is answered 502 upstream_error in the
// route's error shape, after every attempt failed (each counted as failed
// and logged once), and never passed off as a success.
func TestGarbage200Through502(t *testing.T) {
	g, _ := newEchoGateway(t)
	for _, tc := range []struct{ name, path, model, word string }{
		{"openai junk", "/v1/chat/completions", "gpt", "garbage"},
		{"openai nested 10 million deep", "/v1/chat/completions", "gpt", "nested"},
		{"anthropic junk", "/v1/messages", "claude", "garbage"},
		{"anthropic nested 10 million deep", "/v1/messages", "claude", "nested"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := "garbage-" + strings.ReplaceAll(tc.name, " ", "-")
			resp, body := g.do("POST", tc.path, `{"model":"`+tc.model+`","max_tokens":5,"messages":[{"role":"user","content":"`+tc.word+`"}]}`,
				"anthropic-version", "2023-06-01", "X-Request-Id", id)
			if resp.StatusCode != http.StatusBadGateway {
				t.Fatalf("status %d, want 502: %.200s", resp.StatusCode, body)
			}
			if strings.HasPrefix(tc.path, "/v1/messages") {
				if gjson.Get(body, "type").String() != "error" || gjson.Get(body, "error.type").String() != "api_error" {
					t.Errorf("not Anthropic's error shape: %s", body)
				}
			} else {
				checkErrorShape(t, body)
				if c := gjson.Get(body, "error.code").String(); c != "upstream_error" {
					t.Errorf("code %q, want upstream_error", c)
				}
			}
			if a := resp.Header.Get("X-Llmgw-Attempts"); a != "2" {
				t.Errorf("x-llmgw-attempts %q, want 2: each attempt failed and was retried", a)
			}
			if strings.Contains(body, canaryKey) {
				t.Errorf("key in the answer: %s", body)
			}
			var warns int
			for _, l := range strings.Split(g.logs.String(), "\n") {
				if strings.Contains(l, `"msg":"upstream attempt failed"`) && strings.Contains(l, id) {
					warns++
				}
			}
			if warns != 2 {
				t.Errorf("%d attempt failures logged for the request, want 2:\n%s", warns, g.logs.String())
			}
		})
	}
	_, metrics := g.do("GET", "/metrics", "")
	for _, p := range []string{"oai", "ant"} {
		if !strings.Contains(metrics, `llmgw_upstream_attempts_total{model="`) || !strings.Contains(metrics, `outcome="error",provider="`+p+`"} 4`) {
			t.Errorf("failed attempts of %s not counted:\n%s", p, grep(metrics, "llmgw_upstream_attempts_total"))
		}
	}
}

// grep returns the lines of s that contain sub.
func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
