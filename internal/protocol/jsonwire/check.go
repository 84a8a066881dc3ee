package jsonwire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
	"unicode/utf8"

	"github.com/llmgw/llmgw/internal/llm"
)

// MaxDepth is how deeply the arrays and objects of a request body may nest.
// Real requests need a handful of levels (a JSON schema in a tool, a few
// more); the limit is there so that no body makes the gateway spend stack
// or memory in proportion to its nesting.
const MaxDepth = 128

// MaxAnswerDepth is how deeply CheckAnswer lets an upstream's answer nest.
// No answer of an LLM API comes near it (a chat completion with log
// probabilities nests six deep); it is low enough that a recursive reader
// run after the check (gjson's Valid, a client's decoder) cannot exhaust
// its stack.
const MaxAnswerDepth = 512

// maxLinearKeys is how many keys of one object are compared pairwise before
// a set is built for the rest: small objects cost no allocation, and a huge
// one costs linear time, not quadratic.
const maxLinearKeys = 16

// CheckError is a body that Check refuses.
type CheckError struct {
	// Offset is the byte where the problem was found.
	Offset int
	// Reason says what is wrong, for the client's message.
	Reason string
	// Key is the duplicated key (unescaped), when that is the problem, and
	// Path the key's JSON path ("messages[0].role").
	Key, Path string
	// depth: the body nests deeper than its limit.
	depth bool
}

func (e *CheckError) Error() string {
	return fmt.Sprintf("%s (at byte %d)", e.Reason, e.Offset)
}

// frame is one open array or object while Check walks a body.
type frame struct {
	object bool
	// key is an object's current member's key; n an array's current
	// element's index. Both only name where a problem is.
	key []byte
	n   int
	// keys is where this object's keys start in checker.keys; set is built
	// once the object has more than maxLinearKeys of them.
	keys int
	set  map[string]struct{}
}

// checker holds what Check and CheckAnswer need while they walk one body.
// Its stack is an array: the depth is bounded, so the walk allocates
// nothing for it.
type checker struct {
	b     []byte
	i     int
	depth int
	// What the walk refuses and reports: see Check and CheckAnswer.
	maxDepth   int
	duplicates bool // refuse duplicate keys
	validUTF8  bool // refuse strings that are not valid UTF-8
	// keyEnd is where the last string read ended, after its quote.
	keyEnd int
	stack  [MaxAnswerDepth]frame
	keys   [][]byte
	// keyArr backs keys for the common case, so small bodies allocate
	// nothing.
	keyArr [64][]byte
}

// Check reports whether b holds exactly one JSON value, grammatical (as
// encoding/json.Valid judges it: strings are not checked for valid UTF-8),
// nested at most MaxDepth deep, whose objects have no duplicate keys
// (compared after unescaping, so "model" and "mod\u0065l" are the same). A
// duplicate key would mean one thing to a reader that keeps the first and
// another to one that keeps the last; the gateway checks and the upstream
// reads, so such a body is refused rather than guessed at.
//
// It walks the body once, without recursion, in memory bounded by the
// nesting limit plus the keys of the objects open at once.
func Check(b []byte) error {
	return check(b, MaxDepth, true, false, nil)
}

// CheckAnswer reports whether b, an upstream's answer, holds exactly one
// JSON value whose strings are valid UTF-8 and whose arrays and objects
// nest at most MaxAnswerDepth deep; duplicate keys are the upstream's
// business. It walks b as Check does, once, without recursion or
// allocation: an untrusted answer of any size or depth costs time in
// proportion to its length and nothing else, where gjson's Valid recurses
// once per level and ten million opening brackets exhaust a goroutine's
// stack, which no recover can catch.
//
// When the value is an object and member is not nil, member is called with
// each of its own members (not those of nested objects) as they are read:
// the name as written between its quotes, escapes left as they are, and the
// offset in b of the value's first byte.
func CheckAnswer(b []byte, member func(name []byte, value int)) error {
	return check(b, MaxAnswerDepth, false, true, member)
}

func check(b []byte, maxDepth int, duplicates, validUTF8 bool, member func([]byte, int)) error {
	c, _ := checkers.Get().(*checker)
	if c == nil {
		c = new(checker)
		c.keys = c.keyArr[:0]
	}
	c.b, c.i, c.depth = b, 0, 0
	c.maxDepth, c.duplicates, c.validUTF8 = maxDepth, duplicates, validUTF8
	// member is handed down rather than kept in the checker, which lives
	// on the heap: kept there, the caller's closure would escape and cost
	// an allocation per call.
	err := c.run(member)
	// Whatever is left open after an error holds no reference into b once
	// the checker goes back to the pool.
	for c.depth > 0 {
		c.pop()
	}
	c.b = nil
	if cap(c.keys) > len(c.keyArr) {
		c.keys = c.keyArr[:0]
	}
	checkers.Put(c)
	return err
}

// CheckBody is Check for a request body, with the client's 400 as the
// error: a syntax error is described as encoding/json describes it, with its
// position.
func CheckBody(body []byte) error {
	err := Check(body)
	if err == nil {
		return nil
	}
	ce := err.(*CheckError)
	switch {
	case ce.Key != "":
		return llm.InvalidRequest(ce.Path, "invalid JSON: duplicate key '%s' at byte %d: each key may appear only once in an object", ce.Path, ce.Offset)
	case ce.depth:
		return llm.InvalidRequest("", "invalid JSON: %s", ce.Error())
	}
	// Check found a syntax error before any nesting limit, so encoding/json
	// (whose own depth limit and scanner are not recursive) describes it.
	var v any
	if jerr := json.Unmarshal(body, &v); jerr != nil {
		return syntaxError(body, jerr)
	}
	return llm.InvalidRequest("", "invalid JSON: %s", ce.Error())
}

// checkers pools checkers: one is a few kilobytes, which a request would
// otherwise allocate and zero.
var checkers sync.Pool

func (c *checker) fail(reason string) error {
	return &CheckError{Offset: c.i, Reason: reason}
}

func (c *checker) skipSpace() {
	for c.i < len(c.b) && isSpace(c.b[c.i]) {
		c.i++
	}
}

// run walks the body: a loop over values, with the containers open around
// the current one on the stack.
func (c *checker) run(member func([]byte, int)) error {
	c.skipSpace()
	if c.i >= len(c.b) {
		return c.fail("the body is empty")
	}
	for {
		if err := c.value(member); err != nil {
			return err
		}
		// After a value: close containers, or go on to the next member.
		for {
			c.skipSpace()
			if c.depth == 0 {
				if c.i != len(c.b) {
					return c.fail("unexpected data after the top-level value")
				}
				return nil
			}
			if c.i >= len(c.b) {
				return c.fail("unexpected end of JSON input")
			}
			top := &c.stack[c.depth-1]
			ch := c.b[c.i]
			if ch == ',' {
				c.i++
				top.n++
				if top.object {
					if err := c.key(top, member); err != nil {
						return err
					}
				}
				break
			}
			if (top.object && ch == '}') || (!top.object && ch == ']') {
				c.i++
				c.pop()
				continue
			}
			if top.object {
				return c.fail("expected ',' or '}' after an object member")
			}
			return c.fail("expected ',' or ']' after an array element")
		}
	}
}

// value checks the value at c.i. A container is opened (and its first key
// read), not walked: run goes on inside it.
func (c *checker) value(member func([]byte, int)) error {
	for {
		c.skipSpace()
		if c.i >= len(c.b) {
			return c.fail("unexpected end of JSON input")
		}
		switch ch := c.b[c.i]; ch {
		case '{', '[':
			if c.depth == c.maxDepth {
				return &CheckError{Offset: c.i, Reason: fmt.Sprintf("the JSON nests deeper than %d levels", c.maxDepth), depth: true}
			}
			c.i++
			f := &c.stack[c.depth]
			*f = frame{object: ch == '{', keys: len(c.keys)}
			c.depth++
			c.skipSpace()
			if c.i < len(c.b) && c.b[c.i] == ch+2 { // '}' or ']'
				c.i++
				c.pop()
				return nil
			}
			if f.object {
				if err := c.key(f, member); err != nil {
					return err
				}
			}
			continue // the first element or member value
		case '"':
			_, err := c.str(false)
			return err
		case 't':
			return c.literal("true")
		case 'f':
			return c.literal("false")
		case 'n':
			return c.literal("null")
		default:
			return c.number()
		}
	}
}

func (c *checker) pop() {
	c.depth--
	f := &c.stack[c.depth]
	f.key = nil
	if f.object {
		clear(c.keys[f.keys:])
		c.keys = c.keys[:f.keys]
		f.set = nil
	}
}

// key reads an object member's key and the colon after it, and refuses a
// key the object already has.
func (c *checker) key(f *frame, member func([]byte, int)) error {
	c.skipSpace()
	if c.i >= len(c.b) || c.b[c.i] != '"' {
		return c.fail("expected a string key in an object")
	}
	at := c.i
	k, err := c.str(c.duplicates)
	if err != nil {
		return err
	}
	c.skipSpace()
	if c.i >= len(c.b) || c.b[c.i] != ':' {
		return c.fail("expected ':' after an object key")
	}
	c.i++
	if member != nil && c.depth == 1 {
		c.skipSpace()
		if c.i < len(c.b) {
			member(c.b[at+1:c.keyEnd-1], c.i)
		}
	}
	if !c.duplicates {
		return nil
	}
	if f.set == nil {
		for _, prev := range c.keys[f.keys:] {
			if bytes.Equal(prev, k) {
				return c.duplicate(at, k)
			}
		}
		if len(c.keys)-f.keys < maxLinearKeys {
			c.keys = append(c.keys, k)
			f.key = k
			return nil
		}
		f.set = make(map[string]struct{}, 2*maxLinearKeys)
		for _, prev := range c.keys[f.keys:] {
			f.set[string(prev)] = struct{}{}
		}
	}
	if _, dup := f.set[string(k)]; dup {
		return c.duplicate(at, k)
	}
	f.set[string(k)] = struct{}{}
	f.key = k
	return nil
}

// duplicate is the error for key k, found again at offset at in the
// innermost open object.
func (c *checker) duplicate(at int, k []byte) error {
	var path []byte
	for d := 0; d < c.depth-1; d++ {
		f := &c.stack[d]
		if f.object {
			if len(path) > 0 {
				path = append(path, '.')
			}
			path = append(path, f.key...)
		} else {
			path = fmt.Appendf(path, "[%d]", f.n)
		}
	}
	if len(path) > 0 {
		path = append(path, '.')
	}
	path = append(path, k...)
	return &CheckError{Offset: at, Reason: fmt.Sprintf("duplicate key %q", llm.Clip(string(k))), Key: string(k), Path: llm.Clip(string(path))}
}

// str checks the string at c.i. For a key (key set) it returns its
// content, unescaped (a new slice only when it has escapes) and with invalid
// UTF-8 replaced, as a decoder would read it; for a value, nil.
func (c *checker) str(key bool) ([]byte, error) {
	b := c.b
	start := c.i + 1
	escaped := false
	var hi byte
	for j := start; j < len(b); j++ {
		ch := b[j]
		if ch >= 0x20 && ch != '"' && ch != '\\' {
			hi |= ch
			continue
		}
		switch ch {
		case '"':
			c.i = j + 1
			c.keyEnd = j + 1
			if c.validUTF8 && hi >= utf8.RuneSelf && !utf8.Valid(b[start:j]) {
				c.i = start
				return nil, c.fail("invalid UTF-8 in a string")
			}
			if !key {
				return nil, nil
			}
			raw := b[start:j]
			if escaped {
				s, ok := Unquote(b[start-1 : j+1])
				if !ok {
					c.i = start
					return nil, c.fail("invalid string")
				}
				raw = []byte(s)
			} else if hi >= utf8.RuneSelf && !utf8.Valid(raw) {
				// Compared as a decoder that replaces invalid bytes
				// would see them.
				raw = bytes.ToValidUTF8(raw, []byte("\uFFFD"))
			}
			return raw, nil
		case '\\':
			escaped = true
			j++
			if j >= len(b) {
				break
			}
			switch b[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(b) || !isHex4(b[j+1:j+5]) {
					c.i = j
					return nil, c.fail("invalid \\u escape in a string")
				}
				j += 4
			default:
				c.i = j
				return nil, c.fail("invalid escape in a string")
			}
		default:
			c.i = j
			return nil, c.fail("invalid control character in a string")
		}
	}
	c.i = len(b)
	return nil, c.fail("unexpected end of JSON input in a string")
}

func isHex4(b []byte) bool {
	for _, ch := range b {
		if !('0' <= ch && ch <= '9' || 'a' <= ch && ch <= 'f' || 'A' <= ch && ch <= 'F') {
			return false
		}
	}
	return true
}

func (c *checker) literal(lit string) error {
	if !bytes.HasPrefix(c.b[c.i:], []byte(lit)) {
		return c.fail("invalid character in a literal")
	}
	c.i += len(lit)
	return nil
}

// number checks a number per the JSON grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (c *checker) number() error {
	b, i := c.b, c.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = digits(b, i)
	default:
		c.i = i
		return c.fail("invalid character looking for a value")
	}
	if i < len(b) && b[i] == '.' {
		if i+1 >= len(b) || !isDigit(b[i+1]) {
			c.i = i
			return c.fail("invalid number")
		}
		i = digits(b, i+1)
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			c.i = i
			return c.fail("invalid number")
		}
		i = digits(b, i)
	}
	c.i = i
	return nil
}

func isDigit(ch byte) bool { return '0' <= ch && ch <= '9' }

func digits(b []byte, i int) int {
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i
}
