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
