package anthropic

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/llmgw/llmgw/internal/llm"
	protocol "github.com/llmgw/llmgw/internal/protocol/anthropic"
	"github.com/llmgw/llmgw/internal/provider"
	"github.com/llmgw/llmgw/internal/sse"
)

// Causes with which a stream cancels its own upstream request.
var (
	errIdle   = errors.New("anthropic: stream idle timeout")
	errClosed = errors.New("anthropic: stream closed")
)

// Stream event types the adapter itself looks at.
const (
	eventError       = "error"
	eventMessageStop = "message_stop"
)

// unary is the Stream of a non-streamed answer: one chunk, whose usage is
// the stream's from the start, since the upstream has counted it already.
type unary struct {
	*llm.SliceStream
	usage llm.Usage
}

func newUnary(c *llm.Chunk) *unary {
	u := &unary{SliceStream: llm.NewSliceStream(nil, c)}
	if c.Usage != nil {
		u.usage = *c.Usage
	}
	return u
}

// Usage implements llm.Stream.
func (u *unary) Usage() llm.Usage { return u.usage }

// stream is an llm.Stream over a Messages text/event-stream body. In raw
// mode (Forward) each event's data is handed on as it came; otherwise the
// events are decoded into canonical chunks.
type stream struct {
	p      *Provider
	ctx    context.Context
	cancel context.CancelCauseFunc
	body   io.ReadCloser
	rd     *sse.Reader
	raw    bool
	dec    *protocol.StreamDecoder // decoded mode
	scan   protocol.UsageScanner   // raw mode
	idle   *llm.IdleTimer
	err    error // sticky: io.EOF after message_stop, or the failure

	mu     sync.Mutex
	usage  llm.Usage
	closed bool
}

// openStream posts body and returns a stream over the answer.
func (p *Provider) openStream(ctx context.Context, body []byte, raw bool) (llm.Stream, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	resp, err := p.post(ctx, p.messageURL, body, true)
	if err != nil {
		cancel(err)
		return nil, err
	}
	s := &stream{p: p, ctx: ctx, cancel: cancel, body: resp.Body, rd: sse.NewReader(resp.Body, 0), raw: raw}
	if !raw {
		s.dec = protocol.NewStreamDecoder()
	}
	if p.idle > 0 {
		s.idle = llm.NewIdleTimer(p.idle, func() { cancel(errIdle) })
	}
	return s, nil
}

// Recv implements llm.Stream.
func (s *stream) Recv() (*llm.Chunk, error) {
	if s.err != nil {
		return nil, s.err
	}
	for {
		if s.isClosed() {
			return nil, llm.ErrStreamClosed
		}
		ev, err := s.next()
		if err != nil {
			return nil, s.fail(s.readError(err))
		}
		data := bytes.TrimSpace(ev.Data)
		if len(data) == 0 {
			continue
		}
		typ := ev.Type
		if typ == "" {
			typ = eventType(data)
		}
		if typ == eventError {
			return nil, s.fail(s.p.eventError(data))
		}
		c, err := s.decode(typ, data)
		if err != nil {
			return nil, s.fail(err)
		}
		if typ == eventMessageStop {
			s.finish()
		}
		if c == nil {
			if s.err != nil {
				return nil, s.err
			}
			continue
		}
		return c, nil
	}
}

// Buffered implements llm.Buffered. In raw mode every event is a chunk, so
// the next one is in hand when the reader has it. In decoded mode some events
// (ping, content_block_stop, ...) make no chunk and Recv reads on, perhaps
// waiting, so the answer is always false there: holding the flush for them
// could delay the chunk before them.
func (s *stream) Buffered() bool {
	return s.raw && s.err == nil && s.rd.Buffered()
}

// finish marks the stream complete: the next Recv reports io.EOF.
func (s *stream) finish() {
	s.err = io.EOF
	if s.dec != nil {
		s.setUsage(s.dec.Usage())
	}
	s.release()
}

// decode turns one event into a chunk, or nil for an event with nothing for
// the client in decoded mode.
func (s *stream) decode(typ string, data []byte) (*llm.Chunk, error) {
	if s.raw {
		c := &llm.Chunk{Raw: bytes.Clone(data), RawProtocol: protocol.Protocol}
		if u, ok := s.scan.Scan(typ, data); ok {
			s.setUsage(u)
			c.Usage = &u
		}
		return c, nil
	}
	c, err := s.dec.Decode(typ, data)
	if err == io.EOF {
		return nil, nil // message_stop: finish is called by Recv
	}
	if err != nil {
		return nil, s.p.decodeError(err, "the upstream sent a malformed stream event")
	}
	if c != nil && c.Usage != nil {
		s.setUsage(*c.Usage)
	} else {
		s.setUsage(s.dec.Usage())
	}
	return c, nil
}

// eventType reads the "type" member of an event's data, for an event that
// came without an "event:" line.
func eventType(data []byte) string {
	const key = `"type"`
	i := bytes.Index(data, []byte(key))
	if i < 0 {
		return ""
	}
	rest := bytes.TrimLeft(data[i+len(key):], " \t\r\n")
	rest, ok := bytes.CutPrefix(rest, []byte(":"))
	if !ok {
		return ""
	}
	rest = bytes.TrimLeft(rest, " \t\r\n")
	rest, ok = bytes.CutPrefix(rest, []byte(`"`))
	if !ok {
		return ""
	}
	end := bytes.IndexByte(rest, '"')
	if end < 0 {
		return ""
	}
	return string(rest[:end])
}

func (s *stream) setUsage(u llm.Usage) {
	s.mu.Lock()
	s.usage = u
	s.mu.Unlock()
}

// next reads one event, timing the wait for the idle timeout.
func (s *stream) next() (*sse.Event, error) {
	if s.idle == nil {
		return s.rd.Next()
	}
	s.idle.Wait()
	ev, err := s.rd.Next()
	s.idle.Done()
	return ev, err
}

// readError explains why reading the stream stopped before message_stop.
func (s *stream) readError(err error) error {
	switch cause := context.Cause(s.ctx); {
	case s.isClosed() || cause == errClosed:
		return llm.ErrStreamClosed
	case cause == errIdle:
		return &llm.Error{Kind: llm.KindUpstreamTimeout, Provider: s.p.name,
			Message: fmt.Sprintf("upstream stream idle for longer than %s", s.p.idle), Err: err}
	case cause != nil:
		return provider.TransportError(s.p.name, cause)
	}
	switch {
	case err == io.EOF, err == io.ErrUnexpectedEOF:
		return &llm.Error{Kind: llm.KindUpstream, Provider: s.p.name,
			Message: "upstream stream ended before completion", Err: err}
	case errors.Is(err, sse.ErrEventTooLarge):
		return &llm.Error{Kind: llm.KindUpstream, Provider: s.p.name,
			Message: "the upstream sent a stream event that is too large", Err: err}
	}
	return provider.TransportError(s.p.name, err)
}

// fail records a terminal error and releases the upstream request.
func (s *stream) fail(err error) error {
	s.err = err
	s.release()
	return err
}

func (s *stream) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Usage implements llm.Stream.
func (s *stream) Usage() llm.Usage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.usage
}

// Close implements llm.Stream. It may be called while Recv is blocked in
// another goroutine: cancelling the request makes the read return.
func (s *stream) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel(errClosed)
	s.release()
	return nil
}

// release stops the timer and closes the body; both are safe to repeat.
func (s *stream) release() {
	if s.idle != nil {
		s.idle.Stop()
	}
	s.cancel(errClosed)
	_ = s.body.Close()
}
