package provider

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"

	"github.com/llmgw/llmgw/internal/sse"
)

// lineReader reads newline-delimited JSON as events: each line, without its
// line ending, is the data of one event. A line longer than its maximum is
// sse.ErrEventTooLarge, so that a hostile upstream cannot make it buffer
// without bound. Blank lines give events with no data, which
// EventStream.Next skips.
type lineReader struct {
	br  *bufio.Reader
	max int
	buf []byte
	ev  sse.Event
	err error
}

func newLineReader(r io.Reader, max int) *lineReader {
	if max <= 0 {
		max = sse.DefaultMaxEventSize
	}
	return &lineReader{br: bufio.NewReaderSize(r, 64<<10), max: max, ev: sse.Event{Retry: -1}}
}

// Next returns the next line. A last line with no line ending is a line
// when it is whole JSON; otherwise it was cut short, and the end of the
// input (io.EOF) or the read failure is returned instead.
func (r *lineReader) Next() (*sse.Event, error) {
	if r.err != nil {
		return nil, r.err
	}
	r.buf = r.buf[:0]
	for {
		line, err := r.br.ReadSlice('\n')
		if len(r.buf)+len(line) > r.max+2 { // +2: the line ending
			r.err = sse.ErrEventTooLarge
			return nil, r.err
		}
		r.buf = append(r.buf, line...)
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && json.Valid(r.buf):
			r.err = err // returned by the next call, after this line
		case err != nil:
			// A line cut short is no line: the stream ended, or
			// failed, before it was whole.
			r.err = err
			return nil, err
		}
		r.ev.Data = bytes.TrimRight(r.buf, "\r\n")
		if len(r.ev.Data) > r.max {
			r.err = sse.ErrEventTooLarge
			return nil, r.err
		}
		return &r.ev, nil
	}
}

// Buffered reports whether a whole line is already read from the upstream.
func (r *lineReader) Buffered() bool {
	if r.err != nil {
		return false
	}
	n := r.br.Buffered()
	if n == 0 {
		return false
	}
	b, _ := r.br.Peek(n)
	return bytes.IndexByte(b, '\n') >= 0
}
