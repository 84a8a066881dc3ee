package openai

import (
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
)

// errBadFloat reports a NaN or infinite number, which JSON cannot carry.
var errBadFloat = errors.New("openai: NaN or infinite number")

// EncodeChatRequest encodes req as the body of an upstream Chat Completions
// call. Only the fields that are set are written; Extra fields follow and
// never override a known one. A streaming request always asks for the usage
// chunk, since the gateway meters every stream.
func EncodeChatRequest(req *llm.ChatRequest) ([]byte, error) {
	e := requestEncoder{b: make([]byte, 0, 512)}
	e.b = append(e.b, '{')
	e.str("model", req.Model)
	e.key("messages")
	e.b = append(e.b, '[')
	for i := range req.Messages {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		if err := e.message(&req.Messages[i]); err != nil {
			return nil, fmt.Errorf("openai: encode messages[%d]: %w", i, err)
		}
	}
	e.b = append(e.b, ']')
	if err := e.toolsAndFormat(req); err != nil {
		return nil, err
	}
	if err := e.sampling(req); err != nil {
		return nil, err
	}
	e.options(req)
	if req.ExtraProtocol != Protocol {
		// Another protocol's unknown fields mean nothing to OpenAI.
		return append(e.b, '}'), nil
	}
	b, err := jsonwire.AppendExtra(e.b, req.Extra, e.written)
	if err != nil {
		return nil, fmt.Errorf("openai: encode extra fields: %w", err)
	}
	return append(b, '}'), nil
}

// requestEncoder writes a request object and remembers its top-level keys.
type requestEncoder struct {
	b    []byte
	keys []string
}

func (e *requestEncoder) key(k string) {
	e.keys = append(e.keys, k)
	e.b = jsonwire.AppendKey(e.b, k)
}

func (e *requestEncoder) written(k string) bool { return slices.Contains(e.keys, k) }

func (e *requestEncoder) str(k, v string) {
	e.key(k)
	e.b = jsonwire.AppendString(e.b, v)
}

func (e *requestEncoder) float(k string, v *float64) error {
	if v == nil {
		return nil
	}
	e.key(k)
	var ok bool
	if e.b, ok = jsonwire.AppendFloat(e.b, *v); !ok {
		return fmt.Errorf("openai: encode %s: %w", k, errBadFloat)
	}
	return nil
}

func (e *requestEncoder) int(k string, v *int) {
	if v != nil {
		e.key(k)
		e.b = strconv.AppendInt(e.b, int64(*v), 10)
	}
}

func (e *requestEncoder) bool(k string, v *bool) {
	if v != nil {
		e.key(k)
		e.b = strconv.AppendBool(e.b, *v)
	}
}

func (e *requestEncoder) toolsAndFormat(req *llm.ChatRequest) error {
	if hasTools(req) {
		e.key("tools")
		e.b = append(e.b, '[')
		for i := range req.Tools {
			if t := &req.Tools[i]; t.Type != "" && t.Type != "function" && req.ExtraProtocol != Protocol {
				continue // another protocol's server tool
			}
			if err := e.tool(&req.Tools[i], req.ExtraProtocol == Protocol); err != nil {
				return fmt.Errorf("openai: encode tools[%d]: %w", i, err)
			}
		}
		e.b = append(e.b, ']')
	}
	if tc := req.ToolChoice; tc != nil {
		e.key("tool_choice")
		if tc.Mode == llm.ToolChoiceFunction {
			e.b = append(e.b, `{"type":"function","function":{"name":`...)
			e.b = jsonwire.AppendString(e.b, tc.Name)
			e.b = append(e.b, "}}"...)
		} else {
			e.b = jsonwire.AppendString(e.b, string(tc.Mode))
		}
	}
	switch {
	case req.ParallelToolCalls != nil:
		e.bool("parallel_tool_calls", req.ParallelToolCalls)
	case req.ToolChoice != nil && req.ToolChoice.DisableParallel:
		no := false
		e.bool("parallel_tool_calls", &no)
	}
	if rf := req.ResponseFormat; rf != nil {
		e.key("response_format")
		e.b = append(e.b, '{')
		e.b = jsonwire.AppendStringField(e.b, "type", rf.Type)
		if s := rf.JSONSchema; s != nil && rf.Type == "json_schema" {
			e.b = jsonwire.AppendKey(e.b, "json_schema")
			e.b = append(e.b, '{')
			name := s.Name
			if name == "" {
				name = DefaultSchemaName
			}
			e.b = jsonwire.AppendStringField(e.b, "name", name)
			if s.Description != "" {
				e.b = jsonwire.AppendStringField(e.b, "description", s.Description)
			}
			if len(s.Schema) > 0 {
				var err error
				if e.b, err = jsonwire.AppendRawField(e.b, "schema", s.Schema); err != nil {
					return fmt.Errorf("openai: encode response_format schema: %w", err)
				}
			}
			if s.Strict != nil {
				// Another protocol's strict schema may lie outside
				// OpenAI's strict subset, which OpenAI would refuse.
				strict := *s.Strict && (req.ExtraProtocol == Protocol || StrictSchema(s.Schema))
				e.b = jsonwire.AppendBoolField(e.b, "strict", strict)
			}
			e.b = append(e.b, '}')
		}
		e.b = append(e.b, '}')
	}
	return nil
}

// hasTools reports whether req has a tool to write: a function tool, or a
// tool of another type that came in this protocol.
func hasTools(req *llm.ChatRequest) bool {
	for i := range req.Tools {
		if t := &req.Tools[i]; t.Type == "" || t.Type == "function" || (req.ExtraProtocol == Protocol && len(t.Raw) > 0) {
			return true
		}
	}
	return false
}

func (e *requestEncoder) tool(t *llm.Tool, keepCache bool) error {
	if t.Type != "" && t.Type != "function" {
		if len(t.Raw) == 0 {
			return nil // a tool of another protocol OpenAI has no equivalent for
		}
		e.b = jsonwire.AppendComma(e.b)
		var err error
		e.b, err = jsonwire.AppendRaw(e.b, t.Raw)
		return err
	}
	e.b = jsonwire.AppendComma(e.b)
	e.b = append(e.b, `{"type":"function","function":{`...)
	e.b = jsonwire.AppendStringField(e.b, "name", t.Name)
	if t.Description != "" {
		e.b = jsonwire.AppendStringField(e.b, "description", t.Description)
	}
	if len(t.Parameters) > 0 {
		var err error
		if e.b, err = jsonwire.AppendRawField(e.b, "parameters", t.Parameters); err != nil {
			return err
		}
	}
	if t.Strict != nil {
		// As for response_format: another protocol's strict tool may lie
		// outside OpenAI's strict subset (keepCache: the tool is ours).
		strict := *t.Strict && (keepCache || StrictSchema(t.Parameters))
		e.b = jsonwire.AppendBoolField(e.b, "strict", strict)
	}
	e.b = append(e.b, '}')
	if len(t.CacheControl) > 0 && keepCache {
		var err error
		if e.b, err = jsonwire.AppendRawField(e.b, "cache_control", t.CacheControl); err != nil {
			return err
		}
	}
	e.b = append(e.b, '}')
	return nil
}

func (e *requestEncoder) sampling(req *llm.ChatRequest) error {
	e.int("max_tokens", req.MaxTokens)
	e.int("max_completion_tokens", req.MaxCompletionTokens)
	for _, f := range [...]struct {
		k string
		v *float64
	}{
		{"temperature", req.Temperature},
		{"top_p", req.TopP},
		{"presence_penalty", req.PresencePenalty},
		{"frequency_penalty", req.FrequencyPenalty},
	} {
		if err := e.float(f.k, f.v); err != nil {
			return err
		}
	}
	e.int("top_k", req.TopK)
	if len(req.LogitBias) > 0 {
		keys := make([]string, 0, len(req.LogitBias))
		for k := range req.LogitBias {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		e.key("logit_bias")
		e.b = append(e.b, '{')
		for _, k := range keys {
			e.b = jsonwire.AppendString(jsonwire.AppendComma(e.b), k)
			e.b = append(e.b, ':')
			var ok bool
			if e.b, ok = jsonwire.AppendFloat(e.b, req.LogitBias[k]); !ok {
				return fmt.Errorf("openai: encode logit_bias: %w", errBadFloat)
			}
		}
		e.b = append(e.b, '}')
	}
	if len(req.Stop) > 0 {
		e.key("stop")
		e.b = append(e.b, '[')
		for i, s := range req.Stop {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.b = jsonwire.AppendString(e.b, s)
		}
		e.b = append(e.b, ']')
	}
	if req.Seed != nil {
		e.key("seed")
		e.b = strconv.AppendInt(e.b, *req.Seed, 10)
	}
	e.int("n", req.N)
	e.bool("logprobs", req.Logprobs)
	e.int("top_logprobs", req.TopLogprobs)
	return nil
}

func (e *requestEncoder) options(req *llm.ChatRequest) {
	if req.User != "" {
		e.str("user", req.User)
	}
	if len(req.Metadata) > 0 {
		keys := make([]string, 0, len(req.Metadata))
		for k := range req.Metadata {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		e.key("metadata")
		e.b = append(e.b, '{')
		for _, k := range keys {
			e.b = jsonwire.AppendString(jsonwire.AppendComma(e.b), k)
			e.b = append(e.b, ':')
			e.b = jsonwire.AppendString(e.b, req.Metadata[k])
		}
		e.b = append(e.b, '}')
	}
	if req.ReasoningEffort != "" {
		e.str("reasoning_effort", req.ReasoningEffort)
	}
	if req.Stream {
		e.key("stream")
		e.b = append(e.b, "true"...)
		e.key("stream_options")
		e.b = append(e.b, `{"include_usage":true}`...)
	}
}

// message writes one message. Thinking parts are left out: OpenAI has no
// way to send reasoning back.
func (e *requestEncoder) message(m *llm.Message) error {
	b := append(e.b, '{')
	b = jsonwire.AppendStringField(b, "role", string(m.Role))
	var err error
	if b, err = appendContent(b, m); err != nil {
		return err
	}
	if m.Name != "" {
		b = jsonwire.AppendStringField(b, "name", m.Name)
	}
	if len(m.ToolCalls) > 0 {
		b = jsonwire.AppendKey(b, "tool_calls")
		b = append(b, '[')
		for i := range m.ToolCalls {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendToolCall(b, &m.ToolCalls[i])
		}
		b = append(b, ']')
	}
	if m.ToolCallID != "" {
		b = jsonwire.AppendStringField(b, "tool_call_id", m.ToolCallID)
	}
	if m.Refusal != "" {
		b = jsonwire.AppendStringField(b, "refusal", m.Refusal)
	}
	if m.ExtraProtocol == Protocol {
		if b, err = jsonwire.AppendExtra(b, m.Extra, isMessageKey); err != nil {
			return err
		}
	}
	e.b = append(b, '}')
	return nil
}

func isMessageKey(k string) bool {
	switch k {
	case "role", "content", "name", "tool_calls", "tool_call_id", "refusal":
		return true
	}
	return false
}

// appendContent writes a message's content: a plain string when it is one
// uncached text part, otherwise an array of parts. Content that is absent
// (or only thinking) is left out on assistant messages and sent as "" on the
// others, where OpenAI requires it.
//
// cache_control markers are kept only when the message came in this
// protocol: OpenAI has none of its own, and those of Anthropic clients are
// meant for Anthropic upstreams.
func appendContent(b []byte, m *llm.Message) ([]byte, error) {
	keepCache := m.ExtraProtocol == Protocol
	n, text := 0, -1
	for i := range m.Content {
		switch m.Content[i].Type {
		case llm.PartThinking, llm.PartRedactedThinking:
			continue
		case llm.PartOther:
			if m.ExtraProtocol != Protocol {
				continue
			}
		case llm.PartText:
			text = i
		}
		n++
	}
	switch {
	case n == 0 && m.Role == llm.RoleAssistant:
		return b, nil
	case n == 0:
		return jsonwire.AppendStringField(b, "content", ""), nil
	case n == 1 && text >= 0 && (len(m.Content[text].CacheControl) == 0 || !keepCache):
		return jsonwire.AppendStringField(b, "content", m.Content[text].Text), nil
	}
	b = jsonwire.AppendKey(b, "content")
	b = append(b, '[')
	var err error
	for i := range m.Content {
		if m.Content[i].Type == llm.PartOther && m.ExtraProtocol != Protocol {
			continue // a block of another protocol
		}
		if b, err = appendPart(b, &m.Content[i], keepCache); err != nil {
			return b, err
		}
	}
	return append(b, ']'), nil
}

func appendPart(b []byte, p *llm.Part, keepCache bool) ([]byte, error) {
	var err error
	switch p.Type {
	case llm.PartText:
		b = jsonwire.AppendComma(b)
		b = append(b, `{"type":"text","text":`...)
		b = jsonwire.AppendString(b, p.Text)
	case llm.PartImage:
		if p.Image == nil {
			return b, fmt.Errorf("image part without an image")
		}
		b = jsonwire.AppendComma(b)
		b = append(b, `{"type":"image_url","image_url":{"url":`...)
		b = jsonwire.AppendString(b, imageURL(p.Image))
		if p.Image.Detail != "" {
			b = jsonwire.AppendStringField(b, "detail", p.Image.Detail)
		}
		b = append(b, '}')
	case llm.PartOther:
		if len(p.Raw) == 0 {
			return b, nil
		}
		return jsonwire.AppendRaw(jsonwire.AppendComma(b), p.Raw)
	default:
		return b, nil
	}
	if len(p.CacheControl) > 0 && keepCache {
		if b, err = jsonwire.AppendRawField(b, "cache_control", p.CacheControl); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// appendToolCall writes a whole tool call (not a streamed fragment).
func appendToolCall(b []byte, tc *llm.ToolCall) []byte {
	field, argKey := "function", "arguments"
	if tc.Type == "custom" {
		field, argKey = "custom", "input"
	}
	b = append(b, '{')
	b = jsonwire.AppendStringField(b, "id", tc.ID)
	b = jsonwire.AppendStringField(b, "type", field)
	b = jsonwire.AppendKey(b, field)
	b = append(b, '{')
	b = jsonwire.AppendStringField(b, "name", tc.Name)
	b = jsonwire.AppendStringField(b, argKey, tc.Arguments)
	return append(b, '}', '}')
}
