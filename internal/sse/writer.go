package sse

import (
	"errors"
	"net/http"
	"strings"
)

// errEventTypeLineBreak rejects an event type that would break the framing.
var errEventTypeLineBreak = errors.New("sse: event type contains a line break")

// maxRetainedBuf is the largest encoding buffer a Writer keeps between events;
// a rare huge event should not pin its memory for the rest of the stream.
const maxRetainedBuf = 64 << 10

// SetHeaders sets the response headers of an event stream: the content type,
// and no caching or buffering by the client or proxies (X-Accel-Buffering is
// honoured by nginx). It removes any Content-Length. It does not set
// Connection: that header is hop-by-hop, meaningless to an HTTP/1.1 client
// that already keeps the connection open, and forbidden in HTTP/2.
func SetHeaders(h http.Header) {
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	h.Del("Content-Length")
}

// Writer writes Server-Sent Events to an HTTP response, one event per call,
// each flushed to the client at once unless the Writer holds (see Hold). Call SetHeaders on the response's headers
// before the first event. It is not safe for concurrent use.
type Writer struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	buf     []byte
	noFlush bool // the ResponseWriter cannot flush: write without flushing
	hold    bool // leave written events unflushed until Flush
	pending bool // events written since the last flush
}

// NewWriter returns a Writer for w. It flushes through
// http.NewResponseController, so wrappers of the ResponseWriter need an
// Unwrap method; a ResponseWriter that cannot flush at all is written to
// without flushing.
func NewWriter(w http.ResponseWriter) *Writer {
	return &Writer{w: w, rc: http.NewResponseController(w), buf: make([]byte, 0, 1024)}
}

// WriteEvent writes one event with the given type ("" for none) and data, then
// flushes. Each line of data becomes a "data:" line; since the format cannot
// carry a CR, line breaks (LF, CRLF or CR) in data reach the reader as LF.
// An event type containing a line break is rejected.
func (w *Writer) WriteEvent(eventType string, data []byte) error {
	if strings.ContainsAny(eventType, "\r\n") {
		return errEventTypeLineBreak
	}
	b := w.buf[:0]
	if eventType != "" {
		b = append(b, "event: "...)
		b = append(b, eventType...)
		b = append(b, '\n')
	}
	for {
		b = append(b, "data: "...)
		i := indexEOL(data)
		if i < 0 {
			b = append(b, data...)
			break
		}
		b = append(b, data[:i]...)
		b = append(b, '\n')
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		data = data[i+1:]
	}
	b = append(b, "\n\n"...)
	return w.send(b)
}

// WriteData writes one event with data and no type, then flushes. It is
// WriteEvent("", data).
func (w *Writer) WriteData(data []byte) error {
	return w.WriteEvent("", data)
}

// WriteComment writes a comment, which readers ignore, then flushes: a
// keep-alive that stops proxies from closing an idle stream. Line breaks in
// text start new comment lines.
func (w *Writer) WriteComment(text string) error {
	b := append(w.buf[:0], ':')
	if text != "" {
		b = append(b, ' ')
	}
	for i := 0; i < len(text); i++ {
		switch c := text[i]; c {
		case '\r', '\n':
			if c == '\r' && i+1 < len(text) && text[i+1] == '\n' {
				i++
			}
			b = append(b, "\n: "...)
		default:
			b = append(b, c)
		}
	}
	b = append(b, "\n\n"...)
	return w.send(b)
}

// Hold switches flushing after each event off (true) or back on (false).
// While it is off, events stay in the response's buffer until Flush, or
// until the buffer fills, so that events already in hand go out in one
// write. A relay holds while it knows the next event is ready, and must call
// Flush before it waits for anything. Switching it back on does not flush.
func (w *Writer) Hold(on bool) { w.hold = on }

// Flush sends the events written since the last flush to the client. It does
// nothing when there are none.
func (w *Writer) Flush() error {
	if !w.pending {
		return nil
	}
	w.pending = false
	if w.noFlush {
		return nil
	}
	err := w.rc.Flush()
	if errors.Is(err, http.ErrNotSupported) {
		w.noFlush = true
		return nil
	}
	return err
}

// send writes one encoded event and flushes it unless the Writer holds.
func (w *Writer) send(b []byte) error {
	if cap(b) <= maxRetainedBuf {
		w.buf = b[:0]
	} else {
		w.buf = make([]byte, 0, 1024)
	}
	if _, err := w.w.Write(b); err != nil {
		return err
	}
	w.pending = true
	if w.hold {
		return nil
	}
	return w.Flush()
}
