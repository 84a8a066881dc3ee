package ollama

import (
	"errors"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/provider"
)

// stream is an llm.Stream over Ollama's application/x-ndjson answer: one
// JSON object a line, each with a piece of the message, the last with
// "done": true, the done_reason and the counts. A line {"error": "..."} is
// the upstream failing mid-stream; a stream that ends before its done line
// is an error.
type stream struct {
	provider.EventStream
	p       *Provider
	id      string
	started bool
	calls   int
	done    bool
}

var errNoMessage = errors.New("ollama: stream line with no message")

// Recv implements llm.Stream.
func (s *stream) Recv() (*llm.Chunk, error) {
	if s.done {
		// The done line is the last: what may follow is not read.
		return nil, s.End()
	}
	_, data, err := s.Next()
	if err != nil {
		return nil, err
	}
	var w wireResponse
	if err := decodeLine(data, &w); err != nil {
		return nil, s.Fail(s.p.up.Malformed(err, malformedStream))
	}
	if w.hasError() {
		return nil, s.Fail(s.p.upstreamError(data))
	}
	if w.Message == nil && !w.Done {
		return nil, s.Fail(s.p.up.Malformed(errNoMessage, malformedStream))
	}
	if s.id == "" {
		s.id = newID("chatcmpl-")
	}
	c := &llm.Chunk{ID: s.id, Model: w.Model, Created: created(w.CreatedAt), Choices: []llm.Choice{{}}}
	d := &c.Choices[0].Message
	if !s.started {
		d.Role = llm.RoleAssistant
		s.started = true
	}
	if m := w.Message; m != nil {
		if m.Thinking != "" {
			d.Content = append(d.Content, llm.Part{Type: llm.PartThinking, Text: m.Thinking})
		}
		if m.Content != "" {
			d.Content = append(d.Content, llm.TextPart(m.Content))
		}
		tcs, err := toolCalls(m.ToolCalls, s.calls)
		if err != nil {
			return nil, s.Fail(s.p.up.Malformed(err, malformedStream))
		}
		d.ToolCalls = tcs
		s.calls += len(tcs)
	}
	if !w.Done {
		return c, nil
	}
	fr, err := s.p.finish(w.DoneReason, s.calls > 0)
	if err != nil {
		return nil, s.Fail(err)
	}
	c.Choices[0].FinishReason = fr
	c.Usage = usage(&w)
	s.SetUsage(*c.Usage)
	s.done = true
	return c, nil
}
