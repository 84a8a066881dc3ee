package llm

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClip(t *testing.T) {
	long := strings.Repeat("m", 1<<20)
	tests := []struct {
		name, in, want string
	}{
		{"short", "gpt-4o", "gpt-4o"},
		{"empty", "", ""},
		{"exactly the limit", strings.Repeat("a", ClipLen), strings.Repeat("a", ClipLen)},
		{"one over", strings.Repeat("a", ClipLen+1), strings.Repeat("a", ClipLen) + clipMark},
		{"huge", long, strings.Repeat("m", ClipLen) + clipMark},
		{"invalid utf-8", "a\xffb", "a\uFFFDb"},
		// 255 ASCII bytes then a 3-byte rune: the rune does not fit and is
		// dropped whole.
		{"cut on a rune boundary", strings.Repeat("a", ClipLen-1) + "€€", strings.Repeat("a", ClipLen-1) + clipMark},
		// A run of invalid bytes becomes one replacement character.
		{"huge invalid", strings.Repeat("\xff", 1<<20), "\uFFFD" + clipMark},
		{"invalid then long", strings.Repeat("\xc0a", 200), strings.Repeat("\uFFFDa", ClipLen/4) + clipMark},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Clip(tt.in)
			if got != tt.want {
				t.Errorf("Clip = %q (%d bytes), want %q", got, len(got), tt.want)
			}
			if !utf8.ValidString(got) {
				t.Errorf("Clip returned invalid UTF-8")
			}
			if len(got) > ClipLen+len(clipMark) {
				t.Errorf("Clip returned %d bytes", len(got))
			}
		})
	}
}

func TestClipShortDoesNotAllocate(t *testing.T) {
	s := "claude-3-5-haiku"
	if n := testing.AllocsPerRun(100, func() { _ = Clip(s) }); n != 0 {
		t.Errorf("Clip of a short value allocates %v times", n)
	}
}
