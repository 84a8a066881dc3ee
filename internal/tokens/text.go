package tokens

import (
	"unicode"
	"unicode/utf8"
)

// Limits on what is given to the tokenizer. Past them the estimate is used
// and the count is not exact. Both were measured (see doc.go): the
// tokenizer's split expression backtracks over a run of whitespace that
// holds a line break, so its cost grows with the square of the run, and its
// worst linear rate is about 0.5 MB/s.
const (
	// MaxExactBytes is the most text, summed over a whole request, that is
	// tokenized.
	MaxExactBytes = 256 << 10
	// maxSpaceRun is the longest run of whitespace a text may hold and
	// still be tokenized.
	maxSpaceRun = 256
)

// counter adds up the tokens of one request.
type counter struct {
	enc   *encoding // nil: estimate everything
	n     int
	exact bool
}

// text adds the tokens of s.
func (c *counter) text(s string) {
	c.n += c.count(s)
}

// count returns the tokens of s, with the tokenizer when the counter has
// one and s is safe to give it, else the estimate.
func (c *counter) count(s string) int {
	if s == "" {
		return 0
	}
	if c.enc == nil {
		return EstimateText(s)
	}
	ok, exact := scan(s)
	if !ok {
		c.exact = false
		return EstimateText(s)
	}
	if !exact {
		c.exact = false
	}
	n, err := c.enc.count(s)
	if err != nil {
		c.exact = false
		return EstimateText(s)
	}
	return n
}

// scan reports whether s is safe to tokenize: it holds no whitespace run
// longer than maxSpaceRun bytes, the input on which the tokenizer's time is
// not linear. exact is false when s holds a whitespace run in which a line
// break follows other whitespace that follows a line break ("\n \n"): the
// library splits such a run in two where tiktoken keeps it whole, and so
// counts one token more than the upstream.
func scan(s string) (ok, exact bool) {
	exact = true
	run := 0
	// state within a run: 0 nothing yet, 1 after a line break, 2 after
	// other whitespace that followed a line break
	state := 0
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		i += size
		if !unicode.IsSpace(r) {
			run, state = 0, 0
			continue
		}
		run += size
		if run > maxSpaceRun {
			return false, false
		}
		switch {
		case r == '\n' || r == '\r':
			if state == 2 {
				exact = false
			}
			state = 1
		case state == 1:
			state = 2
		}
	}
	return true, exact
}

// Weights of EstimateText, in sixtieths of a token.
const (
	weightLetter   = 20  // ASCII letter: a third
	weightDigit    = 20  // ASCII digit: a third (tokenizers group at most 3)
	weightSpace    = 20  // ASCII whitespace: a third
	weightSymbol   = 36  // ASCII punctuation and symbols: 0.6
	weightTwoByte  = 60  // Latin accents, Greek, Cyrillic, Arabic, Hebrew: one
	weightThree    = 90  // most of CJK, Indic scripts: one and a half
	weightFourByte = 180 // emoji, rare ideographs: three
	weightInvalid  = 60  // a byte that is not UTF-8: one
)

// asciiWeight holds the weight of each ASCII byte.
var asciiWeight = func() (w [utf8.RuneSelf]uint8) {
	for b := range utf8.RuneSelf {
		switch {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z':
			w[b] = weightLetter
		case b >= '0' && b <= '9':
			w[b] = weightDigit
		case b == ' ', b == '\t', b == '\n', b == '\r', b == '\v', b == '\f':
			w[b] = weightSpace
		default:
			w[b] = weightSymbol
		}
	}
	return w
}()

// EstimateText returns an estimate of the tokens of s that errs high, for
// any tokenizer, from the kind of each character: an ASCII letter, digit or
// whitespace counts a third of a token, ASCII punctuation 0.6, a two-byte
// character one token, a three-byte character (most of CJK) one and a half,
// a four-byte character (emoji) three, a byte that is not UTF-8 one; the
// sum is rounded up. It is linear and does not allocate. See doc.go for how
// it compares to real counts.
func EstimateText(s string) int {
	var w int
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			w += int(asciiWeight[s[i]])
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			w += weightInvalid
		case size == 2:
			w += weightTwoByte
		case size == 3:
			w += weightThree
		default:
			w += weightFourByte
		}
		i += size
	}
	return (w + 59) / 60
}
