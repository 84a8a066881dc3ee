package providertest

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Load returns the capture name (for example "openai/stream_text.sse") from
// this package's testdata directory, failing the test if it cannot be read.
func Load(t testing.TB, name string) []byte {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("providertest: cannot locate testdata")
	}
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "testdata", filepath.FromSlash(name)))
	if err != nil {
		t.Fatalf("providertest: %v", err)
	}
	return b
}

// DataPayloads returns the data payloads of the single-line "data:" events of
// an SSE capture, in order, including a final "[DONE]". An unterminated last
// line, as in a truncated capture, is left out.
func DataPayloads(sse []byte) [][]byte {
	var out [][]byte
	for line := range bytes.Lines(sse) {
		if !bytes.HasSuffix(line, []byte("\n")) {
			break
		}
		line = bytes.TrimRight(line, "\r\n")
		if data, ok := bytes.CutPrefix(line, []byte("data:")); ok {
			out = append(out, bytes.TrimPrefix(data, []byte(" ")))
		}
	}
	return out
}

// Event is one event of an SSE capture: its "event:" type (empty when it had
// none) and its data.
type Event struct {
	Type string
	Data []byte
}

// Events returns the events of a capture whose events are single-line
// "event:" and "data:" fields, in order. An unterminated last event, as in a
// truncated capture, is left out.
func Events(sse []byte) []Event {
	var out []Event
	var cur Event
	for line := range bytes.Lines(sse) {
		if !bytes.HasSuffix(line, []byte("\n")) {
			break
		}
		line = bytes.TrimRight(line, "\r\n")
		switch {
		case len(line) == 0:
			if cur.Data != nil {
				out = append(out, cur)
			}
			cur = Event{}
		case bytes.HasPrefix(line, []byte("event:")):
			cur.Type = string(bytes.TrimSpace(line[len("event:"):]))
		case bytes.HasPrefix(line, []byte("data:")):
			cur.Data = bytes.TrimPrefix(line[len("data:"):], []byte(" "))
		}
	}
	return out
}
