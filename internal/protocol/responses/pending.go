package responses

import "github.com/llmgw/llmgw/internal/llm"

// errPending is what the translation answers until it is available.
var errPending = llm.NewError(llm.KindInternal, "the Responses API translation is not available")

// DecodeRequest decodes a create-response body into its canonical request.
func DecodeRequest(body []byte) (*Request, error) { return nil, errPending }

// EncodeResponse encodes a folded canonical answer as a response object.
func EncodeResponse(c *llm.Chunk, meta *Meta) ([]byte, error) { return nil, errPending }

// StreamEncoder encodes canonical chunks as Responses stream events.
type StreamEncoder struct{}

// NewStreamEncoder returns an encoder of the response meta describes.
func NewStreamEncoder(meta *Meta) *StreamEncoder { return &StreamEncoder{} }

// Encode emits the events of one chunk.
func (e *StreamEncoder) Encode(c *llm.Chunk, emit func(event string, data []byte) error) error {
	return errPending
}

// Finish emits the closing events.
func (e *StreamEncoder) Finish(emit func(event string, data []byte) error) error { return errPending }

// Fail emits response.failed for err.
func (e *StreamEncoder) Fail(err *llm.Error, emit func(event string, data []byte) error) error {
	return errPending
}

// Response returns the final response object.
func (e *StreamEncoder) Response() []byte { return nil }
