package llm

import (
	"strings"
	"unicode/utf8"
)

// ClipLen is the most bytes of a client-supplied value that Clip keeps.
const ClipLen = 256

// clipMark ends a value Clip shortened, so that a reader of the message or
// log line knows it saw only the beginning.
const clipMark = "…[truncated]"

// Clip returns s fit to appear in an error message or a log field: at most
// ClipLen bytes of it, cut on a UTF-8 boundary and marked as truncated,
// with every invalid UTF-8 sequence replaced by U+FFFD. Values such as a
// model name or a path come from the client and may be megabytes long or
// not text at all; echoing them whole would let a request inflate its
// answer and the logs at will. A short valid value is returned as it is,
// without allocating.
func Clip(s string) string {
	if len(s) <= ClipLen && utf8.ValidString(s) {
		return s
	}
	cut := false
	if len(s) > ClipLen*4 {
		// Bound the work on huge values: no more than ClipLen runes can be
		// kept, and no rune takes more than 4 bytes.
		s, cut = s[:ClipLen*4], true
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) > ClipLen {
		n := ClipLen
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s, cut = s[:n], true
	}
	if cut {
		return s + clipMark
	}
	return s
}
