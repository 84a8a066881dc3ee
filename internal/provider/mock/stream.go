package mock

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/llmgw/llmgw/internal/llm"
)

// stream yields an answer as OpenAI streams one: a chunk with the assistant
// role and empty content, one chunk per content delta, a chunk with the
// finish reason, then a usage chunk without choices.
type stream struct {
	// ctx is the call's context, kept because Recv takes none; Close cancels it
	// to cut short a wait in progress.
	ctx    context.Context
	cancel context.CancelFunc
	p      *Provider
	a      *answer

	mu     sync.Mutex
	next   int // index of the next chunk
	usage  llm.Usage
	closed bool
}

func (p *Provider) newStream(ctx context.Context, a *answer) *stream {
	ctx, cancel := context.WithCancel(ctx)
	return &stream{
		ctx:    ctx,
		cancel: cancel,
		p:      p,
		a:      a,
		usage:  llm.Usage{PromptTokens: a.prompt, TotalTokens: a.prompt},
	}
}

// total returns the number of chunks the stream yields.
func (s *stream) total() int { return s.a.deltas() + 3 }

// Recv implements llm.Stream.
func (s *stream) Recv() (*llm.Chunk, error) {
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return nil, llm.ErrStreamClosed
	case s.next >= s.total():
		s.mu.Unlock()
		return nil, io.EOF
	case s.ctx.Err() != nil:
		s.mu.Unlock()
		return nil, s.ctx.Err()
	}
	i := s.next
	s.mu.Unlock()

	if err := s.p.wait(s.ctx, s.delay(i)); err != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed {
			return nil, llm.ErrStreamClosed
		}
		return nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, llm.ErrStreamClosed
	}
	c := s.chunk(i)
	s.next++
	if s.next == s.total() {
		s.cancel() // release the context; nothing is left to wait for
	}
	return c, nil
}

// delay returns the wait before chunk i: the time to first token before the
// first content delta, the token interval before each later one.
func (s *stream) delay(i int) time.Duration {
	switch {
	case i == 1 && s.a.deltas() > 0:
		return s.p.opts.TimeToFirstToken
	case i > 1 && i <= s.a.deltas():
		return s.p.interval
	}
	return 0
}

// chunk builds chunk i and counts the completion tokens it carries.
func (s *stream) chunk(i int) *llm.Chunk {
	a := s.a
	deltas := a.deltas()
	if i == deltas+2 {
		c := a.chunk(nil)
		u := s.usage
		c.Usage = &u
		return c
	}
	choices := make([]llm.Choice, a.n)
	for k := range choices {
		choices[k].Index = k
		m := &choices[k].Message
		switch {
		case i == 0:
			m.Role = llm.RoleAssistant
			if a.tool == nil {
				m.Content = []llm.Part{llm.TextPart("")}
			}
		case i == deltas+1:
			choices[k].FinishReason = a.finish
		case a.tool != nil:
			m.ToolCalls = []llm.ToolCall{a.toolCall(k)}
		default:
			m.Content = []llm.Part{llm.TextPart(a.pieces[i-1])}
		}
	}
	if i >= 1 && i <= deltas {
		per := 1
		if a.tool != nil {
			per = a.completion
		}
		s.usage.CompletionTokens += a.n * per
		s.usage.TotalTokens = s.usage.PromptTokens + s.usage.CompletionTokens
	}
	return a.chunk(choices)
}

// Usage implements llm.Stream: the prompt tokens and the completion tokens
// yielded so far.
func (s *stream) Usage() llm.Usage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.usage
}

// Close implements llm.Stream. It ends a wait in progress in Recv, which then
// returns llm.ErrStreamClosed.
func (s *stream) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	return nil
}
