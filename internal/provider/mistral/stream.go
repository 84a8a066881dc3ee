package mistral

import (
	"github.com/llmgw/llmgw/internal/llm"
	protocol "github.com/llmgw/llmgw/internal/protocol/openai"
	"github.com/llmgw/llmgw/internal/provider"
	"github.com/llmgw/llmgw/internal/sse"
)

// stream is an llm.Stream over Mistral's text/event-stream answer: data-only
// events of chat.completion.chunk objects ended by "data: [DONE]". A stream
// that ends without [DONE] is an error, as is a chunk whose finish reason is
// "error".
type stream struct {
	provider.EventStream
	p *Provider
}

// Recv implements llm.Stream.
func (s *stream) Recv() (*llm.Chunk, error) {
	_, data, err := s.Next()
	if err != nil {
		return nil, err
	}
	if sse.IsDone(data) {
		return nil, s.End()
	}
	if needsNormalize(data) {
		if data, err = normalize(data, "delta"); err != nil {
			return nil, s.Fail(s.p.decodeError(err, malformedStream))
		}
	}
	c, err := protocol.DecodeChunk(data)
	if err != nil {
		return nil, s.Fail(s.p.decodeError(err, malformedStream))
	}
	if c.Usage != nil {
		s.SetUsage(*c.Usage)
	}
	return c, nil
}
