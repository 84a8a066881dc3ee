package provider

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// MaxJSONDepth is how deeply CheckJSON lets arrays and objects nest. No
// answer of an LLM API comes near it (a chat completion with log
// probabilities nests six deep); it is low enough that a recursive parser
// run after CheckJSON (gjson's Valid, a client's decoder) cannot exhaust
// its stack.
const MaxJSONDepth = 512

// errJSONEnd is CheckJSON's error for a text cut short.
var errJSONEnd = errors.New("json: unexpected end of input")

// plain marks the bytes a JSON string may hold as they are: anything but a
// control character, a quote, a backslash, or a byte of a multi-byte UTF-8
// sequence, which CheckJSON decodes to check.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// CheckJSON checks that b is exactly one JSON value (RFC 8259), white space
// around it allowed, whose strings are valid UTF-8 and whose arrays and
// objects nest at most MaxJSONDepth deep. It reads b once, left to right,
// without recursion or allocation, so that an untrusted text of any size or
// depth costs time in proportion to its length and nothing else: gjson's
// Valid recurses once per level, and ten million opening brackets exhaust a
// goroutine's stack, which no recover can catch.
//
// When the value is an object and member is not nil, member is called with
// each of its own members (not those of nested objects) as they are read:
// the name as written between its quotes, escapes left as they are, and the
// offset in b of the value's first byte. The error names the first fault
// and its offset.
func CheckJSON(b []byte, member func(name []byte, value int)) error {
	// objects holds one bit per open container, set for an object.
	var objects [MaxJSONDepth / 64]uint64
	depth := 0
	i := skipSpace(b, 0)
	for {
		// A value starts at i.
		if i >= len(b) {
			return errJSONEnd
		}
		var err error
		switch c := b[i]; c {
		case '{', '[':
			if depth == MaxJSONDepth {
				return fmt.Errorf("json: nested deeper than %d at offset %d", MaxJSONDepth, i)
			}
			word, bit := depth/64, uint64(1)<<(depth%64)
			depth++
			if c == '[' {
				objects[word] &^= bit
				if i = skipSpace(b, i+1); i < len(b) && b[i] == ']' {
					depth--
					i++
					break
				}
				continue
			}
			objects[word] |= bit
			if i = skipSpace(b, i+1); i < len(b) && b[i] == '}' {
				depth--
				i++
				break
			}
			if i, err = memberName(b, i, depth, member); err != nil {
				return err
			}
			continue
		case '"':
			i, err = scanString(b, i)
		case 't':
			i, err = literal(b, i, "true")
		case 'f':
			i, err = literal(b, i, "false")
		case 'n':
			i, err = literal(b, i, "null")
		default:
			i, err = scanNumber(b, i)
		}
		if err != nil {
			return err
		}
		// A value ends before i: close the containers it ends, then
		// expect the next member or element.
		for {
			i = skipSpace(b, i)
			if depth == 0 {
				if i != len(b) {
					return fmt.Errorf("json: unexpected %q after the value at offset %d", b[i], i)
				}
				return nil
			}
			if i >= len(b) {
				return errJSONEnd
			}
			inObject := objects[(depth-1)/64]&(uint64(1)<<((depth-1)%64)) != 0
			closing := byte(']')
			if inObject {
				closing = '}'
			}
			if b[i] == closing {
				depth--
				i++
				continue
			}
			if b[i] != ',' {
				return fmt.Errorf("json: unexpected %q at offset %d", b[i], i)
			}
			i = skipSpace(b, i+1)
			if inObject {
				if i, err = memberName(b, i, depth, member); err != nil {
					return err
				}
			}
			break
		}
	}
}

// memberName reads an object member's name and colon at i and returns the
// offset of its value, reporting the member to member at depth 1.
func memberName(b []byte, i, depth int, member func(name []byte, value int)) (int, error) {
	if i >= len(b) {
		return i, errJSONEnd
	}
	if b[i] != '"' {
		return i, fmt.Errorf("json: expected a member name at offset %d", i)
	}
	end, err := scanString(b, i)
	if err != nil {
		return end, err
	}
	j := skipSpace(b, end)
	if j >= len(b) {
		return j, errJSONEnd
	}
	if b[j] != ':' {
		return j, fmt.Errorf("json: expected ':' at offset %d", j)
	}
	j = skipSpace(b, j+1)
	if depth == 1 && member != nil && j < len(b) {
		member(b[i+1:end-1], j)
	}
	return j, nil
}

// skipSpace returns the offset of the first byte at or after i that is not
// JSON white space.
func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanString checks the string whose opening quote is at i and returns the
// offset after its closing quote.
func scanString(b []byte, i int) (int, error) {
	for i++; i < len(b); {
		c := b[i]
		if plain[c] {
			i++
			continue
		}
		switch {
		case c == '"':
			return i + 1, nil
		case c == '\\':
			if i+1 >= len(b) {
				return i, errJSONEnd
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) {
					return i, errJSONEnd
				}
				for _, h := range b[i+2 : i+6] {
					if !isHex(h) {
						return i, fmt.Errorf("json: invalid \\u escape at offset %d", i)
					}
				}
				i += 6
			default:
				return i, fmt.Errorf("json: invalid escape at offset %d", i)
			}
		case c < 0x20:
			return i, fmt.Errorf("json: control character in a string at offset %d", i)
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				return i, fmt.Errorf("json: invalid UTF-8 at offset %d", i)
			}
			i += size
		}
	}
	return i, errJSONEnd
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// literal checks that the literal word is at i.
func literal(b []byte, i int, word string) (int, error) {
	if len(b)-i < len(word) || string(b[i:i+len(word)]) != word {
		if len(b)-i < len(word) && string(b[i:]) == word[:len(b)-i] {
			return len(b), errJSONEnd
		}
		return i, fmt.Errorf("json: invalid literal at offset %d", i)
	}
	return i + len(word), nil
}

// scanNumber checks the number at i and returns the offset after it.
func scanNumber(b []byte, i int) (int, error) {
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return i, errJSONEnd
	case b[i] == '0':
		i++
	case '1' <= b[i] && b[i] <= '9':
		i = digits(b, i)
	default:
		return i, fmt.Errorf("json: invalid character %q at offset %d", b[i], i)
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			return j, fmt.Errorf("json: invalid number at offset %d", start)
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return j, fmt.Errorf("json: invalid number at offset %d", start)
		}
		i = j
	}
	return i, nil
}

// digits returns the offset of the first byte at or after i that is not a
// decimal digit.
func digits(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}
