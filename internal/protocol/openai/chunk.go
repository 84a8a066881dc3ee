package openai

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
	"github.com/tidwall/gjson"
)

type wireChunkChoice struct {
	Index        int             `json:"index"`
	Delta        wireDelta       `json:"delta"`
	FinishReason string          `json:"finish_reason"`
	Logprobs     json.RawMessage `json:"logprobs"`
}

type wireDelta struct {
	Role             string          `json:"role"`
	Content          *string         `json:"content"`
	ReasoningContent *string         `json:"reasoning_content"`
	Reasoning        json.RawMessage `json:"reasoning"`
	Refusal          *string         `json:"refusal"`
	ToolCalls        []wireToolDelta `json:"tool_calls"`
}

type wireToolDelta struct {
	Index    int    `json:"index"`
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// DecodeChunk decodes one chat.completion.chunk SSE data payload. A payload
// holding an error object, which OpenAI sends inside a 200 stream, returns
// an *llm.Error of kind Upstream carrying the upstream's message. Raw is not
// set: data may be the reader's reused buffer.
func DecodeChunk(data []byte) (*llm.Chunk, error) {
	var w struct {
		wireResponse
		Choices []wireChunkChoice `json:"choices"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("openai: decode chunk: %w", err)
	}
	if !jsonwire.IsNull(w.Error) {
		return nil, streamError(w.Error)
	}
	c := w.chunk()
	if len(w.Choices) == 0 {
		return c, nil
	}
	c.Choices = make([]llm.Choice, len(w.Choices))
	for i := range w.Choices {
		wc := &w.Choices[i]
		ch := &c.Choices[i]
		ch.Index = wc.Index
		ch.FinishReason = llm.FinishReason(wc.FinishReason)
		if !jsonwire.IsNull(wc.Logprobs) {
			ch.Logprobs = wc.Logprobs
		}
		wc.Delta.fill(&ch.Message)
	}
	return c, nil
}

func (d *wireDelta) fill(m *llm.Message) {
	m.Role = llm.Role(d.Role)
	if d.ReasoningContent != nil && *d.ReasoningContent != "" {
		m.Content = append(m.Content, llm.Part{Type: llm.PartThinking, Text: *d.ReasoningContent})
	} else if s, ok := jsonwire.Unquote(d.Reasoning); ok && s != "" {
		m.Content = append(m.Content, llm.Part{Type: llm.PartThinking, Text: s})
	}
	if d.Content != nil {
		m.Content = append(m.Content, llm.TextPart(*d.Content))
	}
	if d.Refusal != nil {
		m.Refusal = *d.Refusal
	}
	if len(d.ToolCalls) > 0 {
		m.ToolCalls = make([]llm.ToolCall, len(d.ToolCalls))
		for i, t := range d.ToolCalls {
			m.ToolCalls[i] = llm.ToolCall{
				Index:     t.Index,
				ID:        t.ID,
				Type:      t.Type,
				Name:      t.Function.Name,
				Arguments: t.Function.Arguments,
			}
		}
	}
}

// streamError turns an upstream error object into the gateway's error.
func streamError(raw json.RawMessage) error {
	msg, code := errorFields(gjson.ParseBytes(raw))
	return &llm.Error{
		Kind:    llm.KindUpstream,
		Message: msg,
		Err:     fmt.Errorf("openai: upstream error object (code %q)", code),
	}
}

// AppendChunk appends c, one streamed piece, as a chat.completion.chunk JSON
// object (no SSE framing) to dst. A chunk that carries the upstream's own
// OpenAI payload in Raw is appended as it is. A chunk with usage and no
// choices is the usage chunk, written with "choices":[].
func AppendChunk(dst []byte, c *llm.Chunk) ([]byte, error) {
	if len(c.Raw) > 0 && c.RawProtocol == Protocol {
		return append(dst, c.Raw...), nil
	}
	b := appendHeader(dst, c, "chat.completion.chunk")
	if c.SystemFingerprint != "" {
		b = jsonwire.AppendStringField(b, "system_fingerprint", c.SystemFingerprint)
	}
	if c.ServiceTier != "" {
		b = jsonwire.AppendStringField(b, "service_tier", c.ServiceTier)
	}
	b = append(b, `,"choices":[`...)
	var err error
	for i := range c.Choices {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = appendDeltaChoice(b, &c.Choices[i]); err != nil {
			return dst, fmt.Errorf("openai: encode chunk: %w", err)
		}
	}
	b = append(b, ']')
	if c.Usage != nil {
		b = append(b, `,"usage":`...)
		b = appendUsage(b, c.Usage)
	}
	return append(b, '}'), nil
}

func appendDeltaChoice(b []byte, ch *llm.Choice) ([]byte, error) {
	b = append(b, `{"index":`...)
	b = strconv.AppendInt(b, int64(ch.Index), 10)
	b = append(b, `,"delta":{`...)
	m := &ch.Message
	if m.Role != "" {
		b = jsonwire.AppendStringField(b, "role", string(m.Role))
	}
	text, hasText, reasoning := splitText(m)
	if hasText {
		b = jsonwire.AppendStringField(b, "content", text)
	}
	if reasoning != "" {
		b = jsonwire.AppendStringField(b, reasoningKey, reasoning)
	}
	if m.Refusal != "" {
		b = jsonwire.AppendStringField(b, "refusal", m.Refusal)
	}
	if len(m.ToolCalls) > 0 {
		b = jsonwire.AppendKey(b, "tool_calls")
		b = append(b, '[')
		for i := range m.ToolCalls {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendToolDelta(b, &m.ToolCalls[i])
		}
		b = append(b, ']')
	}
	b = append(b, '}')
	if len(ch.Logprobs) > 0 {
		var err error
		if b, err = jsonwire.AppendRawField(b, "logprobs", ch.Logprobs); err != nil {
			return b, err
		}
	}
	b = append(b, `,"finish_reason":`...)
	if ch.FinishReason == "" {
		b = append(b, "null"...)
	} else {
		b = jsonwire.AppendString(b, string(ch.FinishReason))
	}
	return append(b, '}'), nil
}

// appendToolDelta writes a streamed tool call fragment: id, type and name on
// the fragment that opens the call, arguments on every one.
func appendToolDelta(b []byte, tc *llm.ToolCall) []byte {
	b = append(b, `{"index":`...)
	b = strconv.AppendInt(b, int64(tc.Index), 10)
	if tc.ID != "" {
		b = jsonwire.AppendStringField(b, "id", tc.ID)
		b = append(b, `,"type":"function"`...)
	}
	b = append(b, `,"function":{`...)
	if tc.Name != "" {
		b = jsonwire.AppendStringField(b, "name", tc.Name)
	}
	b = jsonwire.AppendStringField(b, "arguments", tc.Arguments)
	return append(b, '}', '}')
}
