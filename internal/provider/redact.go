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
	needles [][]byte
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
			r.needles = append(r.needles, []byte(s))
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
	for _, n := range r.needles {
		if bytes.Contains(b, n) {
			return true
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
		out = bytes.ReplaceAll(out, n, []byte(redacted))
	}
	return out
}
