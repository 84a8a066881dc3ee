package server

import (
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/pipeline"
	"github.com/llmgw/llmgw/internal/protocol/anthropic"
)

// streamInputTokens is the input token count an Anthropic stream translated
// from another upstream reports in message_start: the stream's own count
// when it knows it before the end (the mock does), else the count_tokens
// estimate of the request. The final count of the upstream, where it gives
// one, follows in message_delta.
func streamInputTokens(call *pipeline.Call, stream llm.Stream) int {
	if n := stream.Usage().PromptTokens; n > 0 {
		return n
	}
	req, err := call.Decoded()
	if err != nil {
		return 0
	}
	return anthropic.EstimateTokens(req)
}
