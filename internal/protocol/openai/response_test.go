package openai

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/llmgw/llmgw/internal/llm"
)

// openAIResponse is a chat.completion body as OpenAI sends it, with a tool
// call, annotations and full usage details.
const openAIResponse = `{
  "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
  "object": "chat.completion",
  "created": 1741570283,
  "model": "gpt-4o-2024-08-06",
  "choices": [
    {
      "index": 0,
      "message": {
        "role": "assistant",
        "content": "Let me check.",
        "refusal": null,
        "annotations": [],
        "tool_calls": [
          {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
          {"id": "call_2", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Rome\"}"}}
        ]
      },
      "logprobs": null,
      "finish_reason": "tool_calls"
    }
  ],
  "usage": {
    "prompt_tokens": 1117,
    "completion_tokens": 46,
    "total_tokens": 1163,
    "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 12, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
  },
  "service_tier": "default",
  "system_fingerprint": "fp_fc9f1d7035"
}`

func TestDecodeChatResponse(t *testing.T) {
	c, err := DecodeChatResponse([]byte(openAIResponse))
	if err != nil {
		t.Fatal(err)
	}
	want := &llm.Chunk{
		ID: "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG", Model: "gpt-4o-2024-08-06", Created: 1741570283,
		SystemFingerprint: "fp_fc9f1d7035", ServiceTier: "default",
		Choices: []llm.Choice{{
			Index: 0,
			Message: llm.Message{
				Role:    llm.RoleAssistant,
				Content: []llm.Part{llm.TextPart("Let me check.")},
				ToolCalls: []llm.ToolCall{
					{Index: 0, ID: "call_1", Type: "function", Name: "get_weather", Arguments: `{"city":"Paris"}`},
					{Index: 1, ID: "call_2", Type: "function", Name: "get_weather", Arguments: `{"city":"Rome"}`},
				},
				Extra:         map[string]json.RawMessage{"annotations": json.RawMessage(`[]`)},
				ExtraProtocol: Protocol,
			},
			FinishReason: llm.FinishToolCalls,
		}},
		Usage: &llm.Usage{PromptTokens: 1117, CompletionTokens: 46, TotalTokens: 1163, CachedTokens: 1024, ReasoningTokens: 12},
	}
	if diff := cmp.Diff(want, c, rawJSONEqual); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	// Folding the whole response keeps the two calls apart.
	var acc llm.Accumulator
	acc.Add(c)
	if got := acc.Response().Choices[0].Message.ToolCalls; len(got) != 2 || got[1].Arguments != `{"city":"Rome"}` {
		t.Errorf("accumulated tool calls = %+v", got)
	}
}

func TestChatResponseRoundTrip(t *testing.T) {
	c, err := DecodeChatResponse([]byte(openAIResponse))
	if err != nil {
		t.Fatal(err)
	}
	body, err := EncodeChatResponse(c)
	if err != nil {
		t.Fatal(err)
	}
	validateAgainst(t, "CreateChatCompletionResponse", body)
	again, err := DecodeChatResponse(body)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c, again, rawJSONEqual); diff != "" {
		t.Errorf("round trip changed the response (-first +second):\n%s", diff)
	}
}

func TestEncodeChatResponse(t *testing.T) {
	cases := []struct {
		name string
		c    *llm.Chunk
		want string
	}{
		{"tool calls only: content null",
			&llm.Chunk{ID: "r1", Model: "m", Created: 7, Choices: []llm.Choice{{
				Message:      llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "c", Type: "function", Name: "f", Arguments: "{}"}}},
				FinishReason: llm.FinishToolCalls,
			}}, Usage: &llm.Usage{PromptTokens: 3, CompletionTokens: 4}},
			`{"id":"r1","object":"chat.completion","created":7,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},"logprobs":null,"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}`},
		{"thinking as reasoning_content, cache writes, no finish reason",
			&llm.Chunk{ID: "r2", Model: "m", Created: 7, Choices: []llm.Choice{{
				Message: llm.Message{Role: llm.RoleAssistant, Content: []llm.Part{{Type: llm.PartThinking, Text: "think"}, llm.TextPart("a"), llm.TextPart("b")}},
			}}, Usage: &llm.Usage{PromptTokens: 10, CompletionTokens: 2, TotalTokens: 12, CachedTokens: 4, CacheCreationTokens: 6}},
			`{"id":"r2","object":"chat.completion","created":7,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ab","refusal":null,"reasoning_content":"think"},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":2,"total_tokens":12,"prompt_tokens_details":{"cached_tokens":4,"cache_write_tokens":6},"completion_tokens_details":{"reasoning_tokens":0}}}`},
		{"refusal",
			&llm.Chunk{ID: "r3", Model: "m", Created: 7, Choices: []llm.Choice{{
				Message: llm.Message{Role: llm.RoleAssistant, Refusal: "I can't help with that."}, FinishReason: llm.FinishStop,
				Logprobs: json.RawMessage(`{"content": null, "refusal": []}`),
			}}},
			`{"id":"r3","object":"chat.completion","created":7,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"I can't help with that."},"logprobs":{"content":null,"refusal":[]},"finish_reason":"stop"}]}`},
		{"raw OpenAI body is sent as it is",
			&llm.Chunk{Raw: []byte(`{"id":"raw"}`), RawProtocol: Protocol},
			`{"id":"raw"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := EncodeChatResponse(tc.c)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if tc.c.Raw == nil {
				validateAgainst(t, "CreateChatCompletionResponse", got)
			}
		})
	}
}

func TestDecodeChatResponseErrors(t *testing.T) {
	cases := []struct {
		name, body string
		upstream   bool
	}{
		{"not JSON", `<html>bad gateway</html>`, false},
		{"wrong type", `{"id":5}`, false},
		{"error object", `{"error":{"message":"boom","type":"server_error"}}`, true},
		{"bad message", `{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":5}}]}`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeChatResponse([]byte(tc.body))
			if err == nil {
				t.Fatal("no error")
			}
			var e *llm.Error
			isLLM := errors.As(err, &e)
			if isLLM != tc.upstream {
				t.Fatalf("error %v: *llm.Error = %v, want %v", err, isLLM, tc.upstream)
			}
			if isLLM && (e.Kind != llm.KindUpstream || e.PublicMessage() != "boom") {
				t.Errorf("error = %+v", e)
			}
		})
	}
}
