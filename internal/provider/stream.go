package provider

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/sse"
)

// Causes with which an EventStream cancels its own upstream request.
var (
	errStreamIdle   = errors.New("provider: stream idle timeout")
	errStreamClosed = errors.New("provider: stream closed")
)

// EventStream is the transport half of an llm.Stream over an upstream's
// text/event-stream body: idle timeout, cancellation, a sticky terminal
// error and the usage seen so far. An adapter embeds it, calls Open, and
// implements Recv by decoding the events Next returns; Usage and Close come
// from EventStream. Recv and Next are for one goroutine; Usage and Close may
// be called from any.
type EventStream struct {
	name   string
	idleIn time.Duration
	red    *redactor
	ctx    context.Context
	cancel context.CancelCauseFunc
	body   io.ReadCloser
	rd     eventReader
	idle   *llm.IdleTimer
	err    error // sticky: io.EOF after the end, or the failure

	mu     sync.Mutex
	usage  llm.Usage
	closed bool
	ended  bool // End was called: the upstream's content is complete
}

// Open posts body to url through u, asking for an event stream, and makes s
// a stream over the answer. On failure s is unusable and the error is an
// *llm.Error.
func (s *EventStream) Open(ctx context.Context, u *Upstream, url string, body []byte) error {
	return s.open(ctx, u, url, body, u.sseHeader, func(r io.Reader) eventReader { return sse.NewReader(r, 0) })
}

// OpenNDJSON is Open for an upstream that streams newline-delimited JSON
// (application/x-ndjson, Ollama's native API) instead of an event stream:
// every line is an event whose data is the line. A line of more than
// maxLine bytes (sse.DefaultMaxEventSize when 0 or less) ends the stream
// with an error, as an event too large does.
func (s *EventStream) OpenNDJSON(ctx context.Context, u *Upstream, url string, body []byte, maxLine int) error {
	return s.open(ctx, u, url, body, u.ndjsonHeader, func(r io.Reader) eventReader { return newLineReader(r, maxLine) })
}

// eventReader is what an EventStream reads its events from: an event
// stream's parser, or a reader of lines.
type eventReader interface {
	Next() (*sse.Event, error)
	Buffered() bool
}

func (s *EventStream) open(ctx context.Context, u *Upstream, url string, body []byte, h http.Header, rd func(io.Reader) eventReader) error {
	ctx, cancel := context.WithCancelCause(ctx)
	resp, err := u.post(ctx, url, body, h)
	if err != nil {
		cancel(err)
		return err
	}
	if err := u.notStream(resp); err != nil {
		cancel(err)
		return err
	}
	s.name, s.idleIn, s.red = u.name, u.idle, &u.red
	s.ctx, s.cancel, s.body, s.rd = ctx, cancel, resp.Body, rd(resp.Body)
	if u.idle > 0 {
		s.idle = llm.NewIdleTimer(u.idle, func() { cancel(errStreamIdle) })
	}
	return nil
}

// Next returns the next event whose data is not empty, and that data with
// surrounding white space trimmed and the upstream's secrets redacted (see
// Upstream.Redact). Once the stream has ended or failed it returns that same
// error again; after Close, llm.ErrStreamClosed. A read failure is returned
// as an *llm.Error and ends the stream. The idle timeout counts the whole
// wait for such an event: events with no data, like comments, are no sign
// of progress, and an upstream sending nothing else is idle.
func (s *EventStream) Next() (*sse.Event, []byte, error) {
	if s.err != nil {
		return nil, nil, s.err
	}
	if s.idle != nil {
		s.idle.Wait()
	}
	ev, data, err := s.next()
	if s.idle != nil {
		s.idle.Done()
	}
	switch {
	case err == llm.ErrStreamClosed:
		return nil, nil, err
	case err != nil:
		return nil, nil, s.Fail(err)
	}
	return ev, s.red.redact(data), nil
}

// next reads events until one has data.
func (s *EventStream) next() (*sse.Event, []byte, error) {
	for {
		if s.isClosed() {
			return nil, nil, llm.ErrStreamClosed
		}
		ev, err := s.rd.Next()
		if err != nil {
			return nil, nil, s.readError(err)
		}
		if data := bytes.TrimSpace(ev.Data); len(data) > 0 {
			return ev, data, nil
		}
	}
}

// readError explains why reading the stream stopped before its end.
func (s *EventStream) readError(err error) error {
	switch cause := context.Cause(s.ctx); {
	case s.isClosed() || cause == errStreamClosed:
		return llm.ErrStreamClosed
	case cause == errStreamIdle:
		return &llm.Error{Kind: llm.KindUpstreamTimeout, Provider: s.name,
			Message: fmt.Sprintf("upstream stream idle for longer than %s", s.idleIn), Err: err}
	case cause != nil:
		return TransportError(s.name, cause)
	}
	switch {
	case err == io.EOF, err == io.ErrUnexpectedEOF:
		return &llm.Error{Kind: llm.KindUpstream, Provider: s.name,
			Message: "upstream stream ended before completion", Err: err}
	case errors.Is(err, sse.ErrEventTooLarge):
		return &llm.Error{Kind: llm.KindUpstream, Provider: s.name,
			Message: "the upstream sent a stream event that is too large", Err: err}
	}
	return TransportError(s.name, err)
}

// notStream returns the error of a 2xx answer to a stream request that says
// it is JSON or HTML: an error object or a whole answer that was not asked
// for, or a proxy's page, not an event stream. Its body, read up to 64 KiB,
// gives the upstream's message, redacted, to the hidden cause. Any other
// Content-Type, or none, is read as an event stream: a body that is not one
// ends the stream with an error at its first line or its end.
func (u *Upstream) notStream(resp *http.Response) error {
	ct := resp.Header.Get("Content-Type")
	switch mt := mediaType(ct); {
	case mt == "application/json", strings.HasSuffix(mt, "+json"), mt == "text/html":
	default:
		return nil
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_ = resp.Body.Close()
	var msg string
	if u.parse.Message != nil {
		msg, _ = u.parse.Message(body)
	}
	return &llm.Error{Kind: llm.KindUpstream, Provider: u.name, UpstreamStatus: resp.StatusCode,
		Message: "the upstream did not answer with an event stream",
		Err:     fmt.Errorf("content type %q to a stream request: %s", ct, u.Sanitize(msg))}
}

// End marks the stream complete, releases the upstream request and returns
// io.EOF, which Next returns from then on. Released as complete, the body's
// connection can serve another request.
func (s *EventStream) End() error {
	s.err = io.EOF
	s.mu.Lock()
	s.ended = true
	s.mu.Unlock()
	s.Release()
	return io.EOF
}

// Fail records err as the stream's terminal error, releases the upstream
// request and returns err.
func (s *EventStream) Fail(err error) error {
	s.err = err
	s.Release()
	return err
}

// Err returns the stream's terminal error: nil while it runs, io.EOF after
// End.
func (s *EventStream) Err() error { return s.err }

// Buffered reports whether the stream has not ended and the next event is
// already read from the upstream. An event whose data is only white space
// is skipped by Next, which then waits; upstreams do not send those, and the
// cost would be one delayed flush.
func (s *EventStream) Buffered() bool {
	return s.err == nil && s.rd.Buffered()
}

func (s *EventStream) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// SetUsage records the usage seen so far.
func (s *EventStream) SetUsage(u llm.Usage) {
	s.mu.Lock()
	s.usage = u
	s.mu.Unlock()
}

// Usage implements llm.Stream.
func (s *EventStream) Usage() llm.Usage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.usage
}

// Close implements llm.Stream. It may be called while Next is blocked in
// another goroutine: cancelling the request makes the read return.
func (s *EventStream) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	ended := s.ended
	s.mu.Unlock()
	if !ended {
		s.cancel(errStreamClosed) // first: a blocked Next must see why
	}
	s.Release()
	return nil
}

// Release stops the idle timer, closes the body and cancels the upstream
// request; it is safe to repeat. The body of a stream that has ended is
// closed first and with CloseEnded, so that its connection can go back to
// the pool; otherwise the connection is dropped and the upstream stops.
func (s *EventStream) Release() {
	if s.idle != nil {
		s.idle.Stop()
	}
	s.mu.Lock()
	ended := s.ended
	s.mu.Unlock()
	if ended {
		_ = CloseEnded(s.body)
	} else {
		_ = s.body.Close()
	}
	s.cancel(errStreamClosed)
}

// Unary is the Stream of a non-streamed answer: one chunk, whose usage is
// the stream's from the start, since the upstream has counted it already.
type Unary struct {
	*llm.SliceStream
	usage llm.Usage
}

// NewUnary returns a Stream of the one chunk c.
func NewUnary(c *llm.Chunk) *Unary {
	u := &Unary{SliceStream: llm.NewSliceStream(nil, c)}
	if c.Usage != nil {
		u.usage = *c.Usage
	}
	return u
}

// Usage implements llm.Stream.
func (u *Unary) Usage() llm.Usage { return u.usage }
