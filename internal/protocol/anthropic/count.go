package anthropic

import (
	"strconv"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
)

// DecodeCountTokensRequest decodes a /v1/messages/count_tokens body: the
// Messages request without max_tokens, and with the same errors as
// DecodeMessagesRequest.
func DecodeCountTokensRequest(body []byte) (*llm.ChatRequest, error) {
	if err := jsonwire.CheckBody(body); err != nil {
		return nil, err
	}
	return decodeRequest(body, true)
}

// EncodeCountTokensResponse returns the count_tokens answer,
// {"input_tokens":n}.
func EncodeCountTokensResponse(inputTokens int) []byte {
	b := append(make([]byte, 0, 32), `{"input_tokens":`...)
	b = strconv.AppendInt(b, int64(inputTokens), 10)
	return append(b, '}')
}

// Token estimate weights: see EstimateTokens.
const (
	charsPerToken   = 4
	messageOverhead = 4
	toolOverhead    = 8
	imageTokens     = 1600
	requestOverhead = 3
)

// EstimateTokens is the offline estimate of a request's input tokens, used
// when the upstream cannot count them: one token per 4 bytes of text
// (message text, thinking, tool call names and arguments, tool names,
// descriptions and schemas, blocks kept raw; not redacted thinking), rounded up, plus 4 tokens per
// message, 8 per tool, 1600 per image (Anthropic's cost of an image at its
// largest size) and 3 for the request. It tends to overestimate English
// prose slightly, which is the safe side for limits and budgets.
func EstimateTokens(req *llm.ChatRequest) int {
	chars, n := 0, requestOverhead
	for i := range req.Messages {
		m := &req.Messages[i]
		n += messageOverhead
		for j := range m.Content {
			p := &m.Content[j]
			switch p.Type {
			case llm.PartImage:
				n += imageTokens
			case llm.PartOther:
				chars += len(p.Raw)
			default:
				chars += len(p.Text)
			}
		}
		chars += len(m.Refusal)
		for _, tc := range m.ToolCalls {
			chars += len(tc.Name) + len(tc.Arguments)
		}
	}
	for i := range req.Tools {
		t := &req.Tools[i]
		n += toolOverhead
		chars += len(t.Name) + len(t.Description) + len(t.Parameters) + len(t.Raw)
	}
	return n + (chars+charsPerToken-1)/charsPerToken
}
