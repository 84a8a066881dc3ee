package tokens

import (
	"encoding/json"
	"testing"

	"github.com/llmgw/llmgw/internal/llm"
)

// Parts the cookbook's rule does not cover are still counted, never below
// the request without them, and the count says it is not exact.
func TestPartsOutsideTheRuleAreInexact(t *testing.T) {
	base := func() *llm.ChatRequest { return chatOf("What's the weather like in San Francisco?") }
	without, exact := Count(base(), "openai", "gpt-4o")
	if !exact {
		t.Fatal("the base request is not exact")
	}
	cases := map[string]func(*llm.ChatRequest){
		"assistant tool call": func(r *llm.ChatRequest) {
			r.Messages = append(r.Messages, llm.Message{Role: llm.RoleAssistant,
				ToolCalls: []llm.ToolCall{{ID: "call_1", Type: "function", Name: "get_weather", Arguments: `{"city":"Paris"}`}}})
		},
		"thinking block": func(r *llm.ChatRequest) {
			r.Messages[0].Content = append(r.Messages[0].Content, llm.Part{Type: llm.PartThinking, Text: "Let me think."})
		},
		"unknown part": func(r *llm.ChatRequest) {
			r.Messages[0].Content = append(r.Messages[0].Content, llm.Part{Type: llm.PartOther, Raw: json.RawMessage(`{"type":"input_audio"}`)})
		},
		"forced tool choice": func(r *llm.ChatRequest) {
			r.ToolChoice = &llm.ToolChoice{Mode: llm.ToolChoiceFunction, Name: "get_weather"}
		},
		"structured output schema": func(r *llm.ChatRequest) {
			r.ResponseFormat = &llm.ResponseFormat{Type: "json_schema", JSONSchema: &llm.JSONSchema{Name: "w", Schema: json.RawMessage(`{"type":"object"}`)}}
		},
		"nested tool schema": func(r *llm.ChatRequest) {
			r.Tools = []llm.Tool{{Type: "function", Name: "f", Parameters: json.RawMessage(
				`{"type":"object","properties":{"cities":{"type":"array","description":"Cities.","items":{"type":"string"}}}}`)}}
		},
		"non-function tool": func(r *llm.ChatRequest) {
			r.Tools = []llm.Tool{{Type: "web_search", Raw: json.RawMessage(`{"type":"web_search"}`)}}
		},
	}
	for name, add := range cases {
		req := base()
		add(req)
		n, exact := Count(req, "openai", "gpt-4o")
		if exact || n <= without {
			t.Errorf("%s: Count = %d, exact %v; want more than %d, not exact", name, n, exact, without)
		}
	}
}
