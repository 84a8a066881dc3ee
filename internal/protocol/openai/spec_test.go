package openai

import (
	"encoding/json"
	"testing"

	"github.com/llmgw/llmgw/internal/protocol/openapispec"
)

// specSchema and validateAgainst check bodies against OpenAI's spec
// (package openapispec).
var (
	specSchema      = openapispec.Schema
	validateAgainst = openapispec.Validate
)

// TestSpecValidatorRejects proves the validation used by the other tests
// has teeth: bodies that break the spec are reported.
func TestSpecValidatorRejects(t *testing.T) {
	cases := []struct {
		name, schema, body string
	}{
		{"response without id", "CreateChatCompletionResponse", `{"object":"chat.completion","created":1,"model":"m","choices":[]}`},
		{"response content number", "CreateChatCompletionResponse", `{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":5,"refusal":null},"logprobs":null,"finish_reason":"stop"}]}`},
		{"chunk bad finish reason", "CreateChatCompletionStreamResponse", `{"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"done"}]}`},
		{"request without messages", "CreateChatCompletionRequest", `{"model":"m"}`},
		{"request temperature string", "CreateChatCompletionRequest", `{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":"hot"}`},
		{"model list bad object", "ListModelsResponse", `{"object":"list","data":[{"id":"m","object":"engine","created":1,"owned_by":"x"}]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var v any
			if err := json.Unmarshal([]byte(tc.body), &v); err != nil {
				t.Fatal(err)
			}
			if err := specSchema(t, tc.schema).VisitJSON(v); err == nil {
				t.Errorf("%s accepted by %s", tc.body, tc.schema)
			}
		})
	}
}
