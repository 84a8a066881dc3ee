package sse

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWriter(t *testing.T) {
	tests := []struct {
		name  string
		write func(w *Writer) error
		want  string
	}{
		{name: "data", write: func(w *Writer) error { return w.WriteData([]byte(`{"a":1}`)) }, want: "data: {\"a\":1}\n\n"},
		{name: "done", write: func(w *Writer) error { return w.WriteData([]byte("[DONE]")) }, want: "data: [DONE]\n\n"},
		{name: "typed", write: func(w *Writer) error { return w.WriteEvent("message_stop", []byte(`{"type":"message_stop"}`)) }, want: "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"},
		{name: "empty data", write: func(w *Writer) error { return w.WriteData(nil) }, want: "data: \n\n"},
		{name: "multi-line data", write: func(w *Writer) error { return w.WriteEvent("e", []byte("a\nb\n")) }, want: "event: e\ndata: a\ndata: b\ndata: \n\n"},
		{name: "CR and CRLF in data", write: func(w *Writer) error { return w.WriteData([]byte("a\r\nb\rc")) }, want: "data: a\ndata: b\ndata: c\n\n"},
		{name: "leading space kept", write: func(w *Writer) error { return w.WriteData([]byte(" x")) }, want: "data:  x\n\n"},
		{name: "comment", write: func(w *Writer) error { return w.WriteComment("keep-alive") }, want: ": keep-alive\n\n"},
		{name: "empty comment", write: func(w *Writer) error { return w.WriteComment("") }, want: ":\n\n"},
		{name: "multi-line comment", write: func(w *Writer) error { return w.WriteComment("a\r\nb\nc") }, want: ": a\n: b\n: c\n\n"},
		{
			name: "several events",
			write: func(w *Writer) error {
				return errors.Join(w.WriteComment("hi"), w.WriteEvent("ping", []byte("{}")), w.WriteData([]byte("x")))
			},
			want: ": hi\n\nevent: ping\ndata: {}\n\ndata: x\n\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			if err := tc.write(NewWriter(rec)); err != nil {
				t.Fatalf("write: %v", err)
			}
			if got := rec.Body.String(); got != tc.want {
				t.Errorf("body = %q, want %q", got, tc.want)
			}
			if !rec.Flushed {
				t.Error("response not flushed")
			}
		})
	}
}

func TestWriterRejectsLineBreakInType(t *testing.T) {
	for _, typ := range []string{"a\nb", "a\r", "\r\n"} {
		rec := httptest.NewRecorder()
		if err := NewWriter(rec).WriteEvent(typ, []byte("x")); err == nil {
			t.Errorf("WriteEvent(%q) succeeded, want error", typ)
		}
		if rec.Body.Len() != 0 {
			t.Errorf("WriteEvent(%q) wrote %q, want nothing", typ, rec.Body.String())
		}
	}
}

func TestWriterFlushBehaviour(t *testing.T) {
	errFlush := errors.New("flush failed")
	errWrite := errors.New("write failed")
	tests := []struct {
		name    string
		rw      http.ResponseWriter
		wantErr error
	}{
		{name: "cannot flush", rw: &plainWriter{}, wantErr: nil},
		{name: "flush error", rw: &flushErrWriter{err: errFlush}, wantErr: errFlush},
		{name: "write error", rw: &plainWriter{err: errWrite}, wantErr: errWrite},
		{name: "flush through Unwrap", rw: &unwrapper{ResponseWriter: &flushErrWriter{err: errFlush}}, wantErr: errFlush},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := NewWriter(tc.rw)
			for i := range 2 {
				if err := w.WriteData([]byte("x")); !errors.Is(err, tc.wantErr) {
					t.Errorf("write %d: error = %v, want %v", i, err, tc.wantErr)
				}
			}
		})
	}
}

// plainWriter is a ResponseWriter that cannot flush.
type plainWriter struct {
	h   http.Header
	buf bytes.Buffer
	err error
}

func (p *plainWriter) Header() http.Header {
	if p.h == nil {
		p.h = http.Header{}
	}
	return p.h
}

func (p *plainWriter) Write(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	return p.buf.Write(b)
}

func (p *plainWriter) WriteHeader(int) {}

// flushErrWriter fails every flush, as a connection gone away would.
type flushErrWriter struct {
	plainWriter
	err error
}

func (f *flushErrWriter) FlushError() error { return f.err }

// unwrapper hides the flusher behind Unwrap, like middleware wrappers do.
type unwrapper struct{ http.ResponseWriter }

func (u *unwrapper) Unwrap() http.ResponseWriter { return u.ResponseWriter }

func TestSetHeaders(t *testing.T) {
	h := http.Header{"Content-Length": {"12"}, "Content-Type": {"application/json"}}
	SetHeaders(h)
	want := http.Header{
		"Content-Type":      {"text/event-stream"},
		"Cache-Control":     {"no-cache"},
		"X-Accel-Buffering": {"no"},
	}
	if diff := cmp.Diff(want, h); diff != "" {
		t.Errorf("headers mismatch (-want +got):\n%s", diff)
	}
}

func TestRoundTrip(t *testing.T) {
	events := []ev{
		msg("message_start", `{"type":"message_start"}`),
		msg("", `{"choices":[{"delta":{"content":"a\nb"}}]}`),
		msg("", "line one\nline two\n\nline four\n"),
		msg("", ""),
		msg("", "\n"),
		msg("x:y", " leading and trailing spaces "),
		msg("", ": not a comment"),
		msg("", "data: nested"),
		msg("", "unicode ✓ \uFEFF"),
		msg("", "[DONE]"),
	}
	rec := httptest.NewRecorder()
	w := NewWriter(rec)
	for _, e := range events {
		if err := w.WriteComment("between\nevents"); err != nil {
			t.Fatal(err)
		}
		if err := w.WriteEvent(e.Type, []byte(e.Data)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := readAll(rec.Body, 0)
	if err != io.EOF {
		t.Fatalf("final error = %v, want io.EOF", err)
	}
	if diff := cmp.Diff(events, got); diff != "" {
		t.Errorf("round trip mismatch (-wrote +read):\n%s", diff)
	}
}

func TestWriterDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	w := NewWriter(discardWriter{})
	data := []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}`)
	multi := []byte("a\nb\r\nc")
	allocs := testing.AllocsPerRun(1000, func() {
		if err := w.WriteEvent("content_block_delta", data); err != nil {
			t.Fatal(err)
		}
		if err := w.WriteData(multi); err != nil {
			t.Fatal(err)
		}
		if err := w.WriteComment("ping"); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("writes allocate %v times, want 0", allocs)
	}
}

// discardWriter is a flushing ResponseWriter that drops what it is given.
type discardWriter struct{}

func (discardWriter) Header() http.Header         { return http.Header{} }
func (discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (discardWriter) WriteHeader(int)             {}
func (discardWriter) Flush()                      {}
