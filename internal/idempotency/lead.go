package idempotency

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/llmgw/llmgw/internal/llm"
)

// Lead is the request that runs for its key: what it writes goes to its
// client and to the record that its joiners follow and that is kept.
type Lead struct {
	s       *Store
	id      ID
	f       *flight
	lease   []byte
	claimed bool
	// stop ends the renewal of a lease in Redis, which closes stopped.
	stop, stopped chan struct{}
	once          sync.Once
}

// renew extends the lease every third of its length until stop.
func (l *Lead) renew() {
	defer close(l.stopped)
	t := time.NewTicker(l.s.lease / 3)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), l.s.timeout)
			if err := l.s.b.renew(ctx, l.id, l.lease); err != nil {
				l.s.log.Warn("idempotency lease not renewed", "err", llm.Clip(err.Error()))
			}
			cancel()
		}
	}
}

// stopRenewal stops the renewal of the lease, if any, and waits for it.
func (l *Lead) stopRenewal() {
	if l.stop == nil {
		return
	}
	l.once.Do(func() { close(l.stop) })
	<-l.stopped
}

// Writer returns the writer the request writes its response to: w, which
// it stops writing to at the first failure (the client went away) while
// the response is still recorded to its end.
func (l *Lead) Writer(w http.ResponseWriter) http.ResponseWriter {
	return &tee{w: w, l: l}
}

// Finish ends the request. Its response is kept when keep is true, it was
// written, and it fits the largest record; otherwise the key is free
// again, for the next request with it to run anew. The joiners following
// the request get it to its end either way.
func (l *Lead) Finish(keep bool) {
	l.stopRenewal()
	status, h, body, over := l.f.end()
	s := l.s
	if l.claimed {
		res := &Result{Status: status, Header: h, Body: body}
		if keep && status != 0 && !over && res.size() <= s.maxRecord {
			ctx, cancel := context.WithTimeout(context.Background(), max(s.timeout, storeTimeout))
			if err := s.b.store(ctx, l.id, l.lease, res); err != nil {
				s.log.Warn("idempotency result not kept", "err", llm.Clip(err.Error()))
			}
			cancel()
		} else {
			l.release()
		}
	} else if s.redis {
		// The claim failed to answer, or the key was freed when the
		// response outgrew the largest record: a lease it may have taken
		// goes, without a warning should Redis still not answer.
		s.forgetLease(l.id, l.lease)
	}
	// Removed once the result is kept: a request with the key finds the
	// flight or the result, never neither.
	s.forget(l.id, l.f)
}

// release gives up the lease.
func (l *Lead) release() {
	ctx, cancel := context.WithTimeout(context.Background(), l.s.timeout)
	defer cancel()
	if err := l.s.b.release(ctx, l.id, l.lease); err != nil {
		l.s.log.Warn("idempotency lease not released", "err", llm.Clip(err.Error()))
	}
}

// overflowed frees the key of a response too large to keep at once: the
// next request with it runs anew rather than wait for this one.
func (l *Lead) overflowed() {
	l.s.forget(l.id, l.f)
	if l.claimed {
		l.release()
		l.claimed = false
	}
}

// tee writes a leader's response to its client and to its flight.
type tee struct {
	w     http.ResponseWriter
	l     *Lead
	began bool
	// gone: a write to the client failed; the rest is only recorded.
	gone bool
}

func (t *tee) Header() http.Header { return t.w.Header() }

func (t *tee) WriteHeader(code int) {
	if t.began || code < 200 {
		return
	}
	t.began = true
	t.l.f.begin(code, keptHeaders(t.w.Header()))
	t.w.WriteHeader(code)
}

func (t *tee) Write(b []byte) (int, error) {
	if !t.began {
		t.WriteHeader(http.StatusOK)
	}
	if t.l.f.add(b, t.l.s.maxRecord) {
		t.l.overflowed()
	}
	if !t.gone {
		if _, err := t.w.Write(b); err != nil {
			t.gone = true
		}
	}
	return len(b), nil
}

// FlushError flushes to the client while it is there.
func (t *tee) FlushError() error {
	if !t.gone {
		if err := http.NewResponseController(t.w).Flush(); err != nil {
			t.gone = true
		}
	}
	return nil
}

// Unwrap lets http.ResponseController reach the client's writer.
func (t *tee) Unwrap() http.ResponseWriter { return t.w }

// Status returns the status the response was written with, 0 if none.
func (l *Lead) Status() int {
	l.f.mu.Lock()
	defer l.f.mu.Unlock()
	return l.f.status
}
