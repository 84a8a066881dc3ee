package payloadlog

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
)

// Redacted is what a secret is replaced with.
const Redacted = "[redacted]"

// MinSecret is the length below which a secret of the configuration is not
// looked for: a short value (a flag, a version) cannot be told apart from
// ordinary text, which replacing it would corrupt without protecting
// anything.
const MinSecret = 8

// pattern is one shape of secret: where it may be (hints, substrings one
// of which every match holds, lower case when fold is set, so that most
// texts are dismissed by a substring search without running the
// expression, which costs some 100 µs to 1.5 ms on 12 KiB) and what
// replaces a match.
type pattern struct {
	hints []string
	fold  bool
	re    *regexp.Regexp
	repl  string
}

// h is a list of hints.
func h(hints ...string) []string { return hints }

// patterns are the shapes of secret redacted in every text, the longest
// first: a private key block may hold what looks like a key.
var patterns = []pattern{
	// PEM private key blocks, of any algorithm; to the end of the text
	// when the END line was cut off.
	{h("PRIVATE KEY"), false, regexp.MustCompile(`-----BEGIN[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----(?s:.*?)(?:-----END[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|$)`), Redacted},
	// JWTs: a base64url JSON header, a payload and a signature (empty
	// when unsigned, cut off when the text was).
	{h("eyJ"), false, regexp.MustCompile(`eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*)?`), Redacted},
	// The credentials of an Authorization header: "Bearer <token>",
	// "Basic <base64>".
	{h("bearer"), true, regexp.MustCompile(`(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}`), "$1 " + Redacted},
	{h("basic"), true, regexp.MustCompile(`(?i)\b(basic)\s+[A-Za-z0-9+/]{8,}={0,2}`), "$1 " + Redacted},
	// OpenAI (sk-, sk-proj-, sk-svcacct-, sk-admin-), Anthropic
	// (sk-ant-), the gateway's own (sk-llmgw-) and most keys shaped
	// like them.
	{h("sk-"), false, regexp.MustCompile(`\bsk-[A-Za-z0-9_-]{16,}`), Redacted},
	// Stripe live and test keys.
	{h("k_live_", "k_test_"), false, regexp.MustCompile(`\b[rsp]k_(?:live|test)_[A-Za-z0-9]{16,}`), Redacted},
	// AWS access key IDs (long-term and temporary).
	{h("AKIA", "ASIA", "ABIA", "ACCA"), false, regexp.MustCompile(`\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b`), Redacted},
	// Google API keys.
	{h("AIza"), false, regexp.MustCompile(`\bAIza[A-Za-z0-9_-]{35}`), Redacted},
	// GitHub tokens.
	{h("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"), false, regexp.MustCompile(`\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})`), Redacted},
	// Slack tokens.
	{h("xox"), false, regexp.MustCompile(`\bxox[abposr]-[A-Za-z0-9-]{10,}`), Redacted},
	// The password of a URL's user info, the slashes JSON-escaped or not:
	// scheme://user:password@host.
	{h("@"), false, regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*:(?:\\?/){2}[^\s:/@"\\]*):[^\s@/"\\]+@`), "${1}:" + Redacted + "@"},
	// The value of a field named for a secret, in JSON (the quotes
	// JSON-escaped or not), YAML, a query string or an environment file:
	// password=..., "api_key": "...".
	{h("passw", "secret", "api_key", "apikey", "api-key", "access_token", "access-token", "refresh_token", "refresh-token"), true, regexp.MustCompile(`(?i)((?:password|passwd|secret|client_secret|api[_-]?key|access[_-]?token|refresh[_-]?token|aws_secret_access_key)(?:\\?")?\s*[:=]\s*(?:\\?")?)[^\s"\\,;&]{4,}`), "${1}" + Redacted},
}

// Redactor redacts the secrets of its patterns and the literal secrets it
// was given. It is safe for concurrent use.
type Redactor struct {
	// literal are the literal secrets, in each of their forms, the longest
	// first: of two secrets where one holds the other, the longer must be
	// replaced first, or its rest would remain. Each is looked for by
	// strings.Contains, which a strings.Replacer of them all was ten times
	// slower than on a text without any (BenchmarkPolicyText).
	literal []string
}

// NewRedactor returns a Redactor of the patterns and of secrets: each of
// at least MinSecret bytes, as it is and as JSON escapes it (encoding/json's
// HTML-safe escaping of <, > and & or not, and "\/" for a slash or not).
func NewRedactor(secrets []string) *Redactor {
	r := &Redactor{}
	seen := make(map[string]bool)
	for _, s := range secrets {
		if len(s) < MinSecret {
			continue
		}
		for _, form := range []string{s, jsonEscape(s, true), jsonEscape(s, false)} {
			for _, f := range []string{form, strings.ReplaceAll(form, "/", `\/`)} {
				if !seen[f] {
					seen[f] = true
					r.literal = append(r.literal, f)
				}
			}
		}
	}
	slices.SortStableFunc(r.literal, func(a, b string) int { return len(b) - len(a) })
	return r
}

// jsonEscape returns s as encoding/json writes it inside a string.
func jsonEscape(s string, html bool) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(html)
	_ = enc.Encode(s) // a string always encodes
	out := strings.TrimSuffix(b.String(), "\n")
	return out[1 : len(out)-1]
}

// Redact returns s with every secret replaced by Redacted.
func (r *Redactor) Redact(s string) string {
	for _, l := range r.literal {
		if strings.Contains(s, l) {
			s = strings.ReplaceAll(s, l, Redacted)
		}
	}
	var lower string
	for i := range patterns {
		p := &patterns[i]
		in := s
		if p.fold {
			if lower == "" {
				lower = strings.ToLower(s)
			}
			in = lower
		}
		if !containsAny(in, p.hints) {
			continue
		}
		if n := p.re.ReplaceAllString(s, p.repl); n != s {
			s, lower = n, ""
		}
	}
	return s
}

// containsAny reports whether s holds one of subs.
func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
