package server

import (
	"errors"
	"net/http"
	"os"
	"time"
)

// A request's headers and body must arrive within server.read_timeout
// (http.Server.ReadTimeout, counted from the request's first byte); a body
// that does not is cut, and the handler answers 408 and closes the
// connection (see readBody and writeError).
//
// The deadline covers the request only, never a response: net/http clears
// it when it begins its background read of the connection (the read that
// notices a client going away), which happens once the handler has read
// the body to its end, or before the handler for a request without a body
// (net/http's connReader.startBackgroundRead). A stream may therefore last
// longer than read_timeout; TestStreamOutlivesReadTimeout holds that to
// account should net/http change.

// bodyPending reports whether r has a body still to come from the client.
func bodyPending(r *http.Request) bool {
	return r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0
}

// isReadTimeout reports whether err is a read that passed its deadline.
func isReadTimeout(err error) bool {
	return errors.Is(err, os.ErrDeadlineExceeded)
}

// cutBody ends the reading of a body the handler will not read: the
// response says the connection closes, and the server, rather than wait
// for the rest of the body (up to read_timeout) to discard it, finds it cut
// at once. An unauthenticated client then costs no more than its headers,
// and its answer does not wait for its body.
func cutBody(w http.ResponseWriter, r *http.Request) {
	if !bodyPending(r) {
		return
	}
	w.Header().Set("Connection", "close")
	_ = http.NewResponseController(w).SetReadDeadline(time.Now())
}
