package router

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/llm"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want verdict
	}{
		{"dial error", &llm.Error{Kind: llm.KindUpstreamUnavailable}, verdict{true, true, false, ordinary, "unavailable"}},
		{"timeout", &llm.Error{Kind: llm.KindUpstreamTimeout}, verdict{true, true, false, ordinary, "timeout"}},
		{"408", &llm.Error{Kind: llm.KindUpstreamTimeout, UpstreamStatus: 408}, verdict{true, true, false, ordinary, "timeout"}},
		{"409 and 5xx", &llm.Error{Kind: llm.KindUpstream, UpstreamStatus: 409}, verdict{true, true, false, ordinary, "error"}},
		{"529", &llm.Error{Kind: llm.KindUpstreamUnavailable, UpstreamStatus: 529}, verdict{true, true, false, ordinary, "unavailable"}},
		{"upstream 429", &llm.Error{Kind: llm.KindRateLimited, UpstreamStatus: 429}, verdict{true, true, false, ordinary, "rate_limited"}},
		{"error event", &llm.Error{Kind: llm.KindUpstream, Message: "error in stream"}, verdict{true, true, false, ordinary, "error"}},
		{"gateway's own 429", &llm.Error{Kind: llm.KindRateLimited}, verdict{outcome: "rejected"}},
		{"context window", &llm.Error{Kind: llm.KindContextLength, UpstreamStatus: 400}, verdict{fallback: contextWindow, outcome: "context_length"}},
		{"content policy", &llm.Error{Kind: llm.KindContentPolicy, UpstreamStatus: 400}, verdict{fallback: contentPolicy, outcome: "content_policy"}},
		{"invalid request", &llm.Error{Kind: llm.KindInvalidRequest, UpstreamStatus: 400}, verdict{outcome: "rejected"}},
		{"upstream credentials", &llm.Error{Kind: llm.KindUpstream, UpstreamStatus: 401}, verdict{true, true, true, ordinary, "unauthorized"}},
		{"upstream 403", &llm.Error{Kind: llm.KindUpstream, UpstreamStatus: 403}, verdict{true, true, true, ordinary, "unauthorized"}},
		{"other upstream 4xx", &llm.Error{Kind: llm.KindUpstream, UpstreamStatus: 404}, verdict{outcome: "rejected"}},
		{"client gone", context.Canceled, verdict{outcome: "canceled"}},
		{"bare error", errors.New("boom"), verdict{outcome: "rejected"}},
	}
	for _, tt := range tests {
		if got := classify(tt.err); got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestBackoffFullJitter(t *testing.T) {
	r := Retry{BaseBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}
	tests := []struct {
		n    int
		rnd  float64
		want time.Duration
	}{
		{0, 0.99, 0},
		{1, 0, 0},
		{1, 0.5, 50 * time.Millisecond},
		{2, 0.5, 100 * time.Millisecond},
		{3, 0.99, 396 * time.Millisecond},
		{5, 0.5, 500 * time.Millisecond}, // 1.6s capped at 1s
		{40, 0.999, 999 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := backoff(r, tt.n, tt.rnd); got != tt.want {
			t.Errorf("backoff(%d, %v) = %v, want %v", tt.n, tt.rnd, got, tt.want)
		}
	}
}
