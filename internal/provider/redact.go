package provider

import (
	"bytes"
	"encoding/json"
	"strings"
)

// MinBodySecret is the length below which a secret is not looked for in the
// bodies and stream events an upstream answers with. The provider's key and
// the credentials sent in headers are far longer; a short header value (a
// flag such as "true", a version) cannot be told apart from the text of an
// answer, where replacing it would corrupt the answer (a number, a word of
// the completion) without protecting anything. Error messages are redacted
// of every secret, whatever its length (Sanitize).
const MinBodySecret = 8

// redactor replaces an upstream's secrets in what it answers, in each form
// a JSON encoder may write them in.
type redactor struct {
	needles []needle
}

// needle is one form of a secret, with the byte of it that a search looks
// for first: the one least likely in an answer (see rarity), so that most
// stream events are dismissed by one bytes.IndexByte. bytes.Contains anchors
// on the first byte instead, "s" for most keys, which a chat chunk holds a
// dozen times ("choices", "system_fingerprint"): three times the cost.
type needle struct {
	b  []byte
	at int // offset of the anchor in b
}

// newRedactor returns the redactor of secrets: each one of at least
// MinBodySecret bytes, as it is and as JSON escapes it (encoding/json's
// HTML-safe escaping of <, > and &, and "\/" for a slash), each form once.
func newRedactor(secrets []string) redactor {
	var r redactor
	seen := make(map[string]bool)
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			r.needles = append(r.needles, newNeedle(s))
		}
	}
	for _, s := range secrets {
		if len(s) < MinBodySecret {
			continue
		}
		for _, form := range []string{s, jsonEscape(s, true), jsonEscape(s, false)} {
			add(form)
			if strings.Contains(form, "/") {
				add(strings.ReplaceAll(form, "/", `\/`))
			}
		}
	}
	return r
}

// jsonEscape returns s as encoding/json writes it inside a string.
func jsonEscape(s string, html bool) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(html)
	_ = enc.Encode(s) // a string always encodes
	out := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	return string(out[1 : len(out)-1])
}

// has reports whether b holds a secret.
func (r *redactor) has(b []byte) bool {
	for i := range r.needles {
		if r.needles[i].in(b) {
			return true
		}
	}
	return false
}

// rarity ranks bytes by how seldom they appear in JSON answers of LLM APIs,
// rarest first: anything not listed (upper case letters, bytes of non-ASCII
// characters, most punctuation), then rare letters, digits (timestamps,
// ids and counts are in every event), the other letters from the rarest in
// English text and JSON member names to the commonest, and last the bytes
// of JSON's own syntax and of ids and member names.
const rarity = "zqxjkvb0123456789ygfwpmuclhdrnsiaote-_.:,\" {}[]"

// newNeedle returns the needle of s, anchored on its rarest byte.
func newNeedle(s string) needle {
	rank := func(c byte) int { return strings.IndexByte(rarity, c) } // -1: rarest
	at := 0
	for i := 1; i < len(s); i++ {
		if rank(s[i]) < rank(s[at]) {
			at = i
		}
	}
	return needle{b: []byte(s), at: at}
}

// in reports whether b holds n. It looks for the anchor byte and compares
// the whole needle around each occurrence; after a few occurrences that do
// not match (a body that is full of the anchor byte, a long answer), it
// leaves the rest to bytes.Contains, whose cost does not grow with them.
func (n *needle) in(b []byte) bool {
	c := n.b[n.at]
	misses := 0
	for i := n.at; i < len(b); i++ {
		j := bytes.IndexByte(b[i:], c)
		if j < 0 {
			return false
		}
		i += j
		start := i - n.at
		if start+len(n.b) > len(b) {
			return false
		}
		if bytes.Equal(b[start:start+len(n.b)], n.b) {
			return true
		}
		if misses++; misses > 8 {
			return bytes.Contains(b[start+1:], n.b)
		}
	}
	return false
}

// redact returns b with every secret replaced by "[redacted]": b itself,
// unchanged, when it holds none, which costs one search per form of each
// secret; else a new slice, b being left as it was.
func (r *redactor) redact(b []byte) []byte {
	if !r.has(b) {
		return b
	}
	out := bytes.Clone(b)
	for _, n := range r.needles {
		out = bytes.ReplaceAll(out, n.b, []byte(redacted))
	}
	return out
}
