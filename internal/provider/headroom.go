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

// ParseHeadroom reads the rate-limit headers of an upstream response and
// reports whether any was present. OpenAI's headers are read when present,
// else Anthropic's.
func ParseHeadroom(h http.Header) (Headroom, bool) {
	hr, ok := parseOpenAIHeadroom(h)
	if ok {
		return hr, true
	}
	return parseAnthropicHeadroom(h, time.Now())
}

func parseOpenAIHeadroom(h http.Header) (Headroom, bool) {
	hr := Headroom{
		RemainingRequests: headerInt(h, "x-ratelimit-remaining-requests"),
		LimitRequests:     headerInt(h, "x-ratelimit-limit-requests"),
		RemainingTokens:   headerInt(h, "x-ratelimit-remaining-tokens"),
		LimitTokens:       headerInt(h, "x-ratelimit-limit-tokens"),
	}
	hr.ResetRequests, _ = ParseResetDuration(h.Get("x-ratelimit-reset-requests"))
	hr.ResetTokens, _ = ParseResetDuration(h.Get("x-ratelimit-reset-tokens"))
	return hr, hr.reported()
}

// parseAnthropicHeadroom reads Anthropic's headers. Its -tokens limit is
// the most restrictive token limit in force; the input and output token
// limits it also reports are not read. Resets are times, taken relative to
// now.
func parseAnthropicHeadroom(h http.Header, now time.Time) (Headroom, bool) {
	hr := Headroom{
		RemainingRequests: headerInt(h, "anthropic-ratelimit-requests-remaining"),
		LimitRequests:     headerInt(h, "anthropic-ratelimit-requests-limit"),
		RemainingTokens:   headerInt(h, "anthropic-ratelimit-tokens-remaining"),
		LimitTokens:       headerInt(h, "anthropic-ratelimit-tokens-limit"),
		ResetRequests:     resetAt(h.Get("anthropic-ratelimit-requests-reset"), now),
		ResetTokens:       resetAt(h.Get("anthropic-ratelimit-tokens-reset"), now),
	}
	return hr, hr.reported()
}

func (h Headroom) reported() bool {
	return h.RemainingRequests >= 0 || h.RemainingTokens >= 0 || h.ResetRequests > 0 || h.ResetTokens > 0
}

// resetAt returns the time from now until the RFC 3339 time v, or 0 when v
// is not one, is past, or is further away than any wait honoured.
func resetAt(v string, now time.Time) time.Duration {
	at, err := time.Parse(time.RFC3339, strings.TrimSpace(v))
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

func headerInt(h http.Header, name string) int64 {
	v := strings.TrimSpace(h.Get(name))
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
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s < 0 || s*float64(time.Second) >= float64(maxRetryAfter) {
			return 0, false
		}
		return time.Duration(s * float64(time.Second)), true
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
