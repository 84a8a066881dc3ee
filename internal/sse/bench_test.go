package sse

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// openAIBenchStream returns a Chat Completions stream of n chunks, each a
// one-token delta as OpenAI sends them, followed by a usage chunk and [DONE].
func openAIBenchStream(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, `data: {"id":"chatcmpl-AbCdEf0123456789","object":"chat.completion.chunk","created":1732500000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0123456789","choices":[{"index":0,"delta":{"content":" tok%d"},"logprobs":null,"finish_reason":null}]}`+"\n\n", i)
	}
	b.WriteString(`data: {"id":"chatcmpl-AbCdEf0123456789","object":"chat.completion.chunk","created":1732500000,"model":"gpt-4o-mini-2024-07-18","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":200,"total_tokens":212}}` + "\n\n")
	b.WriteString("data: [DONE]\n\n")
	return b.Bytes()
}

// loopReader returns b over and over, in reads of at most 4 KiB like a
// network body would.
type loopReader struct {
	b   []byte
	off int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := copy(p[:min(len(p), 4096)], l.b[l.off:])
	l.off = (l.off + n) % len(l.b)
	return n, nil
}

// BenchmarkReaderNext measures one Next call per op on a long-lived Reader:
// the steady-state per-event cost.
func BenchmarkReaderNext(b *testing.B) {
	for _, s := range []struct {
		name   string
		stream []byte
		events int
	}{
		{"openai", openAIBenchStream(200), 202},
		{"anthropic", []byte(anthropicStream), 7},
	} {
		b.Run(s.name, func(b *testing.B) {
			rd := NewReader(&loopReader{b: s.stream}, 0)
			b.SetBytes(int64(len(s.stream) / s.events))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := rd.Next(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReaderStream reads a whole 200-chunk OpenAI stream per op,
// including the Reader's setup, as one upstream response costs.
func BenchmarkReaderStream(b *testing.B) {
	stream := openAIBenchStream(200)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	var events int
	for b.Loop() {
		rd := NewReader(bytes.NewReader(stream), 0)
		events = 0
		for {
			e, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if IsDone(e.Data) {
				continue
			}
			events++
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*(events+1)), "ns/event")
}

// BenchmarkWriter measures one event written and flushed per op.
func BenchmarkWriter(b *testing.B) {
	data := []byte(`{"id":"chatcmpl-AbCdEf0123456789","object":"chat.completion.chunk","created":1732500000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":" tok"},"finish_reason":null}]}`)
	b.Run("data", func(b *testing.B) {
		w := NewWriter(discardWriter{})
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if err := w.WriteData(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("typed", func(b *testing.B) {
		w := NewWriter(discardWriter{})
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if err := w.WriteEvent("content_block_delta", data); err != nil {
				b.Fatal(err)
			}
		}
	})
}
