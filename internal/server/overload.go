package server

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/observe"
)

// overloadRetryAfter is the Retry-After of a request refused as overloaded:
// a place frees as soon as one request ends, and a load balancer or a
// client that waits a second tries a replica that has one.
const overloadRetryAfter = time.Second

// errOverloaded is the answer to a request over a concurrency ceiling.
var errOverloaded = &llm.Error{Kind: llm.KindOverloaded, RetryAfter: overloadRetryAfter}

// ceiling is one of the replica's concurrency ceilings
// (server.max_concurrent_requests, server.max_open_streams) with its
// overload queue: a request takes a place when one is free, else waits in
// the queue, first come first served, at most the queue's timeout, else
// is refused. It is process state: its count of places taken outlives the
// snapshots, and a reload that changes the ceiling or the queue applies
// them (set) to the requests that arrive after it, a raised ceiling
// letting waiting requests in at once; requests already in take their
// place until they end, even above a lowered ceiling.
//
// Places are counted with or without a ceiling, so that one set by a
// reload counts the requests already in flight.
type ceiling struct {
	mu      sync.Mutex
	limit   int // 0: no ceiling
	size    int
	timeout time.Duration
	inUse   int
	waiting []*waiter
	// after is the queue's clock (nil: a timer), and queuedHook, when
	// set, is told of each request that begins to wait: both for tests.
	after      func(time.Duration) (<-chan time.Time, func())
	queuedHook func()

	queued   prometheus.Gauge
	limitVal prometheus.Gauge
}

// waiter is a request in the queue; granted is set, under the ceiling's
// lock, when a place is handed to it, and ready closed then.
type waiter struct {
	ready   chan struct{}
	granted bool
}

// set applies a ceiling and its queue; waiting requests that now fit are
// let in.
func (c *ceiling) set(limit int, q config.OverloadQueue) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.limit, c.size, c.timeout = limit, q.Size, q.Timeout.Std()
	c.limitVal.Set(float64(limit))
	for len(c.waiting) > 0 && (c.limit == 0 || c.inUse < c.limit) {
		c.inUse++
		c.grant()
	}
}

// grant hands a place to the first waiting request. Called with mu held.
func (c *ceiling) grant() {
	w := c.waiting[0]
	c.waiting[0] = nil
	c.waiting = c.waiting[1:]
	w.granted = true
	close(w.ready)
	c.queued.Dec()
}

// acquire takes a place, waiting in the queue when none is free. It
// returns errOverloaded when the queue is full or the wait times out, and
// the context's error when the client goes away first; then no place is
// held.
func (c *ceiling) acquire(ctx context.Context) error {
	c.mu.Lock()
	if c.limit == 0 || (c.inUse < c.limit && len(c.waiting) == 0) {
		c.inUse++
		c.mu.Unlock()
		return nil
	}
	if len(c.waiting) >= c.size || c.timeout <= 0 {
		c.mu.Unlock()
		return errOverloaded
	}
	w := &waiter{ready: make(chan struct{})}
	c.waiting = append(c.waiting, w)
	c.queued.Inc()
	timeout, hook := c.timeout, c.queuedHook
	c.mu.Unlock()
	if hook != nil {
		hook()
	}

	var expired <-chan time.Time
	if c.after != nil {
		ch, stop := c.after(timeout)
		defer stop()
		expired = ch
	} else {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	var err error
	select {
	case <-w.ready:
		return nil
	case <-expired:
		err = errOverloaded
	case <-ctx.Done():
		err = &llm.Error{Kind: llm.KindCanceled, Err: context.Cause(ctx)}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if w.granted { // the place came as the wait ended
		return nil
	}
	for i, o := range c.waiting {
		if o == w {
			c.waiting = append(c.waiting[:i], c.waiting[i+1:]...)
			break
		}
	}
	c.queued.Dec()
	return err
}

// release gives back a place: to the first waiting request when the
// ceiling allows, else to the pool.
func (c *ceiling) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.waiting) > 0 && (c.limit == 0 || c.inUse <= c.limit) {
		c.grant() // the place passes on: inUse is unchanged
		return
	}
	c.inUse--
}

// overload are the replica's two ceilings and their metrics.
type overload struct {
	requests, streams ceiling
}

func newOverload(reg *observe.Registry) *overload {
	limit := observe.Register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "llmgw_concurrency_limit",
		Help: "The replica's concurrency ceiling by kind: requests (server.max_concurrent_requests) and streams (server.max_open_streams); 0 is no ceiling.",
	}, []string{"kind"}))
	queued := observe.Register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "llmgw_overload_queue_length",
		Help: "Inference requests waiting in the overload queue for a place under a concurrency ceiling, by kind (requests, streams).",
	}, []string{"kind"}))
	o := &overload{}
	o.requests.limitVal, o.requests.queued = limit.WithLabelValues("requests"), queued.WithLabelValues("requests")
	o.streams.limitVal, o.streams.queued = limit.WithLabelValues("streams"), queued.WithLabelValues("streams")
	return o
}

// apply sets the ceilings of cfg.
func (o *overload) apply(cfg *config.Server) {
	o.requests.set(cfg.MaxConcurrentRequests, cfg.OverloadQueue)
	o.streams.set(cfg.MaxOpenStreams, cfg.OverloadQueue)
}

// bounded runs h, an inference route, within server.max_concurrent_requests:
// at the edge, before authentication and before its body is read, so that
// a refusal costs the replica nothing (and its rejection has no tenant).
// A stream's place under server.max_open_streams, taken by openStream, is
// given back here when the request ends.
func (s *Server) bounded(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.over.requests.acquire(r.Context()); err != nil {
			cutBody(w, r)
			s.writeError(w, r, err)
			return
		}
		defer s.over.requests.release()
		ri := infoFrom(r.Context())
		ri.bounded = true
		defer func() {
			if ri.streamPlace {
				ri.streamPlace = false
				s.over.streams.release()
			}
		}()
		h.ServeHTTP(w, r)
	})
}

// openStream takes the place of a streamed request under
// server.max_open_streams, once its body says it is one, before any
// upstream call; bounded gives it back.
func (s *Server) openStream(r *http.Request) error {
	ri, ok := r.Context().Value(infoKey{}).(*reqInfo)
	if !ok || !ri.bounded || ri.streamPlace {
		return nil
	}
	if err := s.over.streams.acquire(r.Context()); err != nil {
		return err
	}
	ri.streamPlace = true
	return nil
}
