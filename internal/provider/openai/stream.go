package openai

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/llmgw/llmgw/internal/llm"
	protocol "github.com/llmgw/llmgw/internal/protocol/openai"
	"github.com/llmgw/llmgw/internal/provider"
	"github.com/llmgw/llmgw/internal/sse"
)

// Causes with which a stream cancels its own upstream request.
var (
	errIdle   = errors.New("openai: stream idle timeout")
	errClosed = errors.New("openai: stream closed")
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

// stream is an llm.Stream over an upstream's text/event-stream body.
type stream struct {
	p      *Provider
	ctx    context.Context
	cancel context.CancelCauseFunc
	body   io.ReadCloser
	rd     *sse.Reader
	raw    bool // Forward: chunks carry the upstream bytes
	idle   *llm.IdleTimer
	err    error // sticky: io.EOF after [DONE], or the failure

	mu     sync.Mutex
	usage  llm.Usage
	closed bool
}

// openStream posts body and returns a stream over the answer. raw selects
// Forward's chunks (upstream bytes plus scanned usage) over decoded ones.
func (p *Provider) openStream(ctx context.Context, body []byte, raw bool) (llm.Stream, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	resp, err := p.post(ctx, p.chatURL, body, true)
	if err != nil {
		cancel(err)
		return nil, err
	}
	s := &stream{p: p, ctx: ctx, cancel: cancel, body: resp.Body, rd: sse.NewReader(resp.Body, 0), raw: raw}
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
		if sse.IsDone(data) {
			s.err = io.EOF
			return nil, io.EOF
		}
		c, err := s.decode(data)
		if err != nil {
			return nil, s.fail(err)
		}
		if c.Usage != nil {
			s.mu.Lock()
			s.usage = *c.Usage
			s.mu.Unlock()
		}
		return c, nil
	}
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

func (s *stream) decode(data []byte) (*llm.Chunk, error) {
	if !s.raw || isErrorPayload(data) {
		c, err := protocol.DecodeChunk(data)
		if err != nil {
			return nil, s.p.decodeError(err, "the upstream sent a malformed stream event")
		}
		return c, nil
	}
	c := &llm.Chunk{Raw: bytes.Clone(data), RawProtocol: protocol.Protocol}
	if hasUsageObject(data) {
		if u, ok := protocol.ScanUsage(c.Raw); ok {
			c.Usage = &u
		}
	}
	return c, nil
}

// usageKey is the member name ScanUsage looks for. In JSON text the bytes
// "usage" with both quotes unescaped can only be a member name or a string
// value, never a part of a longer string.
var usageKey = []byte(`"usage"`)

// jsonSpace is JSON's insignificant white space.
const jsonSpace = " \t\r\n"

// hasUsageObject reports whether data may carry a usage object: some
// "usage" followed by a colon and an opening brace. It is a cheap filter in
// front of ScanUsage, which parses the JSON: most stream events carry no
// usage, or "usage":null.
func hasUsageObject(data []byte) bool {
	for {
		i := bytes.Index(data, usageKey)
		if i < 0 {
			return false
		}
		data = data[i+len(usageKey):]
		rest, ok := bytes.CutPrefix(bytes.TrimLeft(data, jsonSpace), []byte(":"))
		if ok {
			if rest = bytes.TrimLeft(rest, jsonSpace); len(rest) > 0 && rest[0] == '{' {
				return true
			}
		}
	}
}

// Buffered implements llm.Buffered: the next event is already read from the
// upstream. An event whose data is only white space is skipped by Recv, which
// then waits; upstreams do not send those, and the cost would be one delayed
// flush.
func (s *stream) Buffered() bool {
	return s.err == nil && s.rd.Buffered()
}

// isErrorPayload reports whether an event payload is an error object
// ({"error": ...}), without scanning the rest of it.
func isErrorPayload(data []byte) bool {
	rest, ok := bytes.CutPrefix(data, []byte("{"))
	if !ok {
		return false
	}
	return bytes.HasPrefix(bytes.TrimLeft(rest, " \t\r\n"), []byte(`"error"`))
}

// readError explains why reading the stream stopped.
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
