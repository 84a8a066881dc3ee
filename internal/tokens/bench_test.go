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
