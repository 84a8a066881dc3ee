package provider

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Headroom is what an upstream reports of the rate limits left to the
// gateway's account, read from OpenAI-style headers
// (x-ratelimit-remaining-requests, x-ratelimit-limit-requests,
// x-ratelimit-reset-requests and the same three for -tokens) or Anthropic's
// (anthropic-ratelimit-requests-remaining, -limit and -reset, the same for
// -tokens, the reset an RFC 3339 time). A count the upstream did not report
// is -1.
type Headroom struct {
	RemainingRequests, LimitRequests int64
	RemainingTokens, LimitTokens     int64
	// ResetRequests and ResetTokens are how long until the limits are
	// replenished; 0 when not reported.
	ResetRequests, ResetTokens time.Duration
}

// The rate-limit headers in canonical form, the form net/http stores them
// in: looked up directly, they cost no canonicalization per lookup, where
// http.Header.Get of a lower-case name allocates its canonical form every
// time.
const (
	openAIPrefix              = "X-Ratelimit-"
	openAIRemainingRequests   = "X-Ratelimit-Remaining-Requests"
	openAILimitRequests       = "X-Ratelimit-Limit-Requests"
	openAIResetRequests       = "X-Ratelimit-Reset-Requests"
	openAIRemainingTokens     = "X-Ratelimit-Remaining-Tokens"
	openAILimitTokens         = "X-Ratelimit-Limit-Tokens"
	openAIResetTokens         = "X-Ratelimit-Reset-Tokens"
	anthropicPrefix           = "Anthropic-Ratelimit-"
	anthropicRemainingRequest = "Anthropic-Ratelimit-Requests-Remaining"
	anthropicLimitRequests    = "Anthropic-Ratelimit-Requests-Limit"
	anthropicResetRequests    = "Anthropic-Ratelimit-Requests-Reset"
	anthropicRemainingTokens  = "Anthropic-Ratelimit-Tokens-Remaining"
	anthropicLimitTokens      = "Anthropic-Ratelimit-Tokens-Limit"
	anthropicResetTokens      = "Anthropic-Ratelimit-Tokens-Reset"
)

// noHeadroom is the Headroom of a response that reports nothing.
var noHeadroom = Headroom{RemainingRequests: -1, LimitRequests: -1, RemainingTokens: -1, LimitTokens: -1}

// ParseHeadroom reads the rate-limit headers of an upstream response and
// reports whether any was present. OpenAI's headers are read when present,
// else Anthropic's.
func ParseHeadroom(h http.Header) (Headroom, bool) {
	openAI, anthropic := rateLimitHeaders(h)
	if openAI {
		if hr, ok := parseOpenAIHeadroom(h); ok {
			return hr, true
		}
	}
	if !anthropic {
		// What parseAnthropicHeadroom would return, without the clock
		// read and the lookups.
		return noHeadroom, false
	}
	return parseAnthropicHeadroom(h, time.Now())
}

// rateLimitHeaders reports whether h has a header of OpenAI's and of
// Anthropic's rate-limit families. Most responses have neither, and one
// pass over their few headers settles it.
func rateLimitHeaders(h http.Header) (openAI, anthropic bool) {
	for k := range h {
		switch {
		case strings.HasPrefix(k, openAIPrefix):
			openAI = true
		case strings.HasPrefix(k, anthropicPrefix):
			anthropic = true
		}
	}
	return openAI, anthropic
}

func parseOpenAIHeadroom(h http.Header) (Headroom, bool) {
	hr := Headroom{
		RemainingRequests: headerInt(h, openAIRemainingRequests),
		LimitRequests:     headerInt(h, openAILimitRequests),
		RemainingTokens:   headerInt(h, openAIRemainingTokens),
		LimitTokens:       headerInt(h, openAILimitTokens),
	}
	hr.ResetRequests, _ = ParseResetDuration(header(h, openAIResetRequests))
	hr.ResetTokens, _ = ParseResetDuration(header(h, openAIResetTokens))
	return hr, hr.reported()
}

// parseAnthropicHeadroom reads Anthropic's headers. Its -tokens limit is
// the most restrictive token limit in force; the input and output token
// limits it also reports are not read. Resets are times, taken relative to
// now.
func parseAnthropicHeadroom(h http.Header, now time.Time) (Headroom, bool) {
	hr := Headroom{
		RemainingRequests: headerInt(h, anthropicRemainingRequest),
		LimitRequests:     headerInt(h, anthropicLimitRequests),
		RemainingTokens:   headerInt(h, anthropicRemainingTokens),
		LimitTokens:       headerInt(h, anthropicLimitTokens),
		ResetRequests:     resetAt(header(h, anthropicResetRequests), now),
		ResetTokens:       resetAt(header(h, anthropicResetTokens), now),
	}
	return hr, hr.reported()
}

// header is h.Get(name) for a name already in canonical form.
func header(h http.Header, name string) string {
	if v := h[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (h Headroom) reported() bool {
	return h.RemainingRequests >= 0 || h.RemainingTokens >= 0 || h.ResetRequests > 0 || h.ResetTokens > 0
}

// resetAt returns the time from now until the RFC 3339 time v, or 0 when v
// is not one, is past, or is further away than any wait honoured.
func resetAt(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0 // what time.Parse would say, without allocating its error
	}
	at, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return 0
	}
	if d := at.Sub(now); d > 0 && d <= maxRetryAfter {
		return d
	}
	return 0
}

// Fraction returns the smallest share of a limit left, from 0 to 1, over the
// limits whose remaining count and size were both reported; 1 when none was.
func (h Headroom) Fraction() float64 {
	f := 1.0
	for _, p := range [...][2]int64{{h.RemainingRequests, h.LimitRequests}, {h.RemainingTokens, h.LimitTokens}} {
		if p[0] >= 0 && p[1] > 0 {
			f = min(f, float64(p[0])/float64(p[1]))
		}
	}
	return max(f, 0)
}

// Reset returns how long until the exhausted limits replenish: the longest
// reset of a limit reported at 0 remaining, else the shortest reported
// reset, else 0.
func (h Headroom) Reset() time.Duration {
	var exhausted, shortest time.Duration
	for _, p := range [...]struct {
		remaining int64
		reset     time.Duration
	}{{h.RemainingRequests, h.ResetRequests}, {h.RemainingTokens, h.ResetTokens}} {
		if p.reset <= 0 {
			continue
		}
		if p.remaining == 0 {
			exhausted = max(exhausted, p.reset)
		}
		if shortest == 0 || p.reset < shortest {
			shortest = p.reset
		}
	}
	if exhausted > 0 {
		return exhausted
	}
	return shortest
}

// headerInt reads the header name, given in canonical form, as a count: -1
// when absent, malformed or negative.
func headerInt(h http.Header, name string) int64 {
	v := strings.TrimSpace(header(h, name))
	if v == "" {
		return -1
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// ParseResetDuration reads a rate-limit reset value: OpenAI's durations
// ("1s", "6m0s", "20ms", "1h2m3.5s") or a bare number of seconds ("12",
// "0.5"). It reports false for anything else, including negative values.
func ParseResetDuration(v string) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	// A duration ends in its unit (ns, us, µs, ms, s, m, h), a letter no
	// number ParseFloat accepts ends in: skipping it then saves building
	// its error.
	if last := v[len(v)-1]; last != 's' && last != 'm' && last != 'h' {
		if s, err := strconv.ParseFloat(v, 64); err == nil {
			if s < 0 || s*float64(time.Second) >= float64(maxRetryAfter) {
				return 0, false
			}
			return time.Duration(s * float64(time.Second)), true
		}
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || d > maxRetryAfter {
		return 0, false
	}
	return d, true
}

type headroomKey struct{}

// WithHeadroomFunc returns ctx carrying f, which the provider serving a call
// made with that context calls with the headroom its upstream reports (the
// way net/http/httptrace carries hooks). The router uses it to steer traffic
// away from a target before it starts refusing requests.
func WithHeadroomFunc(ctx context.Context, f func(Headroom)) context.Context {
	return context.WithValue(ctx, headroomKey{}, f)
}

// ReportHeadroom passes the rate-limit headers of an upstream response to
// the function ctx carries, if any and if the headers report anything.
// ErrorFromResponse calls it for error responses; providers call it for
// successful ones.
func ReportHeadroom(ctx context.Context, h http.Header) {
	f, _ := ctx.Value(headroomKey{}).(func(Headroom))
	if f == nil {
		return
	}
	if hr, ok := ParseHeadroom(h); ok {
		f(hr)
	}
}
