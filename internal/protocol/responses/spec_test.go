package responses

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

// eventSchemas names the spec's schema of each event type the encoder
// emits.
var eventSchemas = map[string]string{
	"response.created":                       "ResponseCreatedEvent",
	"response.in_progress":                   "ResponseInProgressEvent",
	"response.completed":                     "ResponseCompletedEvent",
	"response.incomplete":                    "ResponseIncompleteEvent",
	"response.failed":                        "ResponseFailedEvent",
	"response.output_item.added":             "ResponseOutputItemAddedEvent",
	"response.output_item.done":              "ResponseOutputItemDoneEvent",
	"response.content_part.added":            "ResponseContentPartAddedEvent",
	"response.content_part.done":             "ResponseContentPartDoneEvent",
	"response.output_text.delta":             "ResponseTextDeltaEvent",
	"response.output_text.done":              "ResponseTextDoneEvent",
	"response.refusal.delta":                 "ResponseRefusalDeltaEvent",
	"response.refusal.done":                  "ResponseRefusalDoneEvent",
	"response.function_call_arguments.delta": "ResponseFunctionCallArgumentsDeltaEvent",
	"response.function_call_arguments.done":  "ResponseFunctionCallArgumentsDoneEvent",
	"response.reasoning_summary_part.added":  "ResponseReasoningSummaryPartAddedEvent",
	"response.reasoning_summary_part.done":   "ResponseReasoningSummaryPartDoneEvent",
	"response.reasoning_summary_text.delta":  "ResponseReasoningSummaryTextDeltaEvent",
	"response.reasoning_summary_text.done":   "ResponseReasoningSummaryTextDoneEvent",
}

// validateEvent checks an event's data against its type's schema.
func validateEvent(t testing.TB, typ string, data []byte) {
	t.Helper()
	name, ok := eventSchemas[typ]
	if !ok {
		t.Fatalf("event %s has no schema to check it against", typ)
	}
	validateAgainst(t, name, data)
}

// TestSpecValidatorRejects proves the validation used by the other tests
// has teeth: bodies that break the spec are reported.
func TestSpecValidatorRejects(t *testing.T) {
	cases := []struct {
		name, schema, body string
	}{
		{"response without id", "Response", `{"object":"response","created_at":1,"error":null,"incomplete_details":null,"instructions":null,"model":"m","tools":[],"output":[],"parallel_tool_calls":true,"metadata":{},"tool_choice":"auto","temperature":1,"top_p":1}`},
		{"response bad status", "Response", `{"id":"r","object":"response","status":"done","created_at":1,"error":null,"incomplete_details":null,"instructions":null,"model":"m","tools":[],"output":[],"parallel_tool_calls":true,"metadata":{},"tool_choice":"auto","temperature":1,"top_p":1}`},
		{"usage without cache_write_tokens", "ResponseUsage", `{"input_tokens":1,"input_tokens_details":{"cached_tokens":0},"output_tokens":1,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":2}`},
		{"text delta without logprobs", "ResponseTextDeltaEvent", `{"type":"response.output_text.delta","item_id":"m","output_index":0,"content_index":0,"delta":"x","sequence_number":1}`},
		{"failed error code unknown", "ResponseFailedEvent", `{"type":"response.failed","sequence_number":1,"response":{"id":"r","object":"response","status":"failed","created_at":1,"error":{"code":"upstream_error","message":"x"},"incomplete_details":null,"instructions":null,"model":"m","tools":[],"output":[],"parallel_tool_calls":true,"metadata":{},"tool_choice":"auto","temperature":1,"top_p":1}}`},
		{"request input number", "CreateResponse", `{"model":"m","input":5}`},
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
