package providertest

import (
	"io"
	"net/http"
	"sync"
	"time"
)

// Response is one scripted answer of a fake upstream.
type Response struct {
	// Status is the HTTP status; 0 means 200.
	Status int
	// Header is added to the response headers.
	Header http.Header
	// Body is a non-streamed body, sent as application/json unless Header
	// says otherwise.
	Body []byte
	// SSE is a raw event stream, sent as text/event-stream (the fake
	// Ollama's: newline-delimited JSON, sent as application/x-ndjson).
	SSE []byte
	// Split writes SSE in pieces of Split bytes, flushing after each: 1
	// splits every event, line and multi-byte character. 0 writes it whole.
	Split int
	// Hold, when set, stops the stream after HoldAfter bytes of SSE (0: right
	// after the headers) until it is closed or the client goes away.
	Hold      chan struct{}
	HoldAfter int
	// HangUp closes the connection abruptly after writing, without ending
	// the response properly.
	HangUp bool
}

// Recorded is a request the fake received.
type Recorded struct {
	Method, Path string
	// EscapedPath is the path as it was sent, escapes kept.
	EscapedPath string
	Header      http.Header
	Body        []byte
}

// fake is the scripted core every fake upstream shares: a queue of
// responses, the requests received and the cancellations observed.
type fake struct {
	mu       sync.Mutex
	queue    []Response
	requests []Recorded
	canceled chan time.Time
	// answer answers a request nothing was enqueued for.
	answer func(r *http.Request, body []byte) Response
	// refuse, when set, answers a request the upstream would refuse
	// whatever is enqueued, which is then left for the next request.
	refuse func(r *http.Request, body []byte) (Response, bool)
	// streamType is the Content-Type of a streamed Response; empty:
	// text/event-stream.
	streamType string
}

func newFake(answer func(r *http.Request, body []byte) Response) *fake {
	return &fake{canceled: make(chan time.Time, 64), answer: answer}
}

// Enqueue adds responses to send, first in first out, to the next requests.
// With none queued the fake answers from the request itself.
func (f *fake) Enqueue(r ...Response) {
	f.mu.Lock()
	f.queue = append(f.queue, r...)
	f.mu.Unlock()
}

// Requests returns the requests received so far.
func (f *fake) Requests() []Recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Recorded(nil), f.requests...)
}

// Canceled receives the time at which a streaming handler saw its client go
// away before the stream was over.
func (f *fake) Canceled() <-chan time.Time { return f.canceled }

func (f *fake) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests = append(f.requests, Recorded{Method: r.Method, Path: r.URL.Path, EscapedPath: r.URL.EscapedPath(), Header: r.Header.Clone(), Body: body})
	if f.refuse != nil {
		if resp, ok := f.refuse(r, body); ok {
			f.mu.Unlock()
			f.write(w, r, &resp)
			return
		}
	}
	var resp Response
	scripted := len(f.queue) > 0
	if scripted {
		resp = f.queue[0]
		f.queue = f.queue[1:]
	}
	f.mu.Unlock()
	if !scripted {
		resp = f.answer(r, body)
	}
	f.write(w, r, &resp)
}

func (f *fake) write(w http.ResponseWriter, r *http.Request, resp *Response) {
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	if resp.SSE == nil && resp.Hold == nil {
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		_, _ = w.Write(resp.Body)
		if resp.HangUp {
			hangUp(w)
		}
		return
	}
	if w.Header().Get("Content-Type") == "" {
		ct := f.streamType
		if ct == "" {
			ct = "text/event-stream; charset=utf-8"
		}
		w.Header().Set("Content-Type", ct)
	}
	w.WriteHeader(status)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	if !f.stream(r, rc, w, resp) {
		select {
		case f.canceled <- time.Now():
		default: // nobody is watching that many cancellations
		}
		return
	}
	if resp.HangUp {
		hangUp(w)
	}
}

// stream writes resp.SSE as told and reports false if the client went away.
func (f *fake) stream(r *http.Request, rc *http.ResponseController, w io.Writer, resp *Response) bool {
	data := resp.SSE
	split := resp.Split
	if split <= 0 {
		split = len(data) + 1
	}
	held := resp.Hold == nil
	for off := 0; ; {
		if !held && off >= resp.HoldAfter {
			held = true
			select {
			case <-resp.Hold:
			case <-r.Context().Done():
				return false
			}
		}
		if off >= len(data) {
			return true
		}
		end := min(off+split, len(data))
		if !held && resp.HoldAfter > off {
			end = min(end, resp.HoldAfter)
		}
		if _, err := w.Write(data[off:end]); err != nil {
			return false
		}
		if rc.Flush() != nil {
			return false
		}
		off = end
	}
}

// hangUp drops the connection without ending the response.
func hangUp(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}
