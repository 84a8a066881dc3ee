package ratelimit

import (
	"testing"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/pipeline"
)

// Tokens counts a call once per model: a later stage reuses the count.
func TestTokensCountsOncePerModel(t *testing.T) {
	decoded := 0
	call := pipeline.NewChatCall("openai", []byte(`{}`), func([]byte) (*llm.ChatRequest, error) {
		decoded++
		return &llm.ChatRequest{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Content: []llm.Part{{Type: llm.PartText, Text: "hello there"}}}}}, nil
	})
	call.Model = "m"
	p1, a1, err := Tokens(call, nil, 0)
	if err != nil || p1 <= 0 || a1 != DefaultMaxTokens {
		t.Fatalf("Tokens = %d, %d, %v", p1, a1, err)
	}
	if p, a, ok := call.TokenEstimate(); !ok || p != p1 || a != a1 {
		t.Fatalf("the count is not kept on the call: %d, %d, %v", p, a, ok)
	}
	call.SetTokenEstimate(7, 9)
	if p, a, _ := Tokens(call, nil, 0); p != 7 || a != 9 {
		t.Errorf("a kept count is not reused: %d, %d", p, a)
	}
	call.Model = "other"
	if p, _, _ := Tokens(call, nil, 123); p != p1 {
		t.Errorf("another model's count: %d", p)
	}
	if decoded != 1 {
		t.Errorf("decoded %d times", decoded)
	}
}
