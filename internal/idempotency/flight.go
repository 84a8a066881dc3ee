package idempotency

import (
	"context"
	"net/http"
	"sync"
)

// flight is a request under way in this process, led by one request and
// followed by any number of joiners: what its leader has written so far,
// kept for the joiners to copy as it grows.
type flight struct {
	fp Fingerprint
	// claimed is closed once the flight's claim on its key is settled:
	// it leads, or it was abandoned.
	claimed chan struct{}
	// gone is closed once the flight is no longer its key's (Store.forget).
	gone chan struct{}
	mu   sync.Mutex
	// changed is closed at the next change when waiting is set.
	changed chan struct{}
	waiting bool
	status  int
	header  http.Header
	// body only grows while the flight runs: a joiner may read what it
	// was given of it without the lock.
	body []byte
	done bool
	// over: the body outgrew the largest record; it is no longer kept,
	// and joiners that began to copy it cannot finish.
	over bool
}

func newFlight(fp Fingerprint) *flight {
	return &flight{fp: fp, changed: make(chan struct{}), claimed: make(chan struct{}), gone: make(chan struct{})}
}

// notify wakes the joiners waiting for a change; f.mu is held.
func (f *flight) notify() {
	if f.waiting {
		close(f.changed)
		f.changed = make(chan struct{})
		f.waiting = false
	}
}

// begin records the response's status and headers.
func (f *flight) begin(status int, h http.Header) {
	f.mu.Lock()
	f.status, f.header = status, h
	f.notify()
	f.mu.Unlock()
}

// add appends b to the body, and reports true when that made the body
// outgrow max: it is then dropped.
func (f *flight) add(b []byte, max int64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.over {
		return false
	}
	if int64(len(f.body)+len(b)) > max {
		f.over, f.body = true, nil
		f.notify()
		return true
	}
	f.body = append(f.body, b...)
	f.notify()
	return false
}

// end marks the flight done and returns what it produced.
func (f *flight) end() (status int, h http.Header, body []byte, over bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.done = true
	f.notify()
	return f.status, f.header, f.body, f.over
}

// void reports whether the flight ended with no response to share: it
// was abandoned, or its leader wrote nothing.
func (f *flight) void() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.done && (f.status == 0 || f.over)
}

// view is a joiner's look at a flight.
type view struct {
	status     int
	header     http.Header
	body       []byte
	done, over bool
	changed    chan struct{}
}

// look returns the flight's state, and a channel closed at its next
// change.
func (f *flight) look() view {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waiting = true
	return view{f.status, f.header, f.body, f.done, f.over, f.changed}
}

// follow copies the flight to w as it grows: the status and headers once
// the leader has written them, then each new piece of the body, flushed.
// It returns false, with nothing written, when the flight ended without a
// response to share, and ErrTruncated when the body outgrew the largest
// record after w had been given part of it.
func (f *flight) follow(ctx context.Context, w http.ResponseWriter) (bool, error) {
	off, began := 0, false
	rc := http.NewResponseController(w)
	for {
		v := f.look()
		if v.over {
			if !began {
				return false, nil
			}
			return true, ErrTruncated
		}
		if v.status != 0 && !began {
			writeHead(w, v.status, v.header)
			began = true
		}
		if began && len(v.body) > off {
			if _, err := w.Write(v.body[off:]); err != nil {
				return true, err
			}
			off = len(v.body)
			_ = rc.Flush()
		}
		if v.done {
			return began, nil
		}
		select {
		case <-v.changed:
		case <-ctx.Done():
			return began, ctx.Err()
		}
	}
}

// writeHead writes a replayed response's status and headers.
func writeHead(w http.ResponseWriter, status int, h http.Header) {
	dst := w.Header()
	for k, vs := range h {
		dst[k] = append([]string(nil), vs...)
	}
	dst.Set(ReplayedHeader, "true")
	w.WriteHeader(status)
}
