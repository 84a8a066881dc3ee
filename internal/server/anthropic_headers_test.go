package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/pipeline"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// betaConfig routes "plain" to an Anthropic provider with no configured
// headers and "configured" to one with a configured beta and version.
const betaConfig = `
providers:
  - name: plain
    type: anthropic
    base_url: "${UP}"
    api_key: "sk-ant-upstream"
  - name: configured
    type: anthropic
    base_url: "${UP}"
    api_key: "sk-ant-upstream"
    headers:
      anthropic-beta: "configured-beta-2025-01-01"
      anthropic-version: "2099-01-01"
models:
  - name: plain
    targets: [{provider: plain, model: "claude-x"}]
  - name: configured
    targets: [{provider: configured, model: "claude-x"}]
`

// betaGateway serves betaConfig in front of a fake Anthropic upstream; with
// translate, every call is taken off the fast path.
func betaGateway(t *testing.T, translate bool) (string, *providertest.Anthropic) {
	t.Helper()
	up := providertest.NewAnthropic(t)
	snap := compileConfig(t, betaConfig, map[string]string{"UP": up.URL}, gateway.Options{})
	if translate {
		fast := snap.Invoke
		snap.Invoke = func(ctx context.Context, c *pipeline.Call) (llm.Stream, error) {
			c.NeedBody()
			return fast(ctx, c)
		}
	}
	ts := httptest.NewServer(New(snap, slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(ts.Close)
	return ts.URL, up
}

// The client's anthropic-beta and anthropic-version reach an Anthropic
// upstream, forwarded or translated, merged with the configured ones: the
// betas joined (configured first), a configured version winning. Several
// header lines make one list.
func TestAnthropicHeadersForwarded(t *testing.T) {
	for _, translate := range []bool{false, true} {
		for _, tc := range []struct {
			model       string
			betaLines   []string
			version     string
			wantBeta    string
			wantVersion string
		}{
			{"plain", nil, "", "", "2023-06-01"},
			{"plain", []string{"tools-2024-04-04, prompt-caching-2024-07-31"}, "2023-01-01", "tools-2024-04-04,prompt-caching-2024-07-31", "2023-01-01"},
			{"plain", []string{"a-1", "b-2,a-1"}, "", "a-1,b-2", "2023-06-01"},
			{"configured", nil, "2023-06-01", "configured-beta-2025-01-01", "2099-01-01"},
			{"configured", []string{"interleaved-thinking-2025-05-14,configured-beta-2025-01-01"}, "2023-06-01",
				"configured-beta-2025-01-01,interleaved-thinking-2025-05-14", "2099-01-01"},
		} {
			name := tc.model + "/" + strings.Join(tc.betaLines, "+")
			if translate {
				name += "/translated"
			}
			t.Run(name, func(t *testing.T) {
				url, up := betaGateway(t, translate)
				for _, stream := range []string{"false", "true"} {
					req, _ := http.NewRequest("POST", url+"/v1/messages", strings.NewReader(
						`{"model":"`+tc.model+`","max_tokens":5,"stream":`+stream+`,"messages":[{"role":"user","content":"hi"}]}`))
					for _, b := range tc.betaLines {
						req.Header.Add("anthropic-beta", b)
					}
					if tc.version != "" {
						req.Header.Set("anthropic-version", tc.version)
					}
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						t.Fatalf("status %d: %s", resp.StatusCode, b)
					}
					reqs := up.Requests()
					h := reqs[len(reqs)-1].Header
					if got := strings.Join(h.Values("anthropic-beta"), "|"); got != tc.wantBeta {
						t.Errorf("stream=%s: upstream anthropic-beta %q, want %q", stream, got, tc.wantBeta)
					}
					if got := strings.Join(h.Values("anthropic-version"), "|"); got != tc.wantVersion {
						t.Errorf("stream=%s: upstream anthropic-version %q, want %q", stream, got, tc.wantVersion)
					}
				}
			})
		}
	}
}

// count_tokens carries the client's betas too.
func TestAnthropicHeadersCountTokens(t *testing.T) {
	url, up := betaGateway(t, false)
	up.Enqueue(providertest.Response{Body: []byte(`{"input_tokens":7}`)})
	req, _ := http.NewRequest("POST", url+"/v1/messages/count_tokens", strings.NewReader(
		`{"model":"plain","messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("anthropic-beta", "token-counting-2024-11-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	reqs := up.Requests()
	if resp.StatusCode != 200 || len(reqs) != 1 || reqs[0].Header.Get("anthropic-beta") != "token-counting-2024-11-01" {
		t.Fatalf("status %d, upstream requests %d", resp.StatusCode, len(reqs))
	}
}

// An OpenAI client has no betas: an Anthropic upstream gets the configured
// ones only, whatever headers the client sent.
func TestAnthropicHeadersNotFromOpenAIClients(t *testing.T) {
	url, up := betaGateway(t, false)
	for _, model := range []string{"plain", "configured"} {
		req, _ := http.NewRequest("POST", url+"/v1/chat/completions", strings.NewReader(
			`{"model":"`+model+`","messages":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("anthropic-beta", "client-beta-1")
		req.Header.Set("anthropic-version", "2000-01-01")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		reqs := up.Requests()
		h := reqs[len(reqs)-1].Header
		want := map[string][2]string{"plain": {"", "2023-06-01"}, "configured": {"configured-beta-2025-01-01", "2099-01-01"}}[model]
		if resp.StatusCode != 200 || h.Get("anthropic-beta") != want[0] || h.Get("anthropic-version") != want[1] {
			t.Errorf("%s: status %d, upstream beta %q version %q, want %q", model, resp.StatusCode,
				h.Get("anthropic-beta"), h.Get("anthropic-version"), want)
		}
	}
}

// A header value that is not a list of plain names is refused, in
// Anthropic's shape, before any upstream call.
func TestAnthropicHeadersRefused(t *testing.T) {
	url, up := betaGateway(t, false)
	for _, tc := range []struct{ name, beta, version string }{
		{"space inside", "a b", ""},
		{"quote", `a"b`, ""},
		{"semicolon", "a;b", ""},
		{"too long", strings.Repeat("x", 129), ""},
		{"too many", strings.Repeat("b,", 65) + "b", ""},
		{"non-ascii", "bêta", ""},
		{"version", "", "2023-06-01; x=y"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", url+"/v1/messages", strings.NewReader(
				`{"model":"plain","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`))
			if tc.beta != "" {
				req.Header.Set("anthropic-beta", tc.beta)
			}
			if tc.version != "" {
				req.Header.Set("anthropic-version", tc.version)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 400 || !strings.Contains(string(b), `"type":"invalid_request_error"`) {
				t.Errorf("status %d body %s", resp.StatusCode, b)
			}
		})
	}
	if n := len(up.Requests()); n != 0 {
		t.Errorf("%d upstream requests", n)
	}
}
