package tokens

import (
	"fmt"
	"strings"
	"testing"
)

// prompt returns about n bytes of prose, code and JSON, as a prompt holds.
func prompt(n int) string {
	unit := estimateSamples["english"] + "\n\n" + estimateSamples["code"] + "\n" + estimateSamples["json"] + "\n"
	return strings.Repeat(unit, n/len(unit)+1)[:n]
}

// BenchmarkCount counts a one-message prompt of 1 KB and 100 KB with each
// encoding and with the estimate. The encoders are loaded before the timer.
func BenchmarkCount(b *testing.B) {
	for _, size := range []int{1 << 10, 100 << 10} {
		req := chatOf(prompt(size))
		for _, target := range [][2]string{{"openai", "gpt-4o"}, {"openai", "gpt-4"}, {"anthropic", "claude-sonnet-4-5"}} {
			b.Run(fmt.Sprintf("%dKB/%s", size>>10, target[1]), func(b *testing.B) {
				Count(req, target[0], target[1])
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					Count(req, target[0], target[1])
				}
			})
		}
	}
}

// BenchmarkTokenize counts 1 KB of text with the tokenizer, no cache:
// this package's tables and github.com/tiktoken-go/tokenizer's codec.
func BenchmarkTokenize(b *testing.B) {
	s := prompt(1 << 10)
	for _, e := range []*encoding{o200k, cl100k} {
		e.load()
		b.Run(e.name, func(b *testing.B) {
			b.SetBytes(int64(len(s)))
			b.ReportAllocs()
			for b.Loop() {
				e.tokenize(s)
			}
		})
		c := libraryCodec(b, e)
		b.Run(e.name+"/library", func(b *testing.B) {
			b.SetBytes(int64(len(s)))
			b.ReportAllocs()
			for b.Loop() {
				c.Count(s)
			}
		})
	}
}
