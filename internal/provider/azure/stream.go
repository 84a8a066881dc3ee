package azure

import (
	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/llm"
)

// filterStream is a stream without Azure's opening event: an
// event with empty choices, no id and no usage, which carries only the
// prompt's prompt_filter_results (decoded: a chunk with no id, choice or
// usage). It is no chat.completion.chunk, and no client is sent it. Only the events before the first relayed
// one are looked at.
type filterStream struct {
	llm.Stream
	started bool
}

// Recv implements llm.Stream.
func (s *filterStream) Recv() (*llm.Chunk, error) {
	for {
		c, err := s.Stream.Recv()
		if err != nil || s.started {
			return c, err
		}
		if c.Raw != nil && promptAnnotationOnly(c.Raw) ||
			c.Raw == nil && c.ID == "" && len(c.Choices) == 0 && c.Usage == nil {
			continue
		}
		s.started = true
		return c, nil
	}
}

// promptAnnotationOnly reports whether an event is Azure's prompt filter
// annotation: no id, no choice, no usage.
func promptAnnotationOnly(b []byte) bool {
	r := gjson.GetManyBytes(b, "id", "choices.#", "usage", "prompt_filter_results")
	return r[0].String() == "" && r[1].Int() == 0 && !r[2].IsObject() && r[3].Exists()
}
