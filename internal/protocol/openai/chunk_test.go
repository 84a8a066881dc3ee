package openai

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/llmgw/llmgw/internal/llm"
)

func TestAppendChunk(t *testing.T) {
	cases := []struct {
		name string
		c    *llm.Chunk
		want string
	}{
		{"role opener",
			&llm.Chunk{ID: "c1", Model: "m", Created: 9, SystemFingerprint: "fp", Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant, Content: []llm.Part{llm.TextPart("")}}}}},
			`{"id":"c1","object":"chat.completion.chunk","created":9,"model":"m","system_fingerprint":"fp","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`},
		{"text with escapes",
			&llm.Chunk{ID: "c1", Model: "m", Created: 9, Choices: []llm.Choice{{Message: llm.Message{Content: []llm.Part{llm.TextPart("say \"hi\"\n\t<b>\u2028\x01")}}}}},
			`{"id":"c1","object":"chat.completion.chunk","created":9,"model":"m","choices":[{"index":0,"delta":{"content":"say \"hi\"\n\t<b>\u2028\u0001"},"finish_reason":null}]}`},
		{"tool call opener and fragment",
			&llm.Chunk{ID: "c1", Model: "m", Created: 9, Choices: []llm.Choice{{Message: llm.Message{ToolCalls: []llm.ToolCall{
				{Index: 0, ID: "call_1", Type: "function", Name: "f", Arguments: ""},
				{Index: 1, Arguments: `{"a":`},
			}}}}},
			`{"id":"c1","object":"chat.completion.chunk","created":9,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":""}},{"index":1,"function":{"arguments":"{\"a\":"}}]},"finish_reason":null}]}`},
		{"finish with logprobs",
			&llm.Chunk{ID: "c1", Model: "m", Created: 9, ServiceTier: "default", Choices: []llm.Choice{{Index: 1, FinishReason: llm.FinishLength, Logprobs: json.RawMessage(`{"content": [], "refusal": null}`)}}},
			`{"id":"c1","object":"chat.completion.chunk","created":9,"model":"m","service_tier":"default","choices":[{"index":1,"delta":{},"logprobs":{"content":[],"refusal":null},"finish_reason":"length"}]}`},
		{"usage chunk",
			&llm.Chunk{ID: "c1", Model: "m", Created: 9, Usage: &llm.Usage{PromptTokens: 5, CompletionTokens: 7, ReasoningTokens: 2}},
			`{"id":"c1","object":"chat.completion.chunk","created":9,"model":"m","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":2}}}`},
		{"thinking delta",
			&llm.Chunk{ID: "c1", Model: "m", Created: 9, Choices: []llm.Choice{{Message: llm.Message{Content: []llm.Part{{Type: llm.PartThinking, Text: "hm"}}}}}},
			`{"id":"c1","object":"chat.completion.chunk","created":9,"model":"m","choices":[{"index":0,"delta":{"reasoning_content":"hm"},"finish_reason":null}]}`},
		{"refusal delta",
			&llm.Chunk{ID: "c1", Model: "m", Created: 9, Choices: []llm.Choice{{Message: llm.Message{Refusal: "no"}}}},
			`{"id":"c1","object":"chat.completion.chunk","created":9,"model":"m","choices":[{"index":0,"delta":{"refusal":"no"},"finish_reason":null}]}`},
		{"invalid UTF-8 replaced",
			&llm.Chunk{ID: "c1", Model: "m", Created: 9, Choices: []llm.Choice{{Message: llm.Message{Content: []llm.Part{llm.TextPart("a\xffb")}}}}},
			`{"id":"c1","object":"chat.completion.chunk","created":9,"model":"m","choices":[{"index":0,"delta":{"content":"a\ufffdb"},"finish_reason":null}]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			prefix := []byte("data: ")
			got, err := AppendChunk(prefix, tc.c)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(got), "data: ") {
				t.Fatalf("AppendChunk did not append to dst: %s", got)
			}
			body := got[len(prefix):]
			if string(body) != tc.want {
				t.Errorf("got  %s\nwant %s", body, tc.want)
			}
			validateAgainst(t, "CreateChatCompletionStreamResponse", body)
			// What AppendChunk writes, DecodeChunk reads back.
			back, err := DecodeChunk(body)
			if err != nil {
				t.Fatal(err)
			}
			again, err := AppendChunk(nil, back)
			if err != nil {
				t.Fatal(err)
			}
			back2, err := DecodeChunk(again)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(back, back2, rawJSONEqual); diff != "" {
				t.Errorf("decode of the re-encoded chunk differs (-first +second):\n%s", diff)
			}
		})
	}
}

func TestAppendChunkRaw(t *testing.T) {
	raw := []byte(`{"id":"upstream","object":"chat.completion.chunk"}`)
	got, err := AppendChunk([]byte("x"), &llm.Chunk{Raw: raw, RawProtocol: Protocol, Model: "ignored"})
	if err != nil || string(got) != "x"+string(raw) {
		t.Errorf("got %s, %v", got, err)
	}
	// Raw of another protocol is not OpenAI's: the fields are encoded.
	got, err = AppendChunk(nil, &llm.Chunk{Raw: []byte(`{"type":"ping"}`), RawProtocol: "anthropic", ID: "a", Model: "m"})
	if err != nil || !strings.Contains(string(got), `"id":"a"`) {
		t.Errorf("got %s, %v", got, err)
	}
}

func TestDecodeChunk(t *testing.T) {
	data := `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","service_tier":"default","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel","reasoning_content":"r","refusal":null},"logprobs":{"content":[{"token":"Hel","logprob":-0.1,"bytes":[72,101,108],"top_logprobs":[]}],"refusal":null},"finish_reason":null}],"usage":null,"obfuscation":"r4N7"}`
	c, err := DecodeChunk([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	want := &llm.Chunk{
		ID: "chatcmpl-1", Model: "gpt-4o-mini", Created: 1694268190, SystemFingerprint: "fp_44709d6fcb", ServiceTier: "default",
		Choices: []llm.Choice{{
			Message:  llm.Message{Role: llm.RoleAssistant, Content: []llm.Part{{Type: llm.PartThinking, Text: "r"}, llm.TextPart("Hel")}},
			Logprobs: json.RawMessage(`{"content":[{"token":"Hel","logprob":-0.1,"bytes":[72,101,108],"top_logprobs":[]}],"refusal":null}`),
		}},
	}
	if diff := cmp.Diff(want, c, rawJSONEqual); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := DecodeChunk([]byte(`{"choices":[{"delta":{"content":5}}]}`)); err == nil {
		t.Error("bad delta decoded without error")
	}
}

// TestStreamedToolCall feeds a tool call whose arguments arrive in many
// pieces, as OpenAI streams them, through DecodeChunk and llm.Accumulator.
func TestStreamedToolCall(t *testing.T) {
	head := `{"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[`
	frames := []string{
		head + `{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":""}}]},"logprobs":null,"finish_reason":null}]}`,
	}
	args := `{"city":"São Paulo","unit":"celsius","days":[1,2,3]}`
	for i := 0; i < len(args); i += 3 {
		piece, _ := json.Marshal(args[i:min(i+3, len(args))])
		frames = append(frames, head+`{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":`+string(piece)+`}}]},"logprobs":null,"finish_reason":null}]}`)
	}
	frames = append(frames,
		head+`{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"get_time","arguments":"{}"}}]},"finish_reason":null}]}`,
		head+`{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}]}`,
		`{"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":20,"completion_tokens":15,"total_tokens":35}}`,
	)
	var acc llm.Accumulator
	for i, f := range frames {
		c, err := DecodeChunk([]byte(f))
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		acc.Add(c)
	}
	r := acc.Response()
	if len(r.Choices) != 1 {
		t.Fatalf("choices = %+v", r.Choices)
	}
	want := []llm.ToolCall{
		{Index: 0, ID: "call_a", Type: "function", Name: "get_weather", Arguments: args},
		{Index: 1, ID: "call_b", Type: "function", Name: "get_time", Arguments: "{}"},
	}
	if diff := cmp.Diff(want, r.Choices[0].Message.ToolCalls); diff != "" {
		t.Errorf("tool calls (-want +got):\n%s", diff)
	}
	if r.Choices[0].FinishReason != llm.FinishToolCalls {
		t.Errorf("finish reason = %q", r.Choices[0].FinishReason)
	}
	if r.Usage == nil || r.Usage.TotalTokens != 35 {
		t.Errorf("usage = %+v", r.Usage)
	}
	// The folded response encodes as a valid non-streamed body.
	body, err := EncodeChatResponse(r)
	if err != nil {
		t.Fatal(err)
	}
	validateAgainst(t, "CreateChatCompletionResponse", body)
}

func TestDecodeChunkErrorInStream(t *testing.T) {
	cases := []struct {
		name, data, msg string
	}{
		{"openai error object", `{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}`, "The server had an error while processing your request."},
		{"error string", `{"error":"model overloaded"}`, "model overloaded"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := DecodeChunk([]byte(tc.data))
			if err == nil {
				t.Fatalf("decoded %+v", c)
			}
			var e *llm.Error
			if !errors.As(err, &e) {
				t.Fatalf("%v is not an *llm.Error", err)
			}
			if e.Kind != llm.KindUpstream || e.PublicMessage() != tc.msg {
				t.Errorf("kind %v message %q", e.Kind, e.PublicMessage())
			}
			if !e.Retryable() {
				t.Error("an upstream error in a stream should be retryable before the first byte")
			}
		})
	}
}

func TestScanUsage(t *testing.T) {
	cases := []struct {
		name string
		data string
		want llm.Usage
		ok   bool
	}{
		{"usage chunk", `{"id":"x","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":3,"cache_write_tokens":2},"completion_tokens_details":{"reasoning_tokens":4}}}`,
			llm.Usage{PromptTokens: 10, CompletionTokens: 5, TotalTokens: 15, CachedTokens: 3, CacheCreationTokens: 2, ReasoningTokens: 4}, true},
		{"whole response", openAIResponse, llm.Usage{PromptTokens: 1117, CompletionTokens: 46, TotalTokens: 1163, CachedTokens: 1024, ReasoningTokens: 12}, true},
		{"null details", `{"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3,"prompt_tokens_details":null}}`, llm.Usage{PromptTokens: 1, CompletionTokens: 2, TotalTokens: 3}, true},
		{"usage null", `{"choices":[{"delta":{}}],"usage":null}`, llm.Usage{}, false},
		{"no usage", `{"choices":[{"delta":{"content":"hi"}}]}`, llm.Usage{}, false},
		{"usage nested elsewhere only", `{"choices":[{"delta":{"content":"{\"usage\":{}}"}}]}`, llm.Usage{}, false},
		{"junk", `not json`, llm.Usage{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ScanUsage([]byte(tc.data))
			if got != tc.want || ok != tc.ok {
				t.Errorf("got %+v %v, want %+v %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestIsUsageOnlyChunk(t *testing.T) {
	cases := []struct {
		name string
		data string
		want bool
	}{
		{"usage chunk", `{"id":"x","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`, true},
		{"usage chunk with spaces", `{"choices": [ ], "usage": {"prompt_tokens": 1}}`, true},
		{"content chunk with null usage", `{"choices":[{"index":0,"delta":{"content":"hi"}}],"usage":null}`, false},
		{"last content chunk carrying usage", `{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":1}}`, false},
		{"no usage", `{"choices":[]}`, false},
		{"junk", `[DONE]`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsUsageOnlyChunk([]byte(tc.data)); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// Servers that name the reasoning text "reasoning" (vLLM since its rename,
// Groq, Ollama, OpenRouter) get it read like "reasoning_content", in chunks
// and whole messages; reasoning_content wins when both come, and a
// "reasoning" that is no string is not reasoning text.
func TestDecodeReasoningField(t *testing.T) {
	thinking := func(m *llm.Message) string {
		var s string
		for _, p := range m.Content {
			if p.Type == llm.PartThinking {
				s += p.Text
			}
		}
		return s
	}
	for _, tt := range []struct{ fields, want string }{
		{`"reasoning":"step one"`, "step one"},
		{`"reasoning_content":"rc","reasoning":"rc"`, "rc"},
		{`"reasoning":{"effort":"low"}`, ""},
		{`"reasoning":null`, ""},
	} {
		c, err := DecodeChunk([]byte(`{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"a",` + tt.fields + `},"finish_reason":null}]}`))
		if err != nil {
			t.Fatalf("%s: %v", tt.fields, err)
		}
		if got := thinking(&c.Choices[0].Message); got != tt.want {
			t.Errorf("chunk %s: thinking %q, want %q", tt.fields, got, tt.want)
		}
		r, err := DecodeChatResponse([]byte(`{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"a",` + tt.fields + `},"finish_reason":"stop"}]}`))
		if err != nil {
			t.Fatalf("%s: %v", tt.fields, err)
		}
		if got := thinking(&r.Choices[0].Message); got != tt.want {
			t.Errorf("message %s: thinking %q, want %q", tt.fields, got, tt.want)
		}
	}
}
