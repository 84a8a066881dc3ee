package tokens

import (
	"encoding/json"
	"testing"

	"github.com/llmgw/llmgw/internal/llm"
)

// The messages of OpenAI's cookbook "How to count tokens with tiktoken",
// section 6, whose prompt tokens the notebook shows as counted by the API:
// 129 for gpt-3.5-turbo and gpt-4 (cl100k_base), 124 for gpt-4o and
// gpt-4o-mini (o200k_base).
func cookbookMessages() []llm.Message {
	return []llm.Message{
		{Role: llm.RoleSystem, Content: []llm.Part{llm.TextPart("You are a helpful, pattern-following assistant that translates corporate jargon into plain English.")}},
		{Role: llm.RoleSystem, Name: "example_user", Content: []llm.Part{llm.TextPart("New synergies will help drive top-line growth.")}},
		{Role: llm.RoleSystem, Name: "example_assistant", Content: []llm.Part{llm.TextPart("Things working well together will increase revenue.")}},
		{Role: llm.RoleSystem, Name: "example_user", Content: []llm.Part{llm.TextPart("Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage.")}},
		{Role: llm.RoleSystem, Name: "example_assistant", Content: []llm.Part{llm.TextPart("Let's talk later when we're less busy about how to do better.")}},
		{Role: llm.RoleUser, Content: []llm.Part{llm.TextPart("This late pivot means we don't have time to boil the ocean for the client deliverable.")}},
	}
}

func TestCountCookbookMessages(t *testing.T) {
	cases := []struct {
		name, provider, model string
		want                  int
	}{
		{"gpt-3.5-turbo", "openai", "gpt-3.5-turbo", 129},
		{"gpt-4-0613", "openai", "gpt-4-0613", 129},
		{"gpt-4", "openai", "gpt-4", 129},
		{"gpt-4o", "openai", "gpt-4o", 124},
		{"gpt-4o-mini", "openai", "gpt-4o-mini", 124},
		{"azure deployment of gpt-35-turbo", "azure_openai", "gpt-35-turbo", 129},
		{"vllm serving an OpenAI id", "vllm", "gpt-4o-mini", 124},
		{"openai_compatible with a prefix", "openai_compatible", "openai/gpt-4o", 124},
		{"fine-tuned gpt-4o-mini", "openai", "ft:gpt-4o-mini-2024-07-18:acme::abc123", 124},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, exact := Count(&llm.ChatRequest{Messages: cookbookMessages()}, tc.provider, tc.model)
			if got != tc.want || !exact {
				t.Errorf("Count = %d, exact %v; the OpenAI API counted %d", got, exact, tc.want)
			}
		})
	}
}

// The tools and messages of the cookbook's section 7, with the prompt
// tokens the API counted: 105 for gpt-3.5-turbo and gpt-4, 101 for gpt-4o
// and gpt-4o-mini.
func TestCountCookbookTools(t *testing.T) {
	params := json.RawMessage(`{
        "type": "object",
        "properties": {
          "location": {
            "type": "string",
            "description": "The city and state, e.g. San Francisco, CA"
          },
          "unit": {"type": "string",
                   "description": "The unit of temperature to return",
                   "enum": ["celsius", "fahrenheit"]}
        },
        "required": ["location"]
      }`)
	req := &llm.ChatRequest{
		Messages: []llm.Message{
			{Role: llm.RoleSystem, Content: []llm.Part{llm.TextPart("You are a helpful assistant that can answer to questions about the weather.")}},
			{Role: llm.RoleUser, Content: []llm.Part{llm.TextPart("What's the weather like in San Francisco?")}},
		},
		Tools: []llm.Tool{{Type: "function", Name: "get_current_weather",
			Description: "Get the current weather in a given location", Parameters: params}},
	}
	for model, want := range map[string]int{"gpt-3.5-turbo": 105, "gpt-4": 105, "gpt-4o": 101, "gpt-4o-mini": 101} {
		got, exact := Count(req, "openai", model)
		if got != want || !exact {
			t.Errorf("%s: Count = %d, exact %v; the OpenAI API counted %d", model, got, exact, want)
		}
	}
}

// Counts from tiktoken's own tests (tests/test_encoding.py) and the
// cookbook's encoding examples.
func TestCountTextVectors(t *testing.T) {
	cases := []struct {
		model, text string
		want        int
	}{
		{"gpt-4", "hello world", 2},                  // [15339, 1917]
		{"gpt-4", "rer", 1},                          // [38149]
		{"gpt-4", "'rer", 2},                         // [2351, 81]
		{"gpt-4", "today\n ", 3},                     // [31213, 198, 220]
		{"gpt-4", " \u00850", 4},                     // [220, 126, 227, 15]
		{"gpt-4", "👍", 3},                            // [9468, 239, 235]
		{"gpt-4", "tiktoken is great!", 6},           // [83, 1609, 5963, 374, 2294, 0]
		{"gpt-4", "antidisestablishmentarianism", 6}, // cl100k_base: 6 tokens
		{"gpt-4", "2 + 2 = 4", 7},                    // cl100k_base: 7 tokens
		{"gpt-4", "お誕生日おめでとう", 9},                    // cl100k_base: 9 tokens
		{"gpt-4o", "お誕生日おめでとう", 8},                   // o200k_base: 8 tokens
		{"text-embedding-3-small", "hello world", 2},
	}
	for _, tc := range cases {
		got, exact := CountText(tc.text, "openai", tc.model)
		if got != tc.want || !exact {
			t.Errorf("%s %q: CountText = %d, exact %v; want %d", tc.model, tc.text, got, exact, tc.want)
		}
	}
}

// tiktoken keeps "\n \n" whole ([31213, 27907] for "today\n \n"); the
// library splits it after the first line break. Such a count is one token
// high and must not claim to be exact.
func TestCountTextBrokenWhitespaceRunIsInexact(t *testing.T) {
	for text, tiktoken := range map[string]int{"today\n \n": 2, "today\n  \n": 2} {
		got, exact := CountText(text, "openai", "gpt-4")
		if exact || got < tiktoken {
			t.Errorf("%q: CountText = %d, exact %v; tiktoken counts %d, and this count cannot be exact", text, got, exact, tiktoken)
		}
	}
}
