package openai

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
)

// wireResponse is a chat.completion or chat.completion.chunk object. Choices
// are kept raw: messages and deltas are decoded by their own functions.
type wireResponse struct {
	ID                string          `json:"id"`
	Object            string          `json:"object"`
	Created           int64           `json:"created"`
	Model             string          `json:"model"`
	SystemFingerprint string          `json:"system_fingerprint"`
	ServiceTier       string          `json:"service_tier"`
	Usage             *wireUsage      `json:"usage"`
	Error             json.RawMessage `json:"error"`
}

type wireChoice struct {
	Index        int             `json:"index"`
	Message      json.RawMessage `json:"message"`
	FinishReason string          `json:"finish_reason"`
	Logprobs     json.RawMessage `json:"logprobs"`
}

// DecodeChatResponse decodes a non-streamed chat.completion body into one
// Chunk whose choices hold whole messages. Message fields the canonical model
// does not know (annotations, audio, ...) are kept in Message.Extra.
func DecodeChatResponse(body []byte) (*llm.Chunk, error) {
	var w struct {
		wireResponse
		Choices []wireChoice `json:"choices"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("openai: decode response: %w", err)
	}
	if !jsonwire.IsNull(w.Error) {
		return nil, streamError(w.Error)
	}
	c := w.chunk()
	c.Choices = make([]llm.Choice, len(w.Choices))
	for i := range w.Choices {
		wc := &w.Choices[i]
		ch := &c.Choices[i]
		ch.Index = wc.Index
		ch.FinishReason = llm.FinishReason(wc.FinishReason)
		if !jsonwire.IsNull(wc.Logprobs) {
			ch.Logprobs = wc.Logprobs
		}
		if jsonwire.IsNull(wc.Message) {
			continue
		}
		if err := decodeMessage(&ch.Message, wc.Message, "choices["+strconv.Itoa(i)+"].message", true); err != nil {
			// Not %w: a malformed upstream answer is no invalid request
			// of the client's.
			return nil, fmt.Errorf("openai: decode response: %s", err.Error())
		}
	}
	return c, nil
}

func (w *wireResponse) chunk() *llm.Chunk {
	return &llm.Chunk{
		ID:                w.ID,
		Model:             w.Model,
		Created:           w.Created,
		SystemFingerprint: w.SystemFingerprint,
		ServiceTier:       w.ServiceTier,
		Usage:             w.Usage.canonical(),
	}
}

// EncodeChatResponse encodes c, a whole response, as a chat.completion body.
// A chunk that carries the upstream's own OpenAI body in Raw is returned as
// it is. A missing finish reason is written as "stop", since the body is only
// written once the response is complete.
func EncodeChatResponse(c *llm.Chunk) ([]byte, error) {
	if len(c.Raw) > 0 && c.RawProtocol == Protocol {
		return c.Raw, nil
	}
	b := make([]byte, 0, 256)
	b = appendHeader(b, c, "chat.completion")
	b = append(b, `,"choices":[`...)
	var err error
	for i := range c.Choices {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = appendChoice(b, &c.Choices[i]); err != nil {
			return nil, fmt.Errorf("openai: encode response: %w", err)
		}
	}
	b = append(b, ']')
	if c.Usage != nil {
		b = jsonwire.AppendKey(b, "usage")
		b = appendUsage(b, c.Usage)
	}
	if c.SystemFingerprint != "" {
		b = jsonwire.AppendStringField(b, "system_fingerprint", c.SystemFingerprint)
	}
	if c.ServiceTier != "" {
		b = jsonwire.AppendStringField(b, "service_tier", c.ServiceTier)
	}
	return append(b, '}'), nil
}

// appendHeader opens a response object and writes its id, object, created
// and model.
func appendHeader(b []byte, c *llm.Chunk, object string) []byte {
	b = append(b, `{"id":`...)
	b = jsonwire.AppendString(b, c.ID)
	b = append(b, `,"object":"`...)
	b = append(b, object...)
	b = append(b, `","created":`...)
	b = strconv.AppendInt(b, c.Created, 10)
	b = append(b, `,"model":`...)
	return jsonwire.AppendString(b, c.Model)
}

func appendChoice(b []byte, ch *llm.Choice) ([]byte, error) {
	b = append(b, `{"index":`...)
	b = strconv.AppendInt(b, int64(ch.Index), 10)
	b = append(b, `,"message":{"role":"assistant","content":`...)
	m := &ch.Message
	text, hasText, reasoning := splitText(m)
	if !hasText && (len(m.ToolCalls) > 0 || m.Refusal != "") {
		b = append(b, "null"...)
	} else {
		b = jsonwire.AppendString(b, text)
	}
	b = append(b, `,"refusal":`...)
	if m.Refusal != "" {
		b = jsonwire.AppendString(b, m.Refusal)
	} else {
		b = append(b, "null"...)
	}
	if reasoning != "" {
		b = jsonwire.AppendStringField(b, reasoningKey, reasoning)
	}
	if len(m.ToolCalls) > 0 {
		b = append(b, `,"tool_calls":[`...)
		for i := range m.ToolCalls {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendToolCall(b, &m.ToolCalls[i])
		}
		b = append(b, ']')
	}
	var err error
	if m.ExtraProtocol == Protocol {
		if b, err = jsonwire.AppendExtra(b, m.Extra, isResponseMessageKey); err != nil {
			return b, err
		}
	}
	b = append(b, `},"logprobs":`...)
	if b, err = jsonwire.AppendRaw(b, ch.Logprobs); err != nil {
		return b, err
	}
	finish := ch.FinishReason
	if finish == "" {
		finish = llm.FinishStop
	}
	b = jsonwire.AppendStringField(b, "finish_reason", string(finish))
	return append(b, '}'), nil
}

func isResponseMessageKey(k string) bool {
	switch k {
	case "role", "content", "refusal", "tool_calls", reasoningKey:
		return true
	}
	return false
}

// splitText returns the text of m's text parts, whether it has any, and the
// text of its thinking parts. A single text part, the common case, is
// returned without copying.
func splitText(m *llm.Message) (text string, hasText bool, reasoning string) {
	if len(m.Content) == 1 && m.Content[0].Type == llm.PartText {
		return m.Content[0].Text, true, ""
	}
	for i := range m.Content {
		switch p := &m.Content[i]; p.Type {
		case llm.PartText:
			text += p.Text
			hasText = true
		case llm.PartThinking:
			reasoning += p.Text
		}
	}
	return text, hasText, reasoning
}
