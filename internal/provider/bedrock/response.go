package bedrock

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/document"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"

	"github.com/llmgw/llmgw/internal/llm"
)

// Public messages of malformed answers.
const (
	malformedChat   = "the upstream sent a malformed response"
	malformedStream = "the upstream sent a malformed stream event"
)

// converseChunk translates a Converse answer into the one chunk of a
// non-streamed response. Its text is redacted of the provider's secrets
// (the JSON body was, before the SDK decoded it).
func (p *Provider) converseChunk(out *bedrockruntime.ConverseOutput, model string) (*llm.Chunk, error) {
	msg, ok := out.Output.(*types.ConverseOutputMemberMessage)
	if !ok {
		return nil, p.up.Malformed(errors.New("bedrock: converse output holds no message"), malformedChat)
	}
	m := llm.Message{Role: llm.RoleAssistant}
	for _, b := range msg.Value.Content {
		switch b := b.(type) {
		case *types.ContentBlockMemberText:
			m.Content = append(m.Content, llm.TextPart(b.Value))
		case *types.ContentBlockMemberReasoningContent:
			switch r := b.Value.(type) {
			case *types.ReasoningContentBlockMemberReasoningText:
				m.Content = append(m.Content, llm.Part{Type: llm.PartThinking,
					Text: aws.ToString(r.Value.Text), Signature: aws.ToString(r.Value.Signature)})
			case *types.ReasoningContentBlockMemberRedactedContent:
				m.Content = append(m.Content, llm.Part{Type: llm.PartRedactedThinking, Data: base64.StdEncoding.EncodeToString(r.Value)})
			}
		case *types.ContentBlockMemberToolUse:
			args, err := documentJSON(b.Value.Input)
			if err != nil {
				return nil, p.up.Malformed(err, malformedChat)
			}
			m.ToolCalls = append(m.ToolCalls, llm.ToolCall{Index: len(m.ToolCalls), ID: aws.ToString(b.Value.ToolUseId),
				Type: "function", Name: aws.ToString(b.Value.Name), Arguments: args})
		}
	}
	fr, err := p.finish(out.StopReason)
	if err != nil {
		return nil, err
	}
	c := &llm.Chunk{ID: newID(), Model: model, Created: time.Now().Unix(),
		Choices: []llm.Choice{{Message: m, FinishReason: fr}}}
	if out.Usage != nil {
		u := usage(out.Usage)
		c.Usage = &u
	}
	return c, nil
}

// documentJSON returns a tool call's input as JSON text, "{}" when absent.
func documentJSON(d document.Interface) (string, error) {
	if d == nil {
		return "{}", nil
	}
	b, err := d.MarshalSmithyDocument()
	if err != nil {
		return "", fmt.Errorf("bedrock: tool input: %w", err)
	}
	return string(b), nil
}

// finish maps a stop reason. end_turn and stop_sequence are stop,
// tool_use tool_calls, max_tokens and model_context_window_exceeded
// length, guardrail_intervened and content_filtered content_filter.
// malformed_model_output, malformed_tool_use and any reason added later
// mean the generation failed: an upstream error, never a short answer
// passed off as complete.
func (p *Provider) finish(r types.StopReason) (llm.FinishReason, error) {
	switch r {
	case types.StopReasonEndTurn, types.StopReasonStopSequence:
		return llm.FinishStop, nil
	case types.StopReasonToolUse:
		return llm.FinishToolCalls, nil
	case types.StopReasonMaxTokens, types.StopReasonModelContextWindowExceeded:
		return llm.FinishLength, nil
	case types.StopReasonGuardrailIntervened, types.StopReasonContentFiltered:
		return llm.FinishContentFilter, nil
	}
	return "", &llm.Error{Kind: llm.KindUpstream, Provider: p.name, UpstreamStatus: http.StatusOK,
		Message: "the upstream model failed to generate a response",
		Err:     fmt.Errorf("bedrock: stop reason %q", llm.Clip(string(r)))}
}

// usage converts Converse's token counts. inputTokens leaves out the
// tokens read from and written to the prompt cache, which the canonical
// prompt count includes.
func usage(u *types.TokenUsage) llm.Usage {
	in := int(aws.ToInt32(u.InputTokens))
	read := int(aws.ToInt32(u.CacheReadInputTokens))
	write := int(aws.ToInt32(u.CacheWriteInputTokens))
	out := int(aws.ToInt32(u.OutputTokens))
	return llm.Usage{PromptTokens: in + read + write, CompletionTokens: out, TotalTokens: in + read + write + out,
		CachedTokens: read, CacheCreationTokens: write}
}

// newID returns a chat completion id: Bedrock gives none.
func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "chatcmpl-" + hex.EncodeToString(b[:])
}
