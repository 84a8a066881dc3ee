package idempotency

import (
	"context"
	"net/http"
	"time"
)

// Join is a request that gets another's response: a result kept, a flight
// of this process to follow, or a request that runs on another replica,
// whose result it waits for.
type Join struct {
	res *Result
	f   *flight
	// s, id and fp: the request runs elsewhere.
	s  *Store
	id ID
	fp Fingerprint
}

// Serve writes the response to w, marked with Idempotent-Replayed. It
// returns false, with nothing written, when there is none to give (the
// leader ended without an answer to share, or gave up its key): the
// request then begins again. ctx bounds the wait.
func (j *Join) Serve(ctx context.Context, w http.ResponseWriter) (bool, error) {
	switch {
	case j.res != nil:
		writeResult(w, j.res)
		return true, nil
	case j.f != nil:
		return j.f.follow(ctx, w)
	}
	return j.await(ctx, w)
}

// Replayed reports whether the response is one kept after its request
// ended, rather than one under way.
func (j *Join) Replayed() bool { return j.res != nil }

// await polls for the result of a request run by another replica, with
// a backoff, until it is kept or its lease is gone.
func (j *Join) await(ctx context.Context, w http.ResponseWriter) (bool, error) {
	delay := firstPoll
	t := time.NewTimer(delay)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-t.C:
		}
		cctx, cancel := context.WithTimeout(ctx, j.s.timeout)
		e, found, err := j.s.b.get(cctx, j.id)
		cancel()
		switch {
		case err != nil && j.s.failClosed:
			return false, unavailable(err)
		case err != nil || !found:
			return false, nil // begin again: lead, or serve without the store
		case e.fp != j.fp:
			return false, conflict()
		case e.res != nil:
			writeResult(w, e.res)
			return true, nil
		}
		delay = min(2*delay, lastPoll)
		t.Reset(delay)
	}
}

// writeResult replays a kept result.
func writeResult(w http.ResponseWriter, res *Result) {
	writeHead(w, res.Status, res.Header)
	_, _ = w.Write(res.Body)
}
