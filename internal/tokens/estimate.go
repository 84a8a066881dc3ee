package tokens

import (
	"math"

	"github.com/llmgw/llmgw/internal/llm"
)

// Overheads of the estimate: a message's framing and role, a tool's
// framing, and the request's. They are above OpenAI's (3 per message, 3 for
// the reply) so that other chat templates fit under them.
const (
	estimatePerMessage  = 5
	estimatePerToolCall = 5
	estimatePerTool     = 10
	estimatePerRequest  = 3
	// estimateImageUnknown is counted for an image of unknown size: the
	// most Anthropic counts for one (about 1.15 megapixels).
	estimateImageUnknown = 1600
	// estimateGeminiTilesMax bounds the tiles counted for one image, so
	// that a header claiming a huge size cannot make a request look
	// unaffordable; Gemini does not document its own bound.
	estimateGeminiTilesMax = 16
)

// estimateChat is Count for a model without an OpenAI tokenizer: the
// EstimateText of every text plus fixed overheads.
func estimateChat(req *llm.ChatRequest) int {
	n := estimatePerRequest
	for i := range req.Messages {
		msg := &req.Messages[i]
		n += estimatePerMessage + EstimateText(msg.Name) + EstimateText(msg.Refusal) + EstimateText(msg.ToolCallID)
		for j := range msg.Content {
			p := &msg.Content[j]
			switch p.Type {
			case llm.PartImage:
				n += estimateImage(p.Image)
			default:
				n += EstimateText(p.Text) + EstimateText(p.Data) + EstimateText(string(p.Raw))
			}
		}
		for j := range msg.ToolCalls {
			tc := &msg.ToolCalls[j]
			n += estimatePerToolCall + EstimateText(tc.Name) + EstimateText(tc.Arguments)
		}
	}
	for i := range req.Tools {
		t := &req.Tools[i]
		n += estimatePerTool + EstimateText(t.Name) + EstimateText(t.Description) +
			EstimateText(string(t.Parameters)) + EstimateText(string(t.Raw))
	}
	if rf := req.ResponseFormat; rf != nil && rf.JSONSchema != nil {
		n += EstimateText(rf.JSONSchema.Name) + EstimateText(rf.JSONSchema.Description) +
			EstimateText(string(rf.JSONSchema.Schema))
	}
	return n
}

// estimateImage returns the largest of the documented image costs of
// Anthropic (width x height / 750, at most 1600), Gemini (258 per 768-pixel
// tile, at most estimateGeminiTilesMax) and OpenAI's high detail, or estimateImageUnknown.
func estimateImage(img *llm.Image) int {
	if img == nil {
		return 0
	}
	w, h, ok := imageSize(img)
	if !ok {
		return estimateImageUnknown
	}
	anthropic := min(int(math.Ceil(float64(w)*float64(h)/750)), 1600)
	gemini := 258
	if w > 384 || h > 384 {
		tiles := math.Ceil(float64(w)/768) * math.Ceil(float64(h)/768)
		gemini = 258 * int(math.Min(tiles, estimateGeminiTilesMax))
	}
	openai := 85 + 170*highTiles(w, h)
	return max(anthropic, gemini, openai)
}
