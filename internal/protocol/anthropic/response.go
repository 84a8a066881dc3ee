package anthropic

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
)

// wireUsage is Usage (and MessageDeltaUsage) as it arrives. Pointers tell a
// field that is absent from a zero.
type wireUsage struct {
	InputTokens              *int `json:"input_tokens"`
	OutputTokens             *int `json:"output_tokens"`
	CacheCreationInputTokens *int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     *int `json:"cache_read_input_tokens"`
	OutputTokensDetails      *struct {
		ThinkingTokens int `json:"thinking_tokens"`
	} `json:"output_tokens_details"`
}

// usageCounts are Anthropic's own counts: input excludes cached tokens.
type usageCounts struct {
	input, output, cacheCreation, cacheRead, thinking int
}

// merge takes the fields w carries; message_delta's counts are cumulative.
func (u *usageCounts) merge(w *wireUsage) {
	if w == nil {
		return
	}
	set := func(dst *int, v *int) {
		if v != nil {
			*dst = *v
		}
	}
	set(&u.input, w.InputTokens)
	set(&u.output, w.OutputTokens)
	set(&u.cacheCreation, w.CacheCreationInputTokens)
	set(&u.cacheRead, w.CacheReadInputTokens)
	if w.OutputTokensDetails != nil {
		u.thinking = w.OutputTokensDetails.ThinkingTokens
	}
}

// canonical returns the counts in the canonical model, where prompt tokens
// include the cached and cache-creation ones.
func (u *usageCounts) canonical() llm.Usage {
	prompt := u.input + u.cacheCreation + u.cacheRead
	return llm.Usage{
		PromptTokens:        prompt,
		CompletionTokens:    u.output,
		TotalTokens:         prompt + u.output,
		CachedTokens:        u.cacheRead,
		CacheCreationTokens: u.cacheCreation,
		ReasoningTokens:     u.thinking,
	}
}

// wireBlock is a response content block.
type wireBlock struct {
	Type      string          `json:"type"`
	Text      string          `json:"text"`
	Thinking  string          `json:"thinking"`
	Signature string          `json:"signature"`
	Data      string          `json:"data"`
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
}

type wireMessage struct {
	ID           string            `json:"id"`
	Type         string            `json:"type"`
	Role         string            `json:"role"`
	Model        string            `json:"model"`
	Content      []json.RawMessage `json:"content"`
	StopReason   string            `json:"stop_reason"`
	StopSequence string            `json:"stop_sequence"`
	Usage        *wireUsage        `json:"usage"`
	Error        *wireError        `json:"error"`
}

type wireError struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// DecodeMessagesResponse decodes a non-streamed Message body from an
// upstream into one Chunk whose single choice holds the whole message:
// text, thinking and redacted thinking parts in order, tool_use blocks as
// tool calls (Index their position among the calls), and any other block
// (server tool use and results) as a PartOther kept for Anthropic clients. A
// body of type "error" returns the matching *llm.Error.
func DecodeMessagesResponse(body []byte) (*llm.Chunk, error) {
	var w wireMessage
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("anthropic: decode response: %w", err)
	}
	if w.Type == "error" && w.Error != nil {
		return nil, streamError(w.Error.Type, w.Error.Message)
	}
	m := llm.Message{Role: llm.RoleAssistant}
	for i, raw := range w.Content {
		var b wireBlock
		if err := json.Unmarshal(raw, &b); err != nil {
			return nil, fmt.Errorf("anthropic: decode response content[%d]: %w", i, err)
		}
		if err := addBlock(&m, &b, raw); err != nil {
			return nil, fmt.Errorf("anthropic: decode response content[%d]: %w", i, err)
		}
	}
	var u usageCounts
	u.merge(w.Usage)
	usage := u.canonical()
	return &llm.Chunk{
		ID:    w.ID,
		Model: w.Model,
		Choices: []llm.Choice{{
			Message:      m,
			FinishReason: FinishReason(w.StopReason),
			StopSequence: w.StopSequence,
		}},
		Usage: &usage,
	}, nil
}

// addBlock adds a whole response block to m.
func addBlock(m *llm.Message, b *wireBlock, raw json.RawMessage) error {
	switch b.Type {
	case "text":
		m.Content = append(m.Content, llm.TextPart(b.Text))
	case "thinking":
		m.Content = append(m.Content, llm.Part{Type: llm.PartThinking, Text: b.Thinking, Signature: b.Signature})
	case "redacted_thinking":
		m.Content = append(m.Content, llm.Part{Type: llm.PartRedactedThinking, Data: b.Data})
	case "tool_use":
		args := "{}"
		if !jsonwire.IsNull(b.Input) {
			c, err := jsonwire.AppendRaw(nil, b.Input)
			if err != nil {
				return err
			}
			args = string(c)
		}
		m.ToolCalls = append(m.ToolCalls, llm.ToolCall{Index: len(m.ToolCalls), ID: b.ID, Type: "function", Name: b.Name, Arguments: args})
	default:
		m.Content = append(m.Content, llm.Part{Type: llm.PartOther, Raw: raw})
		m.ExtraProtocol = Protocol
	}
	return nil
}

// FinishReason maps an Anthropic stop_reason to the canonical finish
// reason: end_turn, stop_sequence and pause_turn are stop (a paused turn is
// complete as far as a client of another protocol can tell), max_tokens and
// model_context_window_exceeded are length, tool_use is tool_calls and
// refusal is content_filter. An unknown reason is stop; none is "".
func FinishReason(stopReason string) llm.FinishReason {
	switch stopReason {
	case "":
		return ""
	case "max_tokens", "model_context_window_exceeded":
		return llm.FinishLength
	case "tool_use":
		return llm.FinishToolCalls
	case "refusal":
		return llm.FinishContentFilter
	}
	return llm.FinishStop
}

// StopReason maps a canonical finish reason back to an Anthropic
// stop_reason: stop is end_turn, or stop_sequence when the choice carries
// the matched sequence; a response with tool calls is tool_use whatever
// the upstream said, since Anthropic clients run tools on that reason.
func StopReason(ch *llm.Choice, hasToolCalls bool) string {
	switch ch.FinishReason {
	case llm.FinishLength:
		return "max_tokens"
	case llm.FinishContentFilter:
		return "refusal"
	case llm.FinishToolCalls, "function_call":
		return "tool_use"
	}
	switch {
	case hasToolCalls:
		return "tool_use"
	case ch.StopSequence != "":
		return "stop_sequence"
	}
	return "end_turn"
}

// EncodeMessagesResponse encodes c, a whole response, as a Message body for
// an Anthropic client, from its first choice. A chunk carrying the
// upstream's own Anthropic body in Raw is returned as it is. The id is
// c.ID when it is a msg_ id, else derived from it.
func EncodeMessagesResponse(c *llm.Chunk) ([]byte, error) {
	if len(c.Raw) > 0 && c.RawProtocol == Protocol {
		return c.Raw, nil
	}
	var ch llm.Choice
	if len(c.Choices) > 0 {
		ch = c.Choices[0]
	}
	m := &ch.Message
	b := make([]byte, 0, 512)
	b = jsonwire.AppendStringField(append(b, '{'), "id", MessageID(c.ID))
	b = append(b, `,"type":"message","role":"assistant","model":`...)
	b = jsonwire.AppendString(b, c.Model)
	b = append(b, `,"content":[`...)
	var err error
	if b, err = appendContentBlocks(b, m); err != nil {
		return nil, fmt.Errorf("anthropic: encode response: %w", err)
	}
	b = append(b, ']')
	b = jsonwire.AppendStringField(b, "stop_reason", StopReason(&ch, len(m.ToolCalls) > 0))
	b = append(b, `,"stop_sequence":`...)
	b = appendNullableString(b, ch.StopSequence)
	var u llm.Usage
	if c.Usage != nil {
		u = *c.Usage
	}
	b = append(b, `,"usage":`...)
	b = appendUsage(b, u)
	return append(b, '}'), nil
}

// appendContentBlocks writes a whole message's blocks: thinking, the other
// parts in order, a refusal as text, then the tool calls.
func appendContentBlocks(b []byte, m *llm.Message) ([]byte, error) {
	for i := range m.Content {
		p := &m.Content[i]
		switch p.Type {
		case llm.PartThinking:
			b = jsonwire.AppendStringField(append(jsonwire.AppendComma(b), `{"type":"thinking"`...), "thinking", p.Text)
			b = append(jsonwire.AppendStringField(b, "signature", p.Signature), '}')
		case llm.PartRedactedThinking:
			b = append(jsonwire.AppendStringField(append(jsonwire.AppendComma(b), `{"type":"redacted_thinking"`...), "data", p.Data), '}')
		}
	}
	for i := range m.Content {
		p := &m.Content[i]
		switch p.Type {
		case llm.PartText:
			if p.Text != "" {
				b = append(jsonwire.AppendStringField(append(jsonwire.AppendComma(b), `{"type":"text"`...), "text", p.Text), '}')
			}
		case llm.PartOther:
			if m.ExtraProtocol == Protocol && len(p.Raw) > 0 {
				var err error
				if b, err = jsonwire.AppendRaw(jsonwire.AppendComma(b), p.Raw); err != nil {
					return b, err
				}
			}
		}
	}
	if m.Refusal != "" {
		b = append(jsonwire.AppendStringField(append(jsonwire.AppendComma(b), `{"type":"text"`...), "text", m.Refusal), '}')
	}
	for i := range m.ToolCalls {
		tc := &m.ToolCalls[i]
		b = append(jsonwire.AppendComma(b), `{"type":"tool_use"`...)
		b = jsonwire.AppendStringField(b, "id", toolUseID(tc.ID, i))
		b = jsonwire.AppendStringField(b, "name", tc.Name)
		b = jsonwire.AppendKey(b, "input")
		var ok bool
		if b, ok = appendInput(b, tc.Arguments); !ok {
			// Broken arguments from a model of another provider: the
			// client gets an empty input rather than an invalid message.
			b = append(b, '{', '}')
		}
		b = append(b, '}')
	}
	return b, nil
}

// appendUsage writes Anthropic usage from canonical usage: input_tokens
// excludes the cached and cache-creation tokens the canonical prompt count
// includes.
func appendUsage(b []byte, u llm.Usage) []byte {
	input := max(u.PromptTokens-u.CachedTokens-u.CacheCreationTokens, 0)
	b = jsonwire.AppendIntField(append(b, '{'), "input_tokens", int64(input))
	b = jsonwire.AppendIntField(b, "cache_creation_input_tokens", int64(u.CacheCreationTokens))
	b = jsonwire.AppendIntField(b, "cache_read_input_tokens", int64(u.CachedTokens))
	b = jsonwire.AppendIntField(b, "output_tokens", int64(u.CompletionTokens))
	if u.ReasoningTokens > 0 {
		b = jsonwire.AppendIntField(append(b, `,"output_tokens_details":{`...), "thinking_tokens", int64(u.ReasoningTokens))
		b = append(b, '}')
	}
	return append(b, '}')
}

func appendNullableString(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return jsonwire.AppendString(b, s)
}

// MessageID returns id when it is an Anthropic message id, "msg_" followed
// by id when it is another upstream's id, and a random msg_ id when empty.
func MessageID(id string) string {
	switch {
	case strings.HasPrefix(id, "msg_"):
		return id
	case id != "":
		return "msg_" + id
	}
	return "msg_" + randomID()
}

// toolUseID returns the call's id, or one made up for an upstream that gave
// none, so that the client's tool_result can refer to it.
func toolUseID(id string, i int) string {
	if id != "" {
		return id
	}
	return "toolu_" + randomID() + strconv.Itoa(i)
}

const idAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// randomID returns 24 random base62 characters.
func randomID() string {
	var buf [24]byte
	_, _ = rand.Read(buf[:])
	for i, c := range buf {
		buf[i] = idAlphabet[int(c)%len(idAlphabet)]
	}
	return string(buf[:])
}
