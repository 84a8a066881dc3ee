package responses

import (
	"encoding/json"

	"github.com/llmgw/llmgw/internal/llm"
)

// Protocol names the Responses API as a wire protocol (llm.Chunk.RawProtocol,
// pipeline.Call.Protocol, provider.Forward.Protocol).
const Protocol = "openai.responses"

// Request is a decoded create-response request: the canonical chat request
// and the fields that are the Responses API's own.
type Request struct {
	// Chat is the canonical request: instructions first as a developer
	// message, then the input items as messages.
	Chat *llm.ChatRequest
	// Store is the request's store flag (true when absent, as in the
	// reference).
	Store bool
	// PreviousResponseID is the response the request continues, empty when
	// none.
	PreviousResponseID string
	// Instructions is the request's instructions, as sent.
	Instructions string
	// Include lists the extra output the client asked for
	// ("reasoning.encrypted_content", ...).
	Include []string
	// Truncation is "auto" or "disabled" (empty when absent).
	Truncation string
	// Input is the request's input as a JSON array of items: a string input
	// becomes one user message item. It is what GET
	// /v1/responses/{id}/input_items lists.
	Input json.RawMessage
	// Echo holds the request fields a response object repeats (model,
	// tools, tool_choice, text, reasoning, temperature, top_p,
	// max_output_tokens, metadata, parallel_tool_calls, ...), keyed by wire
	// name, as sent.
	Echo map[string]json.RawMessage
}

// Meta is what a response object says beyond the model's answer: its id,
// its creation time and the request it answers.
type Meta struct {
	// ID is the response's id ("resp_..."), made by the gateway when the
	// upstream is not a Responses API.
	ID string
	// CreatedAt is the creation time in Unix seconds.
	CreatedAt int64
	// CompletedAt is the completion time in Unix seconds, written as
	// completed_at in a completed response; zero writes null. A caller that
	// knows it sets it before EncodeResponse or StreamEncoder.Finish.
	CompletedAt int64
	// Request is the request answered.
	Request *Request
}
