package tokens

import "github.com/llmgw/llmgw/internal/llm"

// chatOf returns a request of one user message per text.
func chatOf(texts ...string) *llm.ChatRequest {
	req := &llm.ChatRequest{}
	for _, s := range texts {
		req.Messages = append(req.Messages, llm.Message{Role: llm.RoleUser, Content: []llm.Part{llm.TextPart(s)}})
	}
	return req
}
