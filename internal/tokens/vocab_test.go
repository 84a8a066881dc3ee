package tokens

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tiktoken-go/tokenizer"
)

// libraryCodecs are github.com/tiktoken-go/tokenizer's codecs, which the
// embedded tables were generated from (gen/main.go): what the counter must
// agree with, token for token.
func libraryCodec(t testing.TB, e *encoding) tokenizer.Codec {
	name := map[*encoding]tokenizer.Encoding{o200k: tokenizer.O200kBase, cl100k: tokenizer.Cl100kBase}[e]
	c, err := tokenizer.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestTablesMatchLibrary: every token of each embedded table is the
// library's token of that rank, and the table holds all of them.
func TestTablesMatchLibrary(t *testing.T) {
	for _, e := range []*encoding{o200k, cl100k} {
		e.load()
		c := libraryCodec(t, e)
		v := e.vocab
		for r := range v.n {
			want, err := c.Decode([]uint{uint(r)})
			if err != nil {
				t.Fatalf("%s: rank %d: %v", e.name, r, err)
			}
			if got := v.token(r); got != want {
				t.Fatalf("%s: rank %d is %q, the library's %q", e.name, r, got, want)
			}
			if got := v.rank(want); got != r {
				t.Fatalf("%s: %q has rank %d, want %d", e.name, want, got, r)
			}
		}
		if _, err := c.Decode([]uint{uint(v.n)}); err == nil {
			t.Fatalf("%s: the library has a token of rank %d, past the table", e.name, v.n)
		}
		if v.rank("\x00\xff not a token") != noRank {
			t.Fatalf("%s: a non-token has a rank", e.name)
		}
	}
}

// countSamples mix what prompts hold: prose in several scripts, code,
// JSON, digits, whitespace runs, emoji, invalid UTF-8, long words (past
// the heap's threshold).
func countSamples() []string {
	out := []string{"", " ", "\n", "a", "hello world", "Hello, World!!", "  leading and trailing  ",
		strings.Repeat("a", 500), strings.Repeat("ab", 300), strings.Repeat("🙂", 100), strings.Repeat("0123456789", 30),
		"don't I'LL we've THEY'RE it's", "line\r\nbreaks\n\n\n and\ttabs\t\t\n", "\xff\xfe\xc3 broken \xe2\x82",
		"https://example.com/path?q=1&r=two#frag", strings.Repeat("x", 95), strings.Repeat("x", 96), strings.Repeat("é", 200)}
	for _, s := range estimateSamples {
		out = append(out, s)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "b", "Z", "é", "ß", "д", "ж", "中", "文", "の", "한", "ि", "🙂", "👍🏽", " ", "  ", "\n", "\t", "\r\n",
		"0", "7", "42", ".", ",", "'", "'s", "\"", "{", "}", "(", "/", "-", "_", "\xff", "\u200b", "\u00a0", "Ω", "ǅ"}
	for range 400 {
		var b strings.Builder
		for range rng.IntN(300) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		out = append(out, b.String())
	}
	return out
}

// TestCountsMatchLibrary: the counter counts what the library counts.
func TestCountsMatchLibrary(t *testing.T) {
	for _, e := range []*encoding{o200k, cl100k} {
		c := libraryCodec(t, e)
		for _, s := range countSamples() {
			want, err := c.Count(s)
			if err != nil {
				t.Fatal(err)
			}
			got, err := e.tokenize(s)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("%s: %q (valid UTF-8 %v): %d tokens, the library %d", e.name, s, utf8.ValidString(s), got, want)
			}
		}
	}
}

// FuzzCountsMatchLibrary: the same, on arbitrary text.
func FuzzCountsMatchLibrary(f *testing.F) {
	for _, s := range countSamples()[:40] {
		f.Add(s)
	}
	libs := map[*encoding]tokenizer.Codec{o200k: libraryCodec(f, o200k), cl100k: libraryCodec(f, cl100k)}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 4096 {
			return
		}
		if ok, _ := scan(s); !ok {
			return // never given to the tokenizer
		}
		for e, c := range libs {
			want, err := c.Count(s)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := e.tokenize(s); err != nil || got != want {
				t.Fatalf("%s: %q: %d tokens (%v), the library %d", e.name, s, got, err, want)
			}
		}
	})
}
