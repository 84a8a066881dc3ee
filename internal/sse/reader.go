package sse

import (
	"bytes"
	"errors"
	"io"
)

// DefaultMaxEventSize is the maximum event size a Reader uses when NewReader is
// given zero or a negative size. It is far above any streamed chunk a provider
// sends, and still bounds what a misbehaving upstream can make us buffer.
const DefaultMaxEventSize = 8 << 20

// ErrEventTooLarge is returned by Reader.Next when an event's data, or a single
// line of the stream, exceeds the Reader's maximum event size.
var ErrEventTooLarge = errors.New("sse: event too large")

// errInvalidRead is returned when the underlying reader reports an impossible
// byte count, which would otherwise corrupt the buffer.
var errInvalidRead = errors.New("sse: invalid count from underlying reader")

const (
	// lineAllowance is how much longer than the maximum event size a single line
	// may be: room for the field name, the colon and the optional space.
	lineAllowance = 64
	// initialBufSize is the read buffer's starting size; it grows as long lines
	// demand, up to the line limit.
	initialBufSize = 4096
	// maxEmptyReads bounds how often the underlying reader may return 0, nil in a
	// row before Next gives up with io.ErrNoProgress, as bufio does.
	maxEmptyReads = 100
	// typeCacheSize is how many distinct event type strings a Reader keeps so
	// that recurring types (Anthropic's content_block_delta) cost no allocation.
	typeCacheSize = 8
)

// Event is one dispatched Server-Sent Event.
type Event struct {
	// Type is the value of the last "event" field of the event, "" if it had
	// none (which the specification treats as "message").
	Type string
	// Data is the event's data: the values of its "data" fields joined by "\n".
	// It aliases the Reader's buffer and is valid only until the next call to
	// Next; copy it to keep it.
	Data []byte
	// ID is the stream's last event ID as of this event: set by the most recent
	// "id" field, in this event or an earlier one, "" if none was ever set.
	ID string
	// Retry is the stream's reconnection time in milliseconds as set by the most
	// recent valid "retry" field, in this event or an earlier one, -1 if none.
	Retry int
}

// Reader parses a text/event-stream into Events, following the event stream
// interpretation of the WHATWG HTML specification. It is not safe for
// concurrent use.
type Reader struct {
	rd      io.Reader
	rerr    error // first error from rd, returned once the buffer is drained
	err     error // sticky error returned by Next
	buf     []byte
	r, w    int // unread bytes are buf[r:w]
	max     int
	maxLine int

	started bool // the optional leading BOM has been handled
	skipLF  bool // the previous line ended in CR: a following LF belongs to it
	inEvent bool // a field line was seen since the last blank line

	data     []byte // data buffer: each data value followed by "\n"
	typ      []byte // event type buffer
	types    [typeCacheSize]string
	nextType int
	id       string
	retry    int
	ev       Event
}

// NewReader returns a Reader that parses events from r. Events whose data is
// longer than maxEventSize bytes, or lines longer than maxEventSize plus a small
// allowance for the field name, make Next fail with ErrEventTooLarge; zero or a
// negative maxEventSize selects DefaultMaxEventSize. The Reader buffers its
// input, so it may read past the last event it returns.
func NewReader(r io.Reader, maxEventSize int) *Reader {
	if maxEventSize <= 0 {
		maxEventSize = DefaultMaxEventSize
	}
	maxLine := maxEventSize + lineAllowance
	if maxLine < maxEventSize { // overflow
		maxLine = maxEventSize
	}
	return &Reader{rd: r, max: maxEventSize, maxLine: maxLine, retry: -1}
}

// Next returns the next dispatched event. The Event and its Data are owned by
// the Reader and valid only until the next call to Next.
//
// At the end of the input Next returns io.EOF, or io.ErrUnexpectedEOF when the
// input ended inside an event (after a field line but before the blank line
// that dispatches it); the incomplete event is discarded either way, as the
// specification requires. Read errors of the underlying reader are returned
// unchanged. Once Next has returned an error it returns the same error on
// every later call.
func (r *Reader) Next() (*Event, error) {
	if r.err != nil {
		return nil, r.err
	}
	if !r.started {
		r.started = true
		r.skipBOM()
	}
	for {
		line, err := r.readLine()
		if err != nil {
			r.err = r.endError(err)
			return nil, r.err
		}
		if len(line) == 0 {
			if r.dispatch() {
				return &r.ev, nil
			}
			continue
		}
		if err := r.processLine(line); err != nil {
			r.err = err
			return nil, err
		}
	}
}

// Buffered reports whether a complete event with data is already in the
// Reader's buffer, so that the next call to Next returns it without reading
// from the underlying reader. A writer relaying the stream can hold back its
// flush while this is true: more is coming at once. It is conservative: an
// event split across reads is not reported until all of it has arrived.
// Buffered does not consume input and does not allocate.
func (r *Reader) Buffered() bool {
	if r.err != nil || !r.started {
		return false
	}
	b := r.buf[r.r:r.w]
	if r.skipLF && len(b) > 0 && b[0] == '\n' {
		b = b[1:]
	}
	data := r.inEvent && len(r.data) > 0
	for {
		i := indexEOL(b)
		if i < 0 {
			return false // no complete line left
		}
		line := b[:i]
		if b[i] == '\r' && i+1 < len(b) && b[i+1] == '\n' {
			i++
		}
		b = b[i+1:]
		switch {
		case len(line) == 0:
			if data {
				return true
			}
		case isDataLine(line):
			data = true
		}
	}
}

// isDataLine reports whether a line is a "data" field.
func isDataLine(line []byte) bool {
	return len(line) >= 4 && string(line[:4]) == "data" && (len(line) == 4 || line[4] == ':')
}

// skipBOM drops one leading UTF-8 byte order mark. A read error is left in
// r.rerr for readLine to report.
func (r *Reader) skipBOM() {
	const bom = "\xEF\xBB\xBF"
	for r.w-r.r < len(bom) {
		if r.fill() != nil {
			break
		}
		if n := min(r.w-r.r, len(bom)); string(r.buf[r.r:r.r+n]) != bom[:n] {
			return // cannot be a BOM: do not wait for more input
		}
	}
	if r.w-r.r >= len(bom) && string(r.buf[r.r:r.r+len(bom)]) == bom {
		r.r += len(bom)
	}
}

// endError turns the error that stopped line reading into what Next returns.
func (r *Reader) endError(err error) error {
	if err != io.EOF {
		return err
	}
	// An unterminated final line is discarded; it still means the stream was
	// cut inside an event unless it is a comment.
	if r.inEvent || (r.w > r.r && r.buf[r.r] != ':') {
		return io.ErrUnexpectedEOF
	}
	return io.EOF
}

// readLine returns the next line without its terminator (LF, CRLF or CR). The
// line aliases the read buffer and is valid until the next readLine.
func (r *Reader) readLine() ([]byte, error) {
	scanned := 0 // bytes of buf[r.r:] already searched for a terminator
	for {
		if r.skipLF && r.r < r.w {
			if r.buf[r.r] == '\n' {
				r.r++
			}
			r.skipLF = false
		}
		if !r.skipLF {
			if i := indexEOL(r.buf[r.r+scanned : r.w]); i >= 0 {
				i += r.r + scanned
				line := r.buf[r.r:i]
				r.skipLF = r.buf[i] == '\r'
				r.r = i + 1
				return line, nil
			}
			scanned = r.w - r.r
		}
		if r.w-r.r > r.maxLine {
			return nil, ErrEventTooLarge
		}
		if err := r.fill(); err != nil {
			return nil, err
		}
	}
}

// indexEOL returns the index of the first CR or LF in b, or -1.
func indexEOL(b []byte) int {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return bytes.IndexByte(b, '\r')
	}
	if j := bytes.IndexByte(b[:i], '\r'); j >= 0 {
		return j
	}
	return i
}

// fill reads more input into the buffer, compacting or growing it as needed.
// It returns an error only when no byte was read.
func (r *Reader) fill() error {
	if r.rerr != nil {
		return r.rerr
	}
	if r.buf == nil {
		r.buf = make([]byte, min(initialBufSize, r.maxLine+1))
	}
	if r.w == len(r.buf) {
		if r.r > 0 {
			r.w = copy(r.buf, r.buf[r.r:r.w])
			r.r = 0
		} else {
			grown := make([]byte, min(2*len(r.buf), r.maxLine+1))
			r.w = copy(grown, r.buf[:r.w])
			r.buf = grown
		}
	}
	for range maxEmptyReads {
		n, err := r.rd.Read(r.buf[r.w:])
		if n < 0 || n > len(r.buf)-r.w {
			r.rerr = errInvalidRead
			return r.rerr
		}
		r.w += n
		if err != nil {
			r.rerr = err
			if n > 0 {
				return nil
			}
			return err
		}
		if n > 0 {
			return nil
		}
	}
	r.rerr = io.ErrNoProgress
	return r.rerr
}

// processLine applies one non-empty line to the event being built.
func (r *Reader) processLine(line []byte) error {
	if line[0] == ':' {
		return nil // comment
	}
	r.inEvent = true
	field, value := line, []byte(nil)
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		field, value = line[:i], line[i+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	switch string(field) {
	case "data":
		// The buffer holds one "\n" per earlier line, which become the joins:
		// the event's data would be len(r.data)+len(value) bytes long.
		if len(r.data)+len(value) > r.max {
			return ErrEventTooLarge
		}
		r.data = append(r.data, value...)
		r.data = append(r.data, '\n')
	case "event":
		r.typ = append(r.typ[:0], value...)
	case "id":
		if bytes.IndexByte(value, 0) < 0 && string(value) != r.id {
			r.id = string(value)
		}
	case "retry":
		if n, ok := parseRetry(value); ok {
			r.retry = n
		}
	}
	return nil
}

// parseRetry parses a retry value: ASCII digits only, as the specification
// requires. Values beyond 32 bits are ignored rather than wrapped.
func parseRetry(b []byte) (int, bool) {
	if len(b) == 0 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
		if n > 1<<31-1 {
			return 0, false
		}
	}
	return n, true
}

// dispatch ends the current event at a blank line and reports whether it
// produced an Event: an event without data lines is dropped.
func (r *Reader) dispatch() bool {
	r.inEvent = false
	if len(r.data) == 0 {
		r.typ = r.typ[:0]
		return false
	}
	r.ev = Event{
		Type:  r.internType(),
		Data:  r.data[:len(r.data)-1],
		ID:    r.id,
		Retry: r.retry,
	}
	r.data = r.data[:0]
	r.typ = r.typ[:0]
	return true
}

// internType returns the event type buffer as a string, reusing an earlier
// string with the same value so that recurring types do not allocate.
func (r *Reader) internType() string {
	if len(r.typ) == 0 {
		return ""
	}
	for _, s := range r.types {
		if s == string(r.typ) {
			return s
		}
	}
	s := string(r.typ)
	r.types[r.nextType] = s
	r.nextType = (r.nextType + 1) % typeCacheSize
	return s
}

// IsDone reports whether data is OpenAI's end-of-stream marker "[DONE]",
// ignoring surrounding ASCII whitespace.
func IsDone(data []byte) bool {
	return string(bytes.TrimSpace(data)) == "[DONE]"
}
