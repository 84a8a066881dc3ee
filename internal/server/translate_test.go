package server

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// An OpenAI client streaming from an Anthropic upstream sees OpenAI's usage
// rule: usage only in one last chunk with no choices, holding the whole
// count, and one id, model and non-zero created time on every chunk.
func TestTranslatedStreamUsageAndIdentity(t *testing.T) {
	up := providertest.NewAnthropic(t)
	cfg, err := config.Parse([]byte(`
providers: [{name: claude, type: anthropic, base_url: "${UP}", api_key: k}]
models: [{name: c, targets: [{provider: claude, model: claude-sonnet-4}]}]
`), func(k string) (string, bool) { return up.URL, k == "UP" })
	if err != nil {
		t.Fatal(err)
	}
	snap, err := gateway.Compile(cfg, gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(New(snap, slog.New(slog.NewJSONHandler(io.Discard, nil))))
	defer ts.Close()
	g := &testGateway{t: t, http: ts}

	for _, includeUsage := range []bool{true, false} {
		up.Enqueue(providertest.Response{SSE: providertest.Load(t, "anthropic/stream_text.sse")})
		opts := ""
		if includeUsage {
			opts = `,"stream_options":{"include_usage":true}`
		}
		resp, body := g.do("POST", "/v1/chat/completions", `{"model":"c","stream":true,"messages":[{"role":"user","content":"hi"}]`+opts+`}`)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		evs := events(t, body)
		if evs[len(evs)-1] != "[DONE]" {
			t.Fatalf("no [DONE]: %v", evs)
		}
		chunks := evs[:len(evs)-1]
		id := gjson.Get(chunks[0], "id").String()
		var text strings.Builder
		usageChunks := 0
		for i, c := range chunks {
			if gjson.Get(c, "id").String() != id || gjson.Get(c, "created").Int() == 0 || gjson.Get(c, "model").String() == "" {
				t.Errorf("chunk %d lacks the stream's identity: %s", i, c)
			}
			text.WriteString(gjson.Get(c, "choices.0.delta.content").String())
			if u := gjson.Get(c, "usage"); u.IsObject() {
				usageChunks++
				if i != len(chunks)-1 || len(gjson.Get(c, "choices").Array()) != 0 {
					t.Errorf("usage in chunk %d of %d, or with choices: %s", i, len(chunks), c)
				}
				if u.Get("prompt_tokens").Int() != 25 || u.Get("completion_tokens").Int() != 15 || u.Get("total_tokens").Int() != 40 {
					t.Errorf("usage %s, want 25 + 15 = 40", u.Raw)
				}
			}
		}
		want := 0
		if includeUsage {
			want = 1
		}
		if usageChunks != want {
			t.Errorf("include_usage=%v: %d usage chunks, want %d", includeUsage, usageChunks, want)
		}
		if text.String() != "Bonjour! Ça va très bien, merci 👋" {
			t.Errorf("text %q", text.String())
		}
		if gjson.Get(chunks[0], "choices.0.delta.role").String() != "assistant" {
			t.Errorf("first chunk has no role: %s", chunks[0])
		}
	}

	up.Enqueue(providertest.Response{Body: providertest.Load(t, "anthropic/message_text.json")})
	resp, body := g.do("POST", "/v1/chat/completions", `{"model":"c","messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 200 || gjson.Get(body, "created").Int() == 0 || !gjson.Get(body, "usage.total_tokens").Exists() {
		t.Errorf("unary translated response: %d %s", resp.StatusCode, body)
	}
}
