package provider

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/llm"
)

func TestParseResetDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"1s", time.Second, true},
		{"6m0s", 6 * time.Minute, true},
		{"20ms", 20 * time.Millisecond, true},
		{"1h2m3.5s", time.Hour + 2*time.Minute + 3500*time.Millisecond, true},
		{"12", 12 * time.Second, true},
		{"0.5", 500 * time.Millisecond, true},
		{"", 0, false},
		{"-1s", 0, false},
		{"soon", 0, false},
		{"100000h", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseResetDuration(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseResetDuration(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestHeadroom(t *testing.T) {
	tests := []struct {
		name     string
		header   map[string]string
		ok       bool
		fraction float64
		reset    time.Duration
	}{
		{"none", nil, false, 1, 0},
		{"requests low", map[string]string{"x-ratelimit-remaining-requests": "5", "x-ratelimit-limit-requests": "100",
			"x-ratelimit-remaining-tokens": "900", "x-ratelimit-limit-tokens": "1000"}, true, 0.05, 0},
		{"tokens exhausted", map[string]string{"x-ratelimit-remaining-tokens": "0", "x-ratelimit-limit-tokens": "1000",
			"x-ratelimit-reset-tokens": "6m0s", "x-ratelimit-reset-requests": "20ms", "x-ratelimit-remaining-requests": "3"}, true, 0, 6 * time.Minute},
		{"no limit reported", map[string]string{"x-ratelimit-remaining-requests": "5"}, true, 1, 0},
		{"shortest reset", map[string]string{"x-ratelimit-reset-tokens": "2s", "x-ratelimit-reset-requests": "1s"}, true, 1, time.Second},
		{"garbage", map[string]string{"x-ratelimit-remaining-requests": "x"}, false, 1, 0},
	}
	for _, tt := range tests {
		h := http.Header{}
		for k, v := range tt.header {
			h.Set(k, v)
		}
		hr, ok := ParseHeadroom(h)
		if ok != tt.ok || hr.Fraction() != tt.fraction || hr.Reset() != tt.reset {
			t.Errorf("%s: ok %v fraction %v reset %v; want %v %v %v", tt.name, ok, hr.Fraction(), hr.Reset(), tt.ok, tt.fraction, tt.reset)
		}
	}
}

func TestAnthropicHeadroom(t *testing.T) {
	now := time.Date(2025, 8, 21, 12, 40, 0, 0, time.UTC)
	tests := []struct {
		name     string
		header   map[string]string
		ok       bool
		fraction float64
		reset    time.Duration
	}{
		{"none", nil, false, 1, 0},
		{"requests low", map[string]string{
			"anthropic-ratelimit-requests-limit": "1000", "anthropic-ratelimit-requests-remaining": "50",
			"anthropic-ratelimit-requests-reset": "2025-08-21T12:40:30Z",
			"anthropic-ratelimit-tokens-limit":   "96000", "anthropic-ratelimit-tokens-remaining": "96000",
			"anthropic-ratelimit-tokens-reset": "2025-08-21T12:40:59Z"}, true, 0.05, 30 * time.Second},
		{"tokens exhausted", map[string]string{
			"anthropic-ratelimit-tokens-limit": "80000", "anthropic-ratelimit-tokens-remaining": "0",
			"anthropic-ratelimit-tokens-reset": "2025-08-21T12:41:00Z", "anthropic-ratelimit-requests-reset": "2025-08-21T12:40:01Z",
			"anthropic-ratelimit-requests-remaining": "9"}, true, 0, time.Minute},
		{"reset in the past or malformed", map[string]string{
			"anthropic-ratelimit-requests-reset": "2025-08-21T12:39:00Z", "anthropic-ratelimit-tokens-reset": "soon"}, false, 1, 0},
	}
	for _, tt := range tests {
		h := http.Header{}
		for k, v := range tt.header {
			h.Set(k, v)
		}
		hr, ok := parseAnthropicHeadroom(h, now)
		if ok != tt.ok || hr.Fraction() != tt.fraction || hr.Reset() != tt.reset {
			t.Errorf("%s: ok %v fraction %v reset %v; want %v %v %v", tt.name, ok, hr.Fraction(), hr.Reset(), tt.ok, tt.fraction, tt.reset)
		}
	}
	// ParseHeadroom reads Anthropic's headers when there are no OpenAI ones.
	h := http.Header{}
	h.Set("anthropic-ratelimit-requests-remaining", "5")
	h.Set("anthropic-ratelimit-requests-limit", "100")
	h.Set("anthropic-ratelimit-requests-reset", time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	hr, ok := ParseHeadroom(h)
	if !ok || hr.Fraction() != 0.05 || hr.ResetRequests <= 58*time.Minute || hr.ResetRequests > time.Hour {
		t.Errorf("ParseHeadroom of Anthropic headers = %+v, %v", hr, ok)
	}
}

func TestErrorFromResponseRateLimitReset(t *testing.T) {
	var seen []Headroom
	ctx := WithHeadroomFunc(context.Background(), func(h Headroom) { seen = append(seen, h) })
	req := httptest.NewRequest("POST", "/", nil).WithContext(ctx)
	h := http.Header{}
	h.Set("x-ratelimit-remaining-requests", "0")
	h.Set("x-ratelimit-limit-requests", "60")
	h.Set("x-ratelimit-reset-requests", "1.5s")
	resp := &http.Response{StatusCode: 429, Header: h, Body: http.NoBody, Request: req}
	e := llmError(t, ErrorFromResponse("p", resp, nil))
	if e.Kind != llm.KindRateLimited || e.RetryAfter != 1500*time.Millisecond {
		t.Errorf("kind %v retry-after %v, want rate limited after 1.5s", e.Kind, e.RetryAfter)
	}
	if len(seen) != 1 || seen[0].RemainingRequests != 0 || seen[0].LimitRequests != 60 {
		t.Errorf("headroom reported %+v", seen)
	}

	h.Set("Retry-After", "3")
	resp = &http.Response{StatusCode: 429, Header: h, Body: http.NoBody}
	if e := llmError(t, ErrorFromResponse("p", resp, nil)); e.RetryAfter != 3*time.Second {
		t.Errorf("Retry-After should win over the reset header; got %v", e.RetryAfter)
	}
	h.Del("Retry-After")
	resp = &http.Response{StatusCode: 503, Header: h, Body: http.NoBody}
	if e := llmError(t, ErrorFromResponse("p", resp, nil)); e.RetryAfter != 0 {
		t.Errorf("reset headers apply to 429 only; got %v on 503", e.RetryAfter)
	}
}

func TestReportHeadroomWithoutFunc(t *testing.T) {
	h := http.Header{"X-Ratelimit-Remaining-Requests": {"1"}}
	ReportHeadroom(context.Background(), h) // no func: nothing to call, no panic
	var got int64 = -2
	ctx := WithHeadroomFunc(context.Background(), func(hr Headroom) { got = hr.RemainingRequests })
	ReportHeadroom(ctx, http.Header{"Content-Type": {"application/json"}})
	if got != -2 {
		t.Error("called without any rate-limit header")
	}
	ReportHeadroom(ctx, h)
	if got != 1 {
		t.Errorf("remaining = %d, want 1", got)
	}
}

func llmError(t *testing.T, err error) *llm.Error {
	t.Helper()
	e, ok := err.(*llm.Error)
	if !ok || !strings.Contains(e.Error(), "upstream status") {
		t.Fatalf("not an upstream *llm.Error: %v", err)
	}
	return e
}

func TestHeadroomHeaderNamesCanonical(t *testing.T) {
	// The names are looked up in the map directly: each must be the form
	// http.Header.Get would look up, and begin with its family's prefix.
	for _, c := range []struct{ prefix, name string }{
		{openAIPrefix, openAIRemainingRequests}, {openAIPrefix, openAILimitRequests}, {openAIPrefix, openAIResetRequests},
		{openAIPrefix, openAIRemainingTokens}, {openAIPrefix, openAILimitTokens}, {openAIPrefix, openAIResetTokens},
		{anthropicPrefix, anthropicRemainingRequest}, {anthropicPrefix, anthropicLimitRequests}, {anthropicPrefix, anthropicResetRequests},
		{anthropicPrefix, anthropicRemainingTokens}, {anthropicPrefix, anthropicLimitTokens}, {anthropicPrefix, anthropicResetTokens},
	} {
		if got := http.CanonicalHeaderKey(strings.ToLower(c.name)); got != c.name {
			t.Errorf("%q is not canonical (%q)", c.name, got)
		}
		if !strings.HasPrefix(c.name, c.prefix) {
			t.Errorf("%q does not begin with %q", c.name, c.prefix)
		}
	}
}

// getHeadroom is how the headers were read with http.Header.Get: ParseHeadroom
// must agree with it on every input.
func getHeadroom(h http.Header, now time.Time) (Headroom, bool) {
	getInt := func(name string) int64 {
		n, err := strconv.ParseInt(strings.TrimSpace(h.Get(name)), 10, 64)
		if err != nil || n < 0 {
			return -1
		}
		return n
	}
	o := Headroom{
		RemainingRequests: getInt("x-ratelimit-remaining-requests"), LimitRequests: getInt("x-ratelimit-limit-requests"),
		RemainingTokens: getInt("x-ratelimit-remaining-tokens"), LimitTokens: getInt("x-ratelimit-limit-tokens"),
	}
	o.ResetRequests, _ = ParseResetDuration(h.Get("x-ratelimit-reset-requests"))
	o.ResetTokens, _ = ParseResetDuration(h.Get("x-ratelimit-reset-tokens"))
	if o.reported() {
		return o, true
	}
	reset := func(name string) time.Duration {
		at, err := time.Parse(time.RFC3339, strings.TrimSpace(h.Get(name)))
		if d := at.Sub(now); err == nil && d > 0 && d <= maxRetryAfter {
			return d
		}
		return 0
	}
	a := Headroom{
		RemainingRequests: getInt("anthropic-ratelimit-requests-remaining"), LimitRequests: getInt("anthropic-ratelimit-requests-limit"),
		RemainingTokens: getInt("anthropic-ratelimit-tokens-remaining"), LimitTokens: getInt("anthropic-ratelimit-tokens-limit"),
		ResetRequests: reset("anthropic-ratelimit-requests-reset"), ResetTokens: reset("anthropic-ratelimit-tokens-reset"),
	}
	return a, a.reported()
}

func TestParseHeadroomAgreesWithGet(t *testing.T) {
	now := time.Date(2025, 8, 21, 12, 40, 0, 0, time.UTC)
	tests := []struct {
		name   string
		header http.Header
		// clock: the case has an Anthropic reset in the future, which
		// ParseHeadroom measures from its own clock; it is compared
		// through parseAnthropicHeadroom only.
		clock bool
	}{
		{"nil", nil, false},
		{"empty", http.Header{}, false},
		{"unrelated", http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"abc"}}, false},
		{"openai limits only", http.Header{"X-Ratelimit-Limit-Requests": {"100"}, "X-Ratelimit-Limit-Tokens": {"9"}}, false},
		{"openai full", http.Header{"X-Ratelimit-Remaining-Requests": {" 5 "}, "X-Ratelimit-Limit-Requests": {"100"},
			"X-Ratelimit-Remaining-Tokens": {"900"}, "X-Ratelimit-Limit-Tokens": {"1000"},
			"X-Ratelimit-Reset-Requests": {"1s"}, "X-Ratelimit-Reset-Tokens": {"6m0s"}}, false},
		{"openai malformed", http.Header{"X-Ratelimit-Remaining-Requests": {"-3"}, "X-Ratelimit-Remaining-Tokens": {"1e3"},
			"X-Ratelimit-Reset-Tokens": {"soon"}, "X-Ratelimit-Limit-Tokens": {""}}, false},
		{"openai first value wins", http.Header{"X-Ratelimit-Remaining-Requests": {"7", "8"}}, false},
		{"openai empty value list", http.Header{"X-Ratelimit-Remaining-Requests": {}}, false},
		{"lower-case map key, which Get does not find", http.Header{"x-ratelimit-remaining-requests": {"5"}}, false},
		{"openai prefix, other header", http.Header{"X-Ratelimit-Something": {"5"}}, false},
		{"anthropic limits only", http.Header{"Anthropic-Ratelimit-Requests-Limit": {"100"}}, false},
		{"anthropic counts", http.Header{"Anthropic-Ratelimit-Requests-Remaining": {"50"}, "Anthropic-Ratelimit-Requests-Limit": {"1000"},
			"Anthropic-Ratelimit-Tokens-Remaining": {"0"}, "Anthropic-Ratelimit-Tokens-Limit": {"80000"}}, false},
		{"anthropic reset past or malformed", http.Header{"Anthropic-Ratelimit-Requests-Reset": {"2025-08-21T12:39:00Z"},
			"Anthropic-Ratelimit-Tokens-Reset": {"soon"}}, false},
		{"anthropic reset blank", http.Header{"Anthropic-Ratelimit-Requests-Reset": {"  "}}, false},
		{"anthropic resets", http.Header{"Anthropic-Ratelimit-Requests-Reset": {"2025-08-21T12:40:30Z"},
			"Anthropic-Ratelimit-Tokens-Reset": {" 2025-08-21T12:41:00Z "}, "Anthropic-Ratelimit-Tokens-Remaining": {"0"}}, true},
		{"openai unreported, anthropic reported", http.Header{"X-Ratelimit-Limit-Requests": {"100"},
			"Anthropic-Ratelimit-Requests-Remaining": {"9"}, "Anthropic-Ratelimit-Requests-Limit": {"10"}}, false},
		{"both reported", http.Header{"X-Ratelimit-Remaining-Tokens": {"1"},
			"Anthropic-Ratelimit-Requests-Remaining": {"9"}}, false},
	}
	for _, tt := range tests {
		if !tt.clock {
			want, wantOK := getHeadroom(tt.header, time.Now())
			if got, ok := ParseHeadroom(tt.header); got != want || ok != wantOK {
				t.Errorf("%s: ParseHeadroom = %+v, %v; want %+v, %v", tt.name, got, ok, want, wantOK)
			}
		}
		anthropic := http.Header{}
		for k, v := range tt.header {
			if strings.HasPrefix(k, "Anthropic-") {
				anthropic[k] = v
			}
		}
		want, wantOK := getHeadroom(anthropic, now)
		if got, ok := parseAnthropicHeadroom(tt.header, now); got != want || ok != wantOK {
			t.Errorf("%s: parseAnthropicHeadroom = %+v, %v; want %+v, %v", tt.name, got, ok, want, wantOK)
		}
	}
}

// BenchmarkReportHeadroom is the headroom read of every upstream response:
// one without rate-limit headers, as most are, and one with OpenAI's.
func BenchmarkReportHeadroom(b *testing.B) {
	var sink Headroom
	ctx := WithHeadroomFunc(context.Background(), func(h Headroom) { sink = h })
	plain := http.Header{"Content-Type": {"application/json"}, "Date": {"Thu, 21 Aug 2025 12:40:00 GMT"},
		"Content-Length": {"612"}, "X-Request-Id": {"req_123"}, "Openai-Processing-Ms": {"321"}}
	limited := plain.Clone()
	limited.Set("x-ratelimit-remaining-requests", "59")
	limited.Set("x-ratelimit-limit-requests", "60")
	limited.Set("x-ratelimit-remaining-tokens", "149000")
	limited.Set("x-ratelimit-limit-tokens", "150000")
	limited.Set("x-ratelimit-reset-requests", "1s")
	limited.Set("x-ratelimit-reset-tokens", "6m0s")
	for _, c := range []struct {
		name string
		h    http.Header
	}{{"none", plain}, {"openai", limited}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ReportHeadroom(ctx, c.h)
			}
		})
	}
	_ = sink
}

func TestParseResetDurationAgreesWithParseFloatFirst(t *testing.T) {
	// What ParseResetDuration did before it skipped ParseFloat for values
	// ending in a duration unit: it must agree on every input.
	want := func(v string) (time.Duration, bool) {
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
	for _, v := range []string{"0", "12", " 12 ", "0.5", ".5", "+3", "-1", "1e1", "1E1", "0x1p3", "1_0", "inf", "+Inf",
		"infinity", "NaN", "1s", "6m0s", "20ms", "3us", "3µs", "7ns", "1.5h", "-1s", "+1s", "24h", "25h", "1S", "1H",
		"s", "m", "h", "ms", "1sm", "1h1", "soon", "12 s", "0s", "86400", "86399.5"} {
		gd, gok := ParseResetDuration(v)
		wd, wok := want(v)
		if gd != wd || gok != wok {
			t.Errorf("ParseResetDuration(%q) = %v, %v; want %v, %v", v, gd, gok, wd, wok)
		}
	}
}
