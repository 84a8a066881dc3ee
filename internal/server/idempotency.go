package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/llmgw/llmgw/internal/idempotency"
	"github.com/llmgw/llmgw/internal/llm"
)

// leadGrace is how much longer than the request timeout a keyed request
// may run once its client has gone, so that a call cut by the request
// timeout still ends with its error (in the response kept for the
// joiners) rather than look like a client that left.
const leadGrace = 5 * time.Second

// maxIdempotencyRounds bounds how many times a keyed request begins
// again after joining a request that ended with nothing to share.
const maxIdempotencyRounds = 8

// idempotent runs h at most once per Idempotency-Key of the caller's
// tenant (package idempotency): the first request with a key leads and
// runs, a repeat with the same method, path and body joins it while it
// runs or replays its response after, and a repeat with another is a 409.
// It runs after authentication, which tells the tenant; a request without
// the header goes straight to h.
//
// The leader runs to its end even when its client goes away, under a
// context detached from its client's and bounded by the request timeout
// (and still cut by the end of a drain), so that the client's retry finds
// its response rather than call the upstream again.
func (s *Server) idempotent(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		keys, present := r.Header[idempotency.Header]
		if !present {
			h(w, r)
			return
		}
		snap := s.current(r)
		store := snap.Idempotency
		if store == nil {
			h(w, r)
			return
		}
		if len(keys) != 1 || !idempotency.ValidKey(keys[0]) {
			cutBody(w, r)
			s.writeError(w, r, llm.InvalidRequest(idempotency.Header,
				"the Idempotency-Key header must be one value of 1 to %d printable ASCII characters", idempotency.MaxKeyLen))
			return
		}
		body, err := s.readBody(w, r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		ri := infoFrom(r.Context())
		tenant := ri.tenantID
		if tenant == "" {
			tenant = ri.tenant
		}
		id := idempotency.IDOf(tenant, keys[0])
		fp := idempotency.FingerprintOf(r.Method, r.URL.Path, body)
		timeout := snap.Config.Server.RequestTimeout.Std()
		jctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		for range maxIdempotencyRounds {
			lead, join, err := store.Begin(jctx, id, fp)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			if lead != nil {
				s.runLead(lead, h, w, r, body, timeout)
				return
			}
			served, err := join.Serve(jctx, w)
			switch {
			case served && errors.Is(err, idempotency.ErrTruncated):
				// Part of a response too large to keep was given: the
				// client must see it broken, never complete.
				panic(http.ErrAbortHandler)
			case served:
				return
			case err != nil:
				s.writeError(w, r, err)
				return
			}
		}
		s.writeError(w, r, llm.NewError(llm.KindUnavailable, "the request for this Idempotency-Key did not settle; retry shortly"))
	}
}

// runLead runs h as the leader of its key, with body as its request body,
// and keeps its response when it is one to give again (see keepable).
func (s *Server) runLead(lead *idempotency.Lead, h http.HandlerFunc, w http.ResponseWriter, r *http.Request, body []byte, timeout time.Duration) {
	ctx, cancel := detach(r, timeout+leadGrace)
	defer cancel()
	finished := false
	defer func() {
		if !finished { // h panicked: nothing is kept
			lead.Finish(false)
		}
	}()
	lr := r.WithContext(ctx)
	lr.Body = io.NopCloser(bytes.NewReader(body))
	lr.ContentLength = int64(len(body))
	h(lead.Writer(w), lr)
	ri := infoFrom(r.Context())
	finished = true
	lead.Finish(keepable(lead.Status(), ri.errCode != ""))
}

// keepable reports whether a leader's response is one its key answers
// with from then on: a success that did not end in an error event, or a
// refusal of the request's body (400, 413, 422), which the same body
// would get again. Everything else (401, 403, 404, 408, 409, 429, 499,
// 5xx, a stream cut short) frees the key, for a retry to run anew.
func keepable(status int, failed bool) bool {
	switch {
	case status >= 200 && status < 300:
		return !failed
	case status == http.StatusBadRequest, status == http.StatusRequestEntityTooLarge, status == http.StatusUnprocessableEntity:
		return true
	}
	return false
}

// detach returns a context with r's values that its client going away
// does not cancel, bounded by timeout, and canceled with errShuttingDown
// when the drain deadline passes.
func detach(r *http.Request, timeout time.Duration) (context.Context, context.CancelFunc) {
	parent := r.Context()
	ctx, cancel := context.WithCancelCause(context.WithoutCancel(parent))
	stop := context.AfterFunc(parent, func() {
		if context.Cause(parent) == error(errShuttingDown) {
			cancel(errShuttingDown)
		}
	})
	tctx, tcancel := context.WithTimeout(ctx, timeout)
	return tctx, func() {
		stop()
		tcancel()
		cancel(nil)
	}
}
