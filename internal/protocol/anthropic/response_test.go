package anthropic

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/openai"
)

// anthropicResponse is a Message body as the Messages API returns it.
const anthropicResponse = `{
  "id": "msg_01Aq9w938a90dw8q",
  "type": "message",
  "role": "assistant",
  "model": "claude-sonnet-4-5-20250929",
  "content": [
    {"type": "thinking", "thinking": "Need the weather.", "signature": "EqQBCgIYAhIM"},
    {"type": "text", "text": "I'll check.", "citations": null},
    {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {"location": "San Francisco, CA", "unit": "celsius"}},
    {"type": "tool_use", "id": "toolu_01B", "name": "get_time", "input": {}}
  ],
  "stop_reason": "tool_use",
  "stop_sequence": null,
  "usage": {"input_tokens": 2095, "cache_creation_input_tokens": 100, "cache_read_input_tokens": 1000, "output_tokens": 503, "service_tier": "standard"}
}`

func TestDecodeMessagesResponse(t *testing.T) {
	c, err := DecodeMessagesResponse([]byte(anthropicResponse))
	if err != nil {
		t.Fatal(err)
	}
	want := &llm.Chunk{
		ID: "msg_01Aq9w938a90dw8q", Model: "claude-sonnet-4-5-20250929",
		Choices: []llm.Choice{{
			Message: llm.Message{
				Role:    llm.RoleAssistant,
				Content: []llm.Part{{Type: llm.PartThinking, Text: "Need the weather.", Signature: "EqQBCgIYAhIM"}, llm.TextPart("I'll check.")},
				ToolCalls: []llm.ToolCall{
					{Index: 0, ID: "toolu_01A", Type: "function", Name: "get_weather", Arguments: `{"location":"San Francisco, CA","unit":"celsius"}`},
					{Index: 1, ID: "toolu_01B", Type: "function", Name: "get_time", Arguments: `{}`},
				},
			},
			FinishReason: llm.FinishToolCalls,
		}},
		Usage: &llm.Usage{PromptTokens: 3195, CompletionTokens: 503, TotalTokens: 3698, CachedTokens: 1000, CacheCreationTokens: 100},
	}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	// Back to an Anthropic client: the same message.
	body, err := EncodeMessagesResponse(c)
	if err != nil {
		t.Fatal(err)
	}
	const wantBody = `{"id":"msg_01Aq9w938a90dw8q","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[` +
		`{"type":"thinking","thinking":"Need the weather.","signature":"EqQBCgIYAhIM"},{"type":"text","text":"I'll check."},` +
		`{"type":"tool_use","id":"toolu_01A","name":"get_weather","input":{"location":"San Francisco, CA","unit":"celsius"}},` +
		`{"type":"tool_use","id":"toolu_01B","name":"get_time","input":{}}],"stop_reason":"tool_use","stop_sequence":null,` +
		`"usage":{"input_tokens":2095,"cache_creation_input_tokens":100,"cache_read_input_tokens":1000,"output_tokens":503}}`
	if string(body) != wantBody {
		t.Errorf("got  %s\nwant %s", body, wantBody)
	}

	// To an OpenAI client: tool calls and usage translated.
	oa, err := openai.EncodeChatResponse(c)
	if err != nil {
		t.Fatal(err)
	}
	back, err := openai.DecodeChatResponse(oa)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want.Choices[0].Message.ToolCalls, back.Choices[0].Message.ToolCalls); diff != "" {
		t.Errorf("tool calls through OpenAI (-want +got):\n%s", diff)
	}
	if *back.Usage != *want.Usage || back.Choices[0].FinishReason != llm.FinishToolCalls {
		t.Errorf("usage %+v, finish %q through OpenAI", *back.Usage, back.Choices[0].FinishReason)
	}
}

func TestDecodeMessagesResponseServerToolsAndError(t *testing.T) {
	body := `{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[
	  {"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{"query":"q"}},
	  {"type":"redacted_thinking","data":"xyz"},
	  {"type":"text","text":"done"}],
	  "stop_reason":"stop_sequence","stop_sequence":"END","usage":{"input_tokens":1,"output_tokens":2}}`
	c, err := DecodeMessagesResponse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	ch := c.Choices[0]
	if ch.FinishReason != llm.FinishStop || ch.StopSequence != "END" || ch.Message.ExtraProtocol != Protocol {
		t.Errorf("choice = %+v", ch)
	}
	enc, err := EncodeMessagesResponse(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`{"type":"redacted_thinking","data":"xyz"},{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{"query":"q"}},{"type":"text","text":"done"}`, `"stop_reason":"stop_sequence","stop_sequence":"END"`} {
		if !strings.Contains(string(enc), s) {
			t.Errorf("encoded %s\nwant it to contain %s", enc, s)
		}
	}
	// An OpenAI client is not sent the server tool block.
	oa, err := openai.EncodeChatResponse(c)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(oa), "server_tool_use") {
		t.Errorf("OpenAI response carries an Anthropic block: %s", oa)
	}

	_, err = DecodeMessagesResponse([]byte(`{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}`))
	var e *llm.Error
	if !errors.As(err, &e) || e.Kind != llm.KindRateLimited || e.UpstreamStatus != 429 {
		t.Errorf("error body: %v", err)
	}
	if _, err := DecodeMessagesResponse([]byte(`{"content":5}`)); err == nil {
		t.Error("malformed body decoded without error")
	}
}

func TestEncodeMessagesResponseFromOpenAI(t *testing.T) {
	c := &llm.Chunk{
		ID: "chatcmpl-123", Model: "gpt-4o",
		Choices: []llm.Choice{{
			Message: llm.Message{Role: llm.RoleAssistant, Content: []llm.Part{{Type: llm.PartThinking, Text: "hmm"}, llm.TextPart("")},
				ToolCalls: []llm.ToolCall{{ID: "call_1", Name: "f", Arguments: `{"a":1}`}, {ID: "call_2", Name: "g", Arguments: `{broken`}},
				Extra:     map[string]json.RawMessage{"annotations": json.RawMessage(`[]`)}, ExtraProtocol: openai.Protocol},
			FinishReason: llm.FinishStop, // some OpenAI-compatible servers say stop after tool calls
		}},
		Usage: &llm.Usage{PromptTokens: 100, CompletionTokens: 20, CachedTokens: 40, ReasoningTokens: 5},
	}
	got, err := EncodeMessagesResponse(c)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"id":"msg_chatcmpl-123","type":"message","role":"assistant","model":"gpt-4o","content":[` +
		`{"type":"thinking","thinking":"hmm","signature":""},` +
		`{"type":"tool_use","id":"call_1","name":"f","input":{"a":1}},{"type":"tool_use","id":"call_2","name":"g","input":{}}],` +
		`"stop_reason":"tool_use","stop_sequence":null,` +
		`"usage":{"input_tokens":60,"cache_creation_input_tokens":0,"cache_read_input_tokens":40,"output_tokens":20,"output_tokens_details":{"thinking_tokens":5}}}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	raw := &llm.Chunk{Raw: []byte(`{"id":"msg_x"}`), RawProtocol: Protocol}
	if got, _ := EncodeMessagesResponse(raw); string(got) != `{"id":"msg_x"}` {
		t.Errorf("raw body not passed through: %s", got)
	}
}

func TestStopReasons(t *testing.T) {
	for _, tc := range []struct {
		anthropic string
		canonical llm.FinishReason
		back      string
	}{
		{"end_turn", llm.FinishStop, "end_turn"},
		{"stop_sequence", llm.FinishStop, "end_turn"}, // without the sequence
		{"pause_turn", llm.FinishStop, "end_turn"},
		{"max_tokens", llm.FinishLength, "max_tokens"},
		{"model_context_window_exceeded", llm.FinishLength, "max_tokens"},
		{"tool_use", llm.FinishToolCalls, "tool_use"},
		{"refusal", llm.FinishContentFilter, "refusal"},
		{"", "", "end_turn"},
	} {
		got := FinishReason(tc.anthropic)
		if got != tc.canonical {
			t.Errorf("FinishReason(%q) = %q, want %q", tc.anthropic, got, tc.canonical)
		}
		if back := StopReason(&llm.Choice{FinishReason: got}, false); back != tc.back {
			t.Errorf("StopReason(%q) = %q, want %q", got, back, tc.back)
		}
	}
	if got := StopReason(&llm.Choice{FinishReason: llm.FinishStop, StopSequence: "END"}, false); got != "stop_sequence" {
		t.Errorf("stop with a sequence = %q", got)
	}
}

func TestScanUsage(t *testing.T) {
	cases := []struct {
		event, data string
		want        llm.Usage
		ok          bool
	}{
		{"message_start", `{"type":"message_start","message":{"id":"m","usage":{"input_tokens":10,"cache_read_input_tokens":90,"cache_creation_input_tokens":null,"output_tokens":1}}}`,
			llm.Usage{PromptTokens: 100, CompletionTokens: 1, TotalTokens: 101, CachedTokens: 90}, true},
		{"message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":15}}`,
			llm.Usage{CompletionTokens: 15, TotalTokens: 15}, true},
		{"", `{"id":"m","usage":{"input_tokens":3,"output_tokens":4,"output_tokens_details":{"thinking_tokens":2}}}`,
			llm.Usage{PromptTokens: 3, CompletionTokens: 4, TotalTokens: 7, ReasoningTokens: 2}, true},
		{"content_block_delta", `{"type":"content_block_delta","usage":{"output_tokens":1}}`, llm.Usage{}, false},
		{"message_delta", `{"type":"message_delta"}`, llm.Usage{}, false},
	}
	for _, tc := range cases {
		got, ok := ScanUsage(tc.event, []byte(tc.data))
		if ok != tc.ok || got != tc.want {
			t.Errorf("ScanUsage(%s) = %+v, %v; want %+v, %v", tc.event, got, ok, tc.want, tc.ok)
		}
	}
	var s UsageScanner
	s.Scan(cases[0].event, []byte(cases[0].data))
	got, _ := s.Scan(cases[1].event, []byte(cases[1].data))
	if want := (llm.Usage{PromptTokens: 100, CompletionTokens: 15, TotalTokens: 115, CachedTokens: 90}); got != want || s.Usage() != want {
		t.Errorf("UsageScanner = %+v, want %+v", got, want)
	}
}
