package router

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/pipeline"
	"github.com/llmgw/llmgw/internal/provider"
)

// Causes with which the router cancels an attempt of its own accord.
var (
	errFirstToken = errors.New("router: first token timeout")
	errIdle       = errors.New("router: stream idle timeout")
	errTotal      = errors.New("router: total timeout")
	errClosed     = errors.New("router: stream closed")
)

// attempt is one try of a call on one target.
type attempt struct {
	m        *Model
	t        *target
	call     *pipeline.Call
	model    string // the upstream model id
	deadline time.Time
	n        int // the call's attempt number, from 1
}

// try sends the call to the target and waits for the first chunk, within
// the first-token timeout: only then has the attempt succeeded, and the
// stream returned replays that chunk and goes on. Until then, nothing has
// reached the client and a failure can be retried elsewhere.
func (r *Router) try(ctx context.Context, a *attempt) (llm.Stream, error) {
	ctx, span := r.startAttempt(ctx, a, a.n)
	tm := a.t.Timeouts.or(a.m.Timeouts)
	start := time.Now()
	// The stream is made up front: it holds what releasing the attempt
	// needs, on failure as on success.
	rs := &routed{t: a.t, tm: tm, idle: tm.StreamIdle, parent: ctx}
	actx, cancel := context.WithCancelCause(ctx)
	rs.ctx, rs.cancel = actx, cancel
	dl := a.deadline
	if tm.Total > 0 && (dl.IsZero() || start.Add(tm.Total).Before(dl)) {
		dl = start.Add(tm.Total)
	}
	// A deadline that is the request's own needs no timer: ctx ends then,
	// and so the attempt, which explain reports as the request deadline.
	if pdl, ok := ctx.Deadline(); !dl.IsZero() && (!ok || dl.Before(pdl)) {
		rs.total = time.AfterFunc(time.Until(dl), func() { cancel(errTotal) })
	}
	a.t.inflight.Add(1)
	actx = provider.WithHeadroomFunc(actx, a.t.onHeadroom)
	var ttft *time.Timer
	if tm.FirstToken > 0 && (a.call.Stream || a.call.Op != pipeline.OpChat) {
		ttft = time.AfterFunc(tm.FirstToken, func() { cancel(errFirstToken) })
	}
	s, err := r.open(actx, a)
	var first *llm.Chunk
	if err == nil {
		first, err = s.Recv()
	}
	late := ttft != nil && !ttft.Stop()
	if (err == nil || err == io.EOF) && (late || actx.Err() != nil) {
		// A timer fired while the first chunk was arriving: the attempt's
		// context is cancelled and the stream would fail at its next chunk.
		// Nothing has reached the client yet, so the attempt fails here and
		// may be retried.
		cancel(errFirstToken) // no-op when a cause is already set
		err = context.Cause(actx)
	}
	elapsed := time.Since(start)
	if err != nil && err != io.EOF {
		if s != nil {
			_ = s.Close()
		}
		err = explain(ctx, actx, a.t, tm, err)
		failAttempt(span, err)
		rs.release()
		a.t.inflight.Add(-1)
		return nil, err
	}
	r.metrics.ttft.WithLabelValues(a.t.Provider.Name(), a.m.Name).Observe(elapsed.Seconds())
	a.t.observeLatency(elapsed, false)
	rs.s, rs.first, rs.firstErr, rs.span = s, first, err, span
	if inHand(s) {
		// The whole answer is in: the attempt is over.
		a.t.durationOK.Observe(elapsed.Seconds())
	} else {
		// A stream's attempt ends with the stream (finish).
		rs.start, rs.durations = start, r.metrics.duration
		if rs.idle > 0 {
			rs.timer = llm.NewIdleTimer(rs.idle, func() { cancel(errIdle) })
		}
	}
	return rs, nil
}

// inHand reports whether every chunk of s is in memory: a non-streamed
// answer, whose Recv never waits for the upstream. No wait of it can reach
// the stream idle timeout, so it needs no idle timer.
func inHand(s llm.Stream) bool {
	switch s.(type) {
	case *provider.Unary, *llm.SliceStream:
		return true
	}
	return false
}

// open starts the call on the target: the fast path when the provider
// speaks the client's protocol and no stage needs the body, else the
// canonical request; embeddings through the Embedder.
func (r *Router) open(ctx context.Context, a *attempt) (llm.Stream, error) {
	call, p := a.call, a.t.Provider
	if call.Op == pipeline.OpEmbed {
		e, ok := p.(provider.Embedder)
		if !ok {
			return nil, llm.InvalidRequest("model", "model %q does not support embeddings", llm.Clip(call.Model))
		}
		req := *call.Embed
		req.Model = a.model
		resp, err := e.Embed(ctx, &req)
		if err != nil {
			return nil, err
		}
		call.Embedding = resp
		u := resp.Usage
		return llm.NewSliceStream(nil, &llm.Chunk{Model: resp.Model, Usage: &u}), nil
	}
	// What an earlier attempt left out says nothing of this one.
	call.Dropped = nil
	if fw, ok := p.(provider.Forwarder); ok && call.FastPath() && provider.Forwards(fw, a.model) {
		if fw.Protocol() == call.Protocol {
			return fw.Forward(ctx, &provider.Forward{Body: call.Body, Model: a.model, Stream: call.Stream})
		}
		if ef, ok := fw.(provider.EndpointForwarder); ok && ef.ForwardsProtocol(call.Protocol) {
			return fw.Forward(ctx, &provider.Forward{Body: call.Body, Model: a.model, Stream: call.Stream, Protocol: call.Protocol})
		}
	}
	req, err := call.Decoded()
	if err != nil {
		return nil, err
	}
	up := *req
	up.Model = a.model
	rep := llm.NewParamReport(call.RefuseUnsupported)
	s, err := p.Chat(llm.WithParamReport(ctx, rep), &up)
	call.Dropped = rep.Dropped()
	return s, err
}

// explain turns the failure of an attempt into the error to report: the
// router's own timeouts become upstream_timeout whatever the provider made
// of the cancellation, and the client's going away becomes canceled.
func explain(parent, actx context.Context, t *target, tm Timeouts, err error) error {
	name := t.Provider.Name()
	switch cause := context.Cause(actx); {
	case parent.Err() != nil && errors.Is(context.Cause(parent), context.Canceled):
		return &llm.Error{Kind: llm.KindCanceled, Provider: name, Err: err}
	case parent.Err() != nil:
		return &llm.Error{Kind: llm.KindUpstreamTimeout, Provider: name, Message: "the request deadline passed", Err: err}
	case cause == errFirstToken:
		return &llm.Error{Kind: llm.KindUpstreamTimeout, Provider: name,
			Message: fmt.Sprintf("no first token from the upstream within %s", tm.FirstToken), Err: err}
	case cause == errIdle:
		return &llm.Error{Kind: llm.KindUpstreamTimeout, Provider: name,
			Message: fmt.Sprintf("upstream stream idle for longer than %s", tm.StreamIdle), Err: err}
	case cause == errTotal:
		return &llm.Error{Kind: llm.KindUpstreamTimeout, Provider: name, Message: "the upstream did not finish in time", Err: err}
	}
	var e *llm.Error
	if errors.As(err, &e) {
		return err
	}
	return provider.TransportError(name, err)
}

// routed is the stream of a successful attempt: the first chunk replayed,
// then the upstream's, each within the stream idle timeout. It belongs to
// the client: nothing in it is retried. It keeps the attempt's context to
// tell its own timeouts apart from other failures.
type routed struct {
	s        llm.Stream
	first    *llm.Chunk
	firstErr error // io.EOF when the upstream sent nothing at all
	ctx      context.Context
	parent   context.Context
	cancel   context.CancelCauseFunc // the attempt's context
	total    *time.Timer             // the total timeout; nil when ctx's deadline is the request's
	idle     time.Duration
	timer    *llm.IdleTimer
	t        *target
	tm       Timeouts
	// start is when the attempt began, and durations where its duration
	// is observed when the stream ends; nil when it was observed already
	// (an answer in hand).
	start     time.Time
	durations *prometheus.HistogramVec
	span      trace.Span // the attempt's; nil when tracing is off

	err  error // sticky
	once sync.Once
}

// Recv implements llm.Stream.
func (s *routed) Recv() (*llm.Chunk, error) {
	if s.first != nil {
		c := s.first
		s.first = nil
		return c, nil
	}
	if s.firstErr != nil {
		s.err, s.firstErr = s.firstErr, nil
		s.finish()
	}
	if s.err != nil {
		return nil, s.err
	}
	if s.timer != nil {
		s.timer.Wait()
	}
	c, err := s.s.Recv()
	if s.timer != nil {
		s.timer.Done()
	}
	if err != nil {
		if err != io.EOF && !errors.Is(err, llm.ErrStreamClosed) {
			err = explain(s.parent, s.ctx, s.t, s.tm, err)
		}
		s.err = err
		s.finish()
		return nil, err
	}
	return c, nil
}

// Buffered implements llm.Buffered: the replayed first chunk is in hand, and
// after it whatever the upstream stream says of its next one.
func (s *routed) Buffered() bool {
	if s.first != nil {
		return true
	}
	return s.err == nil && s.firstErr == nil && llm.NextBuffered(s.s)
}

// Usage implements llm.Stream: the upstream's, partial if it ended early.
func (s *routed) Usage() llm.Usage { return s.s.Usage() }

// Close implements llm.Stream; it closes the upstream stream and may be
// called while Recv is blocked in another goroutine.
func (s *routed) Close() error {
	err := s.s.Close()
	s.finish()
	return err
}

// release stops the total timeout and cancels the attempt's context.
func (s *routed) release() {
	if s.total != nil {
		s.total.Stop()
	}
	s.cancel(errClosed)
}

// finish releases the attempt once: its timers, its context and its place
// among the target's calls in flight.
func (s *routed) finish() {
	s.once.Do(func() {
		if s.timer != nil {
			s.timer.Stop()
		}
		if s.durations != nil {
			s.observeDuration()
		}
		s.release()
		s.t.inflight.Add(-1)
		s.endSpan()
	})
}

// observeDuration observes the duration of a streamed attempt that has
// ended: a success when the stream reached its end or its consumer closed
// it, else the outcome of the failure that ended it.
func (s *routed) observeDuration() {
	d := time.Since(s.start).Seconds()
	if s.err == nil || s.err == io.EOF || errors.Is(s.err, llm.ErrStreamClosed) {
		s.t.durationOK.Observe(d)
		return
	}
	s.durations.WithLabelValues(s.t.Provider.Name(), s.t.model, classify(s.err).outcome).Observe(d)
}

// endSpan ends the attempt's span, with the usage the stream reported
// when it ended (rather than being closed, perhaps while a Recv is under
// way in another goroutine).
func (s *routed) endSpan() {
	if s.span == nil {
		return
	}
	var u llm.Usage
	if s.err != nil {
		u = s.s.Usage()
	}
	err := s.err
	if err == io.EOF || errors.Is(err, llm.ErrStreamClosed) {
		err = nil
	}
	endAttempt(s.span, u, err)
}
