package server

import (
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/protocol/anthropic"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// anthropicStreamUsage returns the usage of a stream's message_start and
// message_delta events.
func anthropicStreamUsage(t *testing.T, body string) (start, delta gjson.Result) {
	t.Helper()
	for _, ev := range events(t, body) {
		switch gjson.Get(ev, "type").String() {
		case "message_start":
			start = gjson.Get(ev, "message.usage")
		case "message_delta":
			delta = gjson.Get(ev, "usage")
		}
	}
	if !start.IsObject() || !delta.IsObject() {
		t.Fatalf("no usage in message_start or message_delta:\n%s", body)
	}
	return start, delta
}

// message_start of a translated stream states the input tokens, as
// Anthropic's does and as LangChain's ChatAnthropic reads them: the mock's
// exact count, and for an OpenAI upstream, which states usage only at the
// end, the count_tokens estimate, corrected in message_delta.
func TestMessagesStreamInputTokens(t *testing.T) {
	g := newGateway(t, baseConfig, nil)
	const msgs = `"max_tokens":50,"messages":[{"role":"user","content":"one two three four five six"}]}`

	resp, body := g.do("POST", "/v1/messages", `{"model":"mock",`+msgs)
	want := gjson.Get(body, "usage.input_tokens").Int()
	if resp.StatusCode != 200 || want <= 0 {
		t.Fatalf("unary mock answer %d: %s", resp.StatusCode, body)
	}
	resp, body = g.do("POST", "/v1/messages", `{"model":"mock","stream":true,`+msgs)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	start, delta := anthropicStreamUsage(t, body)
	if start.Get("input_tokens").Int() != want || delta.Get("input_tokens").Int() != want {
		t.Errorf("mock: message_start %s, message_delta %s, want input_tokens %d in both", start.Raw, delta.Raw, want)
	}

	g.up.Enqueue(providertest.Response{SSE: providertest.Load(t, "openai/stream_text.sse")})
	resp, body = g.do("POST", "/v1/messages", `{"model":"gpt","stream":true,`+msgs)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	req, err := anthropic.DecodeMessagesRequest([]byte(`{"model":"gpt",` + msgs))
	if err != nil {
		t.Fatal(err)
	}
	start, delta = anthropicStreamUsage(t, body)
	if got, est := start.Get("input_tokens").Int(), int64(anthropic.EstimateTokens(req)); got != est || est <= 0 {
		t.Errorf("OpenAI upstream: message_start input_tokens %d, want the estimate %d", got, est)
	}
	// The capture's final usage: prompt_tokens 12, completion_tokens 9.
	if delta.Get("input_tokens").Int() != 12 || delta.Get("output_tokens").Int() != 9 {
		t.Errorf("OpenAI upstream: message_delta usage %s, want input 12 and output 9", delta.Raw)
	}
}
