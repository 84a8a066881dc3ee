package provider

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/llmgw/llmgw/internal/sse"
)

func readLines(r *lineReader) ([]string, error) {
	var out []string
	for {
		ev, err := r.Next()
		if err != nil {
			return out, err
		}
		out = append(out, string(ev.Data))
	}
}

func TestLineReader(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		max      int
		want     []string
		err      error
	}{
		{"lines", "{\"a\":1}\n{\"b\":2}\r\n\n{\"c\":3}\n", 0, []string{`{"a":1}`, `{"b":2}`, ``, `{"c":3}`}, io.EOF},
		{"whole last line without newline", "{\"a\":1}\n{\"b\":2}", 0, []string{`{"a":1}`, `{"b":2}`}, io.EOF},
		{"cut last line", "{\"a\":1}\n{\"b\":", 0, []string{`{"a":1}`}, io.EOF},
		{"line at the limit", "{\"a\":12}\n", 8, []string{`{"a":12}`}, io.EOF},
		{"line over the limit", "{\"a\":1}\n{\"a\":123}\n", 8, []string{`{"a":1}`}, sse.ErrEventTooLarge},
		{"long line over the buffer", strings.Repeat("x", 200<<10) + "\n", 100 << 10, nil, sse.ErrEventTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range []io.Reader{strings.NewReader(tt.in), iotest.OneByteReader(strings.NewReader(tt.in))} {
				got, err := readLines(newLineReader(r, tt.max))
				if !errors.Is(err, tt.err) || strings.Join(got, "|") != strings.Join(tt.want, "|") {
					t.Errorf("got %q, %v; want %q, %v", got, err, tt.want, tt.err)
				}
			}
		})
	}
}

func TestLineReaderBuffered(t *testing.T) {
	r := newLineReader(strings.NewReader("{}\n{}\n{\"a\""), 0)
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	if !r.Buffered() {
		t.Error("a whole line in hand is not buffered")
	}
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	if r.Buffered() {
		t.Error("a partial line is buffered")
	}
}
