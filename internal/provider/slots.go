package provider

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// ErrPoolExhausted is the failure of a request that found every one of
// its provider's connections (providers[].max_connections) in use for the
// whole of providers[].pool_timeout. It is a transport failure: the
// router treats it as the upstream being unavailable.
var ErrPoolExhausted = errors.New("upstream connection pool exhausted: every connection stayed in use for the pool timeout (providers[].max_connections, pool_timeout)")

// slots bound the requests in progress per upstream host: a request holds
// a slot from before its connection is taken until its response body is
// closed (or its round trip fails). Over HTTP/1.1 that is a connection
// each, so the slots bound the pool's connections in use; over HTTP/2 the
// requests multiplexed. A request that finds none free waits up to the
// pool timeout, then fails with ErrPoolExhausted.
type slots struct {
	max     int
	timeout time.Duration

	mu    sync.Mutex
	hosts map[string]chan struct{}

	// Counted for llmgw_upstream_connection_waits_total and its
	// companions (Pools).
	waits, timeouts atomic.Int64
	waitNanos       atomic.Int64
}

func newSlots(max int, timeout time.Duration) *slots {
	if max <= 0 {
		return nil
	}
	return &slots{max: max, timeout: timeout, hosts: make(map[string]chan struct{})}
}

func (s *slots) host(key string) chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.hosts[key]
	if ch == nil {
		ch = make(chan struct{}, s.max)
		s.hosts[key] = ch
	}
	return ch
}

// acquire takes a slot for key, waiting up to the pool timeout; it returns
// the function that gives the slot back (once, however often called).
func (s *slots) acquire(ctx context.Context, key string) (func(), error) {
	if s == nil {
		return func() {}, nil
	}
	ch := s.host(key)
	var once sync.Once
	release := func() { once.Do(func() { <-ch }) }
	select {
	case ch <- struct{}{}:
		return release, nil
	default:
	}
	s.waits.Add(1)
	start := time.Now()
	timer := time.NewTimer(s.timeout)
	defer timer.Stop()
	defer func() { s.waitNanos.Add(int64(time.Since(start))) }()
	select {
	case ch <- struct{}{}:
		return release, nil
	case <-timer.C:
		s.timeouts.Add(1)
		return nil, ErrPoolExhausted
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// slotBody gives its request's slot back when the body is closed.
type slotBody struct {
	io.ReadCloser
	release func()
}

func (b *slotBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}

// CloseEnded keeps the body's own CloseEnded (h1.go) behind the wrapper.
func (b *slotBody) CloseEnded() error {
	err := CloseEnded(b.ReadCloser)
	b.release()
	return err
}

// roundTrip runs rt within a slot of key: the slot is held until the
// response's body is closed, or given back at once when there is no
// response.
func (s *slots) roundTrip(req *http.Request, key string, rt func(*http.Request) (*http.Response, error)) (*http.Response, error) {
	if s == nil {
		return rt(req)
	}
	release, err := s.acquire(req.Context(), key)
	if err != nil {
		closeRequestBody(req)
		return nil, err
	}
	resp, err := rt(req)
	if err != nil || resp == nil || resp.Body == nil {
		release()
		return resp, err
	}
	resp.Body = &slotBody{ReadCloser: resp.Body, release: release}
	return resp, nil
}
