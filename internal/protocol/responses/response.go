package responses

import (
	"github.com/llmgw/llmgw/internal/llm"
)

// EncodeResponse encodes c, a whole response (one chunk whose first choice
// holds the whole message, as llm.Accumulator folds it), as a Responses API
// response object. A chunk that carries a Responses body of its upstream in
// Raw is returned as it is.
//
// The output items are, in order: a reasoning item per thinking part, a
// message item for the text and refusal between them, and a function_call
// item per tool call. Item ids derive from meta.ID and the item's position,
// so the response and its stream (StreamEncoder) name them alike. The
// status is incomplete when the finish reason was length (reason
// max_output_tokens) or content_filter.
func EncodeResponse(c *llm.Chunk, meta *Meta) ([]byte, error) {
	if len(c.Raw) > 0 && c.RawProtocol == Protocol {
		return c.Raw, nil
	}
	// The stream encoder, emitting nothing, builds the items: one code
	// path, so a stored response and its stream agree byte for byte.
	e := NewStreamEncoder(meta)
	if err := e.add(c); err != nil {
		return nil, err
	}
	if err := e.Finish(nil); err != nil {
		return nil, err
	}
	return e.Response(), nil
}

// firstChoice returns the choice of index 0, or the first one: a response
// has one output.
func firstChoice(c *llm.Chunk) *llm.Choice {
	for i := range c.Choices {
		if c.Choices[i].Index == 0 {
			return &c.Choices[i]
		}
	}
	if len(c.Choices) > 0 {
		return &c.Choices[0]
	}
	return nil
}

// responseModel returns the model the upstream named, or the one asked for.
func responseModel(c *llm.Chunk, meta *Meta) string {
	if c != nil && c.Model != "" {
		return c.Model
	}
	if meta.Request != nil && meta.Request.Chat != nil {
		return meta.Request.Chat.Model
	}
	return ""
}
