package sse

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"
)

func TestReaderBuffered(t *testing.T) {
	tests := []struct {
		name  string
		input string // read whole; the first event is taken before asking
		want  bool
	}{
		{name: "next event complete", input: "data: a\n\ndata: b\n\n", want: true},
		{name: "next event without its blank line", input: "data: a\n\ndata: b\n", want: false},
		{name: "next line cut", input: "data: a\n\ndata: b", want: false},
		{name: "nothing after", input: "data: a\n\n", want: false},
		{name: "comment only", input: "data: a\n\n: ping\n\n", want: false},
		{name: "event without data", input: "data: a\n\nevent: x\n\n", want: false},
		{name: "comment then event", input: "data: a\n\n: ping\n\nevent: x\ndata: b\n\n", want: true},
		{name: "typed event", input: "data: a\n\nevent: x\ndata: b\n\n", want: true},
		{name: "bare data field", input: "data: a\n\ndata\n\n", want: true},
		{name: "field that only starts with data", input: "data: a\n\ndatax: b\n\n", want: false},
		{name: "CRLF", input: "data: a\r\n\r\ndata: b\r\n\r\n", want: true},
		{name: "CR", input: "data: a\r\rdata: b\r\r", want: true},
		{name: "CRLF cut before the blank line", input: "data: a\r\n\r\ndata: b\r\n", want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// One Read returns the whole input, so all of it is buffered.
			r := NewReader(strings.NewReader(tc.input), 0)
			if r.Buffered() {
				t.Fatal("Buffered before the first Next")
			}
			if _, err := r.Next(); err != nil {
				t.Fatalf("first Next: %v", err)
			}
			if got := r.Buffered(); got != tc.want {
				t.Errorf("Buffered() = %v, want %v", got, tc.want)
			}
			if tc.want {
				// The promise: the next event comes without another read.
				r.rd = strings.NewReader("") // a read now would end the stream
				if _, err := r.Next(); err != nil {
					t.Errorf("Next after Buffered: %v", err)
				}
			}
		})
	}
}

// flushCounter counts the flushes that reach the response.
type flushCounter struct {
	*httptest.ResponseRecorder
	flushes int
}

func (f *flushCounter) Flush() { f.flushes++; f.ResponseRecorder.Flush() }

func TestWriterHold(t *testing.T) {
	tests := []struct {
		name        string
		run         func(w *Writer) error
		wantFlushes int
	}{
		{name: "each event flushed", run: func(w *Writer) error {
			return errorsOf(w.WriteData([]byte("a")), w.WriteData([]byte("b")))
		}, wantFlushes: 2},
		{name: "held events flushed once", run: func(w *Writer) error {
			w.Hold(true)
			return errorsOf(w.WriteData([]byte("a")), w.WriteEvent("t", []byte("b")), w.WriteComment("c"), w.Flush())
		}, wantFlushes: 1},
		{name: "flush with nothing written", run: func(w *Writer) error {
			w.Hold(true)
			return errorsOf(w.Flush(), w.WriteData([]byte("a")), w.Flush(), w.Flush())
		}, wantFlushes: 1},
		{name: "hold released", run: func(w *Writer) error {
			w.Hold(true)
			err := w.WriteData([]byte("a"))
			w.Hold(false)
			return errorsOf(err, w.WriteData([]byte("b")))
		}, wantFlushes: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rw := &flushCounter{ResponseRecorder: httptest.NewRecorder()}
			if err := tc.run(NewWriter(rw)); err != nil {
				t.Fatal(err)
			}
			if rw.flushes != tc.wantFlushes {
				t.Errorf("flushes = %d, want %d", rw.flushes, tc.wantFlushes)
			}
			if rw.Body.Len() == 0 {
				t.Error("nothing written")
			}
		})
	}
}

func errorsOf(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

var _ http.Flusher = (*flushCounter)(nil)

// countingReader counts the reads made of it.
type countingReader struct {
	r     io.Reader
	reads int
}

func (c *countingReader) Read(p []byte) (int, error) { c.reads++; return c.r.Read(p) }

// FuzzReaderBuffered checks Buffered's promise on any input, split into
// reads of any size: when it says true, the next Next returns an event
// without reading.
func FuzzReaderBuffered(f *testing.F) {
	for _, tc := range readerCases {
		f.Add([]byte(tc.in), uint8(7))
	}
	f.Add([]byte("data: a\n\n: c\n\ndata: b\r\n\r\ndata\r\r"), uint8(3))
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8) {
		cr := &countingReader{r: iotest.HalfReader(bytes.NewReader(in))}
		if chunk > 0 {
			cr.r = &chunkReader{s: string(in), n: int(chunk)}
		}
		r := NewReader(cr, fuzzMax)
		for {
			buffered := r.Buffered()
			before := cr.reads
			_, err := r.Next()
			if buffered && (err != nil || cr.reads != before) {
				t.Fatalf("Buffered was true, then Next read %d times, err %v", cr.reads-before, err)
			}
			if err != nil {
				return
			}
		}
	})
}
