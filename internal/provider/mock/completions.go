package mock

import (
	"context"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
	"github.com/llmgw/llmgw/internal/protocol/openai"
	"github.com/llmgw/llmgw/internal/provider"
)

// Protocol implements provider.Forwarder. The mock speaks no wire protocol
// of its own: no client body is forwarded to it as it is, except those of
// the endpoints ForwardsProtocol names.
const Protocol = "mock"

var _ provider.EndpointForwarder = (*Provider)(nil)

// Protocol implements provider.Forwarder.
func (p *Provider) Protocol() string { return Protocol }

// ForwardsProtocol implements provider.EndpointForwarder: the mock answers
// OpenAI's legacy completions, so that the zero-config gateway serves
// /v1/completions too.
func (p *Provider) ForwardsProtocol(pr string) bool { return pr == openai.CompletionsProtocol }

// Forward implements provider.Forwarder for legacy completion bodies: the
// answer is the chat answer to the prompt as the user message (the first
// prompt of an array; the fallback sentence for token ids), with the
// same timing, failures, max_tokens (16 when absent), stop and n, written
// as text_completion objects. Its usage counts the prompt as one user
// message.
func (p *Provider) Forward(ctx context.Context, f *provider.Forward) (llm.Stream, error) {
	if f.Protocol != openai.CompletionsProtocol {
		return nil, llm.NewError(llm.KindInternal, "the mock provider forwards no %q bodies", llm.Clip(f.Protocol))
	}
	req := completionAsChat(f)
	s, err := p.Chat(ctx, req)
	if err != nil {
		return nil, err
	}
	return &completionStream{Stream: s}, nil
}

// completionAsChat is the chat request a legacy completion body stands for.
func completionAsChat(f *provider.Forward) *llm.ChatRequest {
	root := gjson.ParseBytes(f.Body)
	prompt := root.Get("prompt")
	if prompt.IsArray() {
		prompt = prompt.Get("0")
	}
	req := &llm.ChatRequest{Model: f.Model, Stream: f.Stream}
	if prompt.Type == gjson.String {
		req.Messages = []llm.Message{{Role: llm.RoleUser, Content: []llm.Part{llm.TextPart(prompt.Str)}}}
	}
	maxTokens := openai.DefaultCompletionMaxTokens
	if m := root.Get("max_tokens"); m.Type == gjson.Number {
		maxTokens = int(m.Int())
	}
	req.MaxTokens = &maxTokens
	if n := root.Get("n"); n.Type == gjson.Number {
		v := int(n.Int())
		req.N = &v
	}
	switch stop := root.Get("stop"); {
	case stop.Type == gjson.String:
		req.Stop = []string{stop.Str}
	case stop.IsArray():
		stop.ForEach(func(_, v gjson.Result) bool {
			req.Stop = append(req.Stop, v.Str)
			return true
		})
	}
	return req
}

// completionStream writes the mock's chat chunks as legacy completion
// objects: one whole text_completion for a non-streamed answer; for a
// stream one event per word, one with the finish reason, and the usage
// event, the opening role-only chunk of chat left out.
type completionStream struct {
	llm.Stream
}

// Recv implements llm.Stream.
func (s *completionStream) Recv() (*llm.Chunk, error) {
	for {
		c, err := s.Stream.Recv()
		if err != nil {
			return nil, err
		}
		if c.Usage == nil && len(c.Choices) > 0 && c.Choices[0].FinishReason == "" && c.Choices[0].Message.Text() == "" {
			continue // the role-only opening chunk
		}
		return &llm.Chunk{Raw: appendCompletion(nil, c), RawProtocol: openai.CompletionsProtocol, Usage: c.Usage}, nil
	}
}

// appendCompletion appends c as a text_completion object.
func appendCompletion(b []byte, c *llm.Chunk) []byte {
	b = append(b, '{')
	b = jsonwire.AppendStringField(b, "id", "cmpl-"+strings.TrimPrefix(c.ID, "chatcmpl-"))
	b = jsonwire.AppendStringField(b, "object", openai.CompletionObject)
	b = jsonwire.AppendIntField(b, "created", c.Created)
	b = jsonwire.AppendStringField(b, "model", c.Model)
	b = append(b, `,"choices":[`...)
	for i := range c.Choices {
		ch := &c.Choices[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		b = jsonwire.AppendStringField(b, "text", ch.Message.Text())
		b = jsonwire.AppendIntField(b, "index", int64(ch.Index))
		b = append(b, `,"logprobs":null,"finish_reason":`...)
		if ch.FinishReason == "" {
			b = append(b, "null"...)
		} else {
			b = jsonwire.AppendString(b, string(ch.FinishReason))
		}
		b = append(b, '}')
	}
	b = append(b, ']')
	if u := c.Usage; u != nil {
		b = append(b, `,"usage":{`...)
		b = jsonwire.AppendIntField(b, "prompt_tokens", int64(u.PromptTokens))
		b = jsonwire.AppendIntField(b, "completion_tokens", int64(u.CompletionTokens))
		b = jsonwire.AppendIntField(b, "total_tokens", int64(u.Total()))
		b = append(b, '}')
	}
	return append(b, '}')
}

// Buffered implements llm.Buffered, passing on the chat stream's answer.
func (s *completionStream) Buffered() bool { return llm.NextBuffered(s.Stream) }
