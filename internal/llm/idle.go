package llm

import (
	"sync"
	"sync/atomic"
	"time"
)

// IdleTimer calls a function when one wait lasts longer than a limit: the
// stream idle timeout, which counts only the time spent waiting for the
// upstream. Marking a wait's start and end costs a clock read and an atomic
// store, where resetting and stopping a time.Timer around every chunk takes
// the runtime's timer lock twice; one timer re-arms itself instead, so it
// fires at most once per limit while waits keep ending in time. It is safe
// for concurrent use.
type IdleTimer struct {
	limit time.Duration
	fire  func()
	base  time.Time
	since atomic.Int64 // start of the current wait in ns after base, plus 1; 0 when not waiting

	mu      sync.Mutex
	t       *time.Timer
	stopped bool
}

// NewIdleTimer returns a running IdleTimer that calls fire, at most once and
// in its own goroutine, when a wait marked by Wait and Done lasts limit or
// longer. Stop it when the stream ends.
func NewIdleTimer(limit time.Duration, fire func()) *IdleTimer {
	it := &IdleTimer{limit: limit, fire: fire, base: time.Now()}
	it.mu.Lock()
	it.t = time.AfterFunc(limit, it.check)
	it.mu.Unlock()
	return it
}

// Wait marks the start of a wait for the upstream.
func (it *IdleTimer) Wait() { it.since.Store(int64(time.Since(it.base)) + 1) }

// Done marks the end of the wait.
func (it *IdleTimer) Done() { it.since.Store(0) }

// Stop stops the timer; fire is not called after Stop returns unless it had
// already begun. Stop is idempotent.
func (it *IdleTimer) Stop() {
	it.mu.Lock()
	it.stopped = true
	it.t.Stop()
	it.mu.Unlock()
}

// check runs when the timer goes off: it fires when the current wait has
// lasted the limit, else re-arms for the moment the wait would reach it.
func (it *IdleTimer) check() {
	next := it.limit
	if s := it.since.Load(); s != 0 {
		waited := time.Since(it.base) - time.Duration(s-1)
		if waited >= it.limit {
			it.mu.Lock()
			stopped := it.stopped
			it.stopped = true
			it.mu.Unlock()
			if !stopped {
				it.fire()
			}
			return
		}
		next = it.limit - waited
	}
	it.mu.Lock()
	if !it.stopped {
		it.t.Reset(next)
	}
	it.mu.Unlock()
}
