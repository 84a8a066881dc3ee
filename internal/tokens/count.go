package tokens

import (
	"github.com/llmgw/llmgw/internal/llm"
)

// Framing of the chat format, from OpenAI's cookbook ("How to count tokens
// with tiktoken"): each message costs tokensPerMessage beyond its role and
// content, a name one more, and the reply is primed with replyPriming.
const (
	tokensPerMessage = 3
	tokensPerName    = 1
	replyPriming     = 3
)

// Count returns the prompt tokens of req as the upstream will count them,
// for the upstream's provider type (config.Provider.Type: openai,
// azure_openai, anthropic, ...) and its own model id. exact reports that
// every part of the request was counted with the model's own tokenizer by
// a rule OpenAI documents; it is false for the estimate used for every
// other model, and for an OpenAI request with a part counted by estimate
// (see doc.go). Count never fails: a request it cannot count exactly gets
// the estimate, which errs high.
func Count(req *llm.ChatRequest, providerType, upstreamModel string) (tokens int, exact bool) {
	if req == nil {
		return 0, false
	}
	m, ok := lookup(providerType, upstreamModel)
	if !ok || requestTextBytes(req) > MaxExactBytes {
		return estimateChat(req), false
	}
	c := &counter{enc: m.enc, exact: !m.harmony}
	for i := range req.Messages {
		c.message(&req.Messages[i], m)
	}
	c.n += replyPriming
	c.tools(req.Tools)
	if tc := req.ToolChoice; tc != nil && tc.Mode == llm.ToolChoiceFunction {
		// A forced function costs a few tokens the cookbook does not
		// describe: its name is counted.
		c.exact = false
		c.text(tc.Name)
	}
	c.responseFormat(req.ResponseFormat)
	return c.n, c.exact
}

// CountText returns the tokens of an embeddings or legacy completions
// input: with the model's tokenizer when it has an OpenAI one (exact), else
// EstimateText.
func CountText(s, providerType, upstreamModel string) (tokens int, exact bool) {
	m, ok := lookup(providerType, upstreamModel)
	if !ok || len(s) > MaxExactBytes {
		return EstimateText(s), false
	}
	c := &counter{enc: m.enc, exact: true}
	c.text(s)
	return c.n, c.exact
}

// message adds one message by the cookbook's rule: the framing, the role,
// the content and the name, each as its own text.
func (c *counter) message(msg *llm.Message, m model) {
	c.n += tokensPerMessage
	c.text(string(msg.Role))
	for i := range msg.Content {
		c.part(&msg.Content[i], m)
	}
	if msg.Name != "" {
		c.text(msg.Name)
		c.n += tokensPerName
	}
	c.text(msg.Refusal)
	c.text(msg.ToolCallID)
	for i := range msg.ToolCalls {
		// The rendering of a call is not documented: its name and
		// arguments, and a few tokens around them.
		c.exact = false
		c.text(msg.ToolCalls[i].Name)
		c.text(msg.ToolCalls[i].Arguments)
		c.n += tokensPerMessage
	}
}

func (c *counter) part(p *llm.Part, m model) {
	switch p.Type {
	case llm.PartText:
		c.text(p.Text)
	case llm.PartThinking:
		// Whether an upstream is sent a thinking block, and how, depends
		// on the adapter: counted as text, which errs high.
		c.exact = false
		c.text(p.Text)
	case llm.PartImage:
		n, exact := imageTokens(p.Image, m.imageBase, m.imageTile)
		c.n += n
		if !exact {
			c.exact = false
		}
	default:
		// A redacted thinking block or a part the canonical model does not
		// know: its bytes, estimated.
		c.exact = false
		c.n += EstimateText(p.Data) + EstimateText(string(p.Raw))
	}
}

func (c *counter) responseFormat(rf *llm.ResponseFormat) {
	if rf == nil || rf.JSONSchema == nil {
		return
	}
	// A structured-output schema reaches the model in an undocumented
	// rendering: counted as its JSON text.
	c.exact = false
	c.text(rf.JSONSchema.Name)
	c.text(rf.JSONSchema.Description)
	c.text(string(rf.JSONSchema.Schema))
}

// requestTextBytes returns the size of the text Count would tokenize.
func requestTextBytes(req *llm.ChatRequest) int {
	n := 0
	for i := range req.Messages {
		msg := &req.Messages[i]
		n += len(msg.Name) + len(msg.Refusal) + len(msg.ToolCallID)
		for j := range msg.Content {
			n += len(msg.Content[j].Text)
		}
		for j := range msg.ToolCalls {
			n += len(msg.ToolCalls[j].Name) + len(msg.ToolCalls[j].Arguments)
		}
	}
	for i := range req.Tools {
		t := &req.Tools[i]
		n += len(t.Name) + len(t.Description) + len(t.Parameters) + len(t.Raw)
	}
	if tc := req.ToolChoice; tc != nil {
		n += len(tc.Name)
	}
	if rf := req.ResponseFormat; rf != nil && rf.JSONSchema != nil {
		n += len(rf.JSONSchema.Name) + len(rf.JSONSchema.Description) + len(rf.JSONSchema.Schema)
	}
	return n
}
