package gemini

import (
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/provider"
)

// stream is an llm.Stream over streamGenerateContent?alt=sse: data-only
// events, each a GenerateContentResponse with the next parts of the
// candidate and the usage so far; the one with a finishReason is the last.
// There is no [DONE]: a stream that ends before a finishReason (or a
// blocked prompt) is an error, as is an event holding an error object.
type stream struct {
	provider.EventStream
	p       *Provider
	model   string
	id      string
	started bool
	calls   int
	done    bool
	usage   llm.Usage
}

// Recv implements llm.Stream.
func (s *stream) Recv() (*llm.Chunk, error) {
	if s.done {
		// The finishing event is the last: what may follow is not read.
		return nil, s.End()
	}
	_, data, err := s.Next()
	if err != nil {
		return nil, err
	}
	var w wireResponse
	if err := decode(data, &w); err != nil {
		return nil, s.Fail(s.p.up.Malformed(err, malformedStream))
	}
	if w.hasError() {
		return nil, s.Fail(s.p.upstreamError(data))
	}
	if s.id == "" {
		s.id = w.ResponseID
		if s.id == "" {
			s.id = newID("chatcmpl-")
		}
	}
	model := w.ModelVersion
	if model == "" {
		model = s.model
	}
	c := &llm.Chunk{ID: s.id, Model: model, Choices: []llm.Choice{{}}}
	d := &c.Choices[0].Message
	if !s.started {
		d.Role = llm.RoleAssistant
		s.started = true
	}
	// Every event carries the usage so far: the stream's is kept up to
	// date, and the last chunk carries it, as one usage of the whole.
	if w.UsageMetadata != nil {
		s.usage = w.UsageMetadata.usage()
		s.SetUsage(s.usage)
	}
	last := func() {
		s.done = true
		if w.UsageMetadata != nil {
			u := s.usage
			c.Usage = &u
		}
	}
	if len(w.Candidates) == 0 {
		if w.PromptFeedback != nil && w.PromptFeedback.BlockReason != "" {
			c.Choices[0].FinishReason = llm.FinishContentFilter
			last()
		}
		return c, nil
	}
	cand := &w.Candidates[0]
	if cand.Content != nil {
		n, err := parts(cand.Content.Parts, d, s.calls)
		if err != nil {
			return nil, s.Fail(s.p.up.Malformed(err, malformedStream))
		}
		s.calls += n
	}
	if cand.FinishReason == "" {
		return c, nil
	}
	fr, err := s.p.finish(cand.FinishReason, s.calls > 0)
	if err != nil {
		return nil, s.Fail(err)
	}
	c.Choices[0].FinishReason = fr
	last()
	return c, nil
}
