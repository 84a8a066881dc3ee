package bedrock

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/schemas"
	"github.com/aws/smithy-go/transport/http/protocol/restjson1"

	"github.com/llmgw/llmgw/internal/llm"
)

// Causes with which a stream cancels its own upstream request.
var (
	errStreamIdle   = errors.New("bedrock: stream idle timeout")
	errStreamClosed = errors.New("bedrock: stream closed")
)

// eventStream is the transport half of a stream over one of the SDK's
// event streams (ConverseStream, InvokeModelWithResponseStream): the SDK
// decodes the binary event stream in its own goroutine into a channel;
// this reads the channel with the idle timeout, records the terminal error
// and the usage, and stops the SDK's reader on Close. The adapter's streams
// embed it.
type eventStream struct {
	p      *Provider
	ctx    context.Context
	cancel context.CancelCauseFunc
	stop   func() error // the SDK stream's Close
	failed func() error // the SDK stream's Err
	idle   *llm.IdleTimer
	err    error // sticky: io.EOF after the end, or the failure

	mu     sync.Mutex
	usage  llm.Usage
	closed bool
}

// open prepares s for a stream whose request runs under ctx, cancelled
// with cancel.
func (s *eventStream) open(p *Provider, ctx context.Context, cancel context.CancelCauseFunc) {
	s.p, s.ctx, s.cancel = p, ctx, cancel
	if p.idle > 0 {
		s.idle = llm.NewIdleTimer(p.idle, func() { cancel(errStreamIdle) })
	}
}

// next receives from events with the idle timeout. ok is false once the
// channel is closed.
func next[T any](s *eventStream, events <-chan T) (T, bool) {
	if s.idle != nil {
		s.idle.Wait()
	}
	ev, ok := <-events
	if s.idle != nil {
		s.idle.Done()
	}
	return ev, ok
}

// ended returns the error of a stream whose events ran out: complete is
// whether the upstream's last event had come.
func (s *eventStream) ended(complete bool) error {
	switch cause := context.Cause(s.ctx); {
	case s.isClosed() || cause == errStreamClosed:
		return llm.ErrStreamClosed
	case cause == errStreamIdle:
		return s.fail(&llm.Error{Kind: llm.KindUpstreamTimeout, Provider: s.p.name,
			Message: fmt.Sprintf("upstream stream idle for longer than %s", s.p.idle), Err: cause})
	case cause != nil:
		return s.fail(s.p.apiError(cause))
	}
	if err := s.failed(); err != nil {
		return s.fail(s.p.apiError(err))
	}
	if !complete {
		return s.fail(&llm.Error{Kind: llm.KindUpstream, Provider: s.p.name,
			Message: "upstream stream ended before completion", Err: io.ErrUnexpectedEOF})
	}
	s.err = io.EOF
	s.release()
	return io.EOF
}

// fail records err as the stream's terminal error and stops the upstream.
func (s *eventStream) fail(err error) error {
	s.err = err
	s.release()
	return err
}

func (s *eventStream) release() {
	if s.idle != nil {
		s.idle.Stop()
	}
	s.cancel(errStreamClosed)
	_ = s.stop()
}

func (s *eventStream) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *eventStream) setUsage(u llm.Usage) {
	s.mu.Lock()
	s.usage = u
	s.mu.Unlock()
}

// Usage implements llm.Stream.
func (s *eventStream) Usage() llm.Usage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.usage
}

// Close implements llm.Stream; it may be called while Recv waits in
// another goroutine.
func (s *eventStream) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.release()
	return nil
}

// ownCodec gives one streaming call its own event stream decoder. The
// SDK's client keeps one protocol, and in it one event stream codec whose
// decoder and payload buffer every stream's reader goroutine writes
// (smithy-go internal/eventstream Codec.DeserializeEventMessage): two
// streams at once on one client would read into the same buffer. A fresh
// protocol per stream costs one small allocation.
func ownCodec(o *bedrockruntime.Options) {
	o.Protocol = restjson1.New(schemas.AmazonBedrockFrontendService)
}

// created is the creation time of a stream's chunks.
func created() int64 { return time.Now().Unix() }
