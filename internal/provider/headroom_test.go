package provider

import (
	"context"
	"net/http"
	"net/http/httptest"
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
