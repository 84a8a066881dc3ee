package openai

import "testing"

func TestReasoningEffortFor(t *testing.T) {
	for _, tt := range []struct{ thinking, want string }{
		{`{"type":"enabled","budget_tokens":1024}`, "low"},
		{`{"type":"enabled","budget_tokens":4000}`, "low"},
		{`{"type":"enabled","budget_tokens":4096}`, "medium"},
		{`{"type":"enabled","budget_tokens":10000}`, "medium"},
		{`{"type":"enabled","budget_tokens":16384}`, "high"},
		{`{"type":"enabled","budget_tokens":31999}`, "high"},
		{`{"type":"disabled"}`, ""},
		{`{"type":"adaptive"}`, ""},
		{``, ""},
	} {
		if got := ReasoningEffortFor([]byte(tt.thinking)); got != tt.want {
			t.Errorf("ReasoningEffortFor(%s) = %q, want %q", tt.thinking, got, tt.want)
		}
	}
}

func TestReasoningModel(t *testing.T) {
	for m, want := range map[string]bool{
		"o1": true, "o1-mini": true, "o3-pro-2025-06-10": true, "o4-mini": true, "O3": true,
		"gpt-5": true, "gpt-5-mini": true, "gpt-5.1": true, "gpt-5.1-codex-max": true, "gpt-5-nano-2025-08-07": true,
		"codex-mini-latest": true,
		"gpt-5-chat-latest": false, "gpt-5.1-chat-latest": false, "gpt-4o": false, "gpt-4o-mini": false,
		"gpt-4.1": false, "o10": false, "gpt-50": false, "omni-moderation-latest": false, "": false,
	} {
		if got := ReasoningModel(m); got != want {
			t.Errorf("ReasoningModel(%q) = %v, want %v", m, got, want)
		}
	}
}
