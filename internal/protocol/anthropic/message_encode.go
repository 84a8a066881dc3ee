package anthropic

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
)

// block is one encoded content block, kept in a scratch buffer until the
// blocks are grouped into alternating messages.
type block struct {
	start, end int
	assistant  bool
	toolResult bool
	// text is set when the block is an uncached text block, so that a
	// message of that one block can be written as a plain string.
	text *llm.Part
}

// blockWriter encodes canonical messages into content blocks.
type blockWriter struct {
	b      []byte
	blocks []block
}

func (w *blockWriter) add(assistant, toolResult bool, start int, text *llm.Part) {
	w.blocks = append(w.blocks, block{start: start, end: len(w.b), assistant: assistant, toolResult: toolResult, text: text})
}

// messages writes the conversation: every canonical message but the system
// ones becomes blocks, then consecutive blocks of one role form one message,
// with a user message's tool_result blocks first as Anthropic requires.
func (e *requestEncoder) messages(msgs []llm.Message) error {
	w := blockWriter{b: make([]byte, 0, 256), blocks: make([]block, 0, len(msgs)+4)}
	for i := range msgs {
		m := &msgs[i]
		var err error
		switch m.Role {
		case llm.RoleSystem, llm.RoleDeveloper:
			continue
		case llm.RoleTool:
			err = w.toolResult(m)
		case llm.RoleAssistant:
			err = w.assistant(m, i)
		default:
			err = w.parts(m, false, func(p *llm.Part) bool { return p.Type != llm.PartThinking && p.Type != llm.PartRedactedThinking })
		}
		if err != nil {
			return fmt.Errorf("anthropic: encode messages[%d]: %w", i, err)
		}
	}
	e.key("messages")
	e.b = append(e.b, '[')
	if len(w.blocks) == 0 || w.blocks[0].assistant {
		e.b = append(e.b, `{"role":"user","content":"`+placeholderUserText+`"}`...)
	}
	for i := 0; i < len(w.blocks); {
		j := i + 1
		for j < len(w.blocks) && w.blocks[j].assistant == w.blocks[i].assistant {
			j++
		}
		e.b = appendGroup(jsonwire.AppendComma(e.b), w.b, w.blocks[i:j])
		i = j
	}
	e.b = append(e.b, ']')
	return nil
}

// appendGroup writes one message of blocks of one role.
func appendGroup(b, scratch []byte, group []block) []byte {
	if group[0].assistant {
		b = append(b, `{"role":"assistant","content":`...)
	} else {
		b = append(b, `{"role":"user","content":`...)
	}
	if len(group) == 1 && group[0].text != nil {
		b = jsonwire.AppendString(b, group[0].text.Text)
		return append(b, '}')
	}
	b = append(b, '[')
	for _, first := range [2]bool{true, false} {
		for _, bl := range group {
			if bl.toolResult == first {
				b = append(jsonwire.AppendComma(b), scratch[bl.start:bl.end]...)
			}
		}
	}
	return append(b, ']', '}')
}

// parts writes the parts of m that keep says to keep, as blocks. Empty text
// parts are left out (Anthropic rejects empty text blocks), and so are
// PartOther parts of another protocol.
func (w *blockWriter) parts(m *llm.Message, assistant bool, keep func(*llm.Part) bool) error {
	for j := range m.Content {
		p := &m.Content[j]
		if !keep(p) {
			continue
		}
		start := len(w.b)
		var err error
		var text *llm.Part
		switch p.Type {
		case llm.PartText:
			if p.Text == "" {
				continue
			}
			if len(p.CacheControl) == 0 {
				text = p
			}
			w.b, err = appendTextBlock(w.b, p)
		case llm.PartImage:
			w.b, err = appendImageBlock(w.b, p)
		case llm.PartThinking:
			if p.Signature == "" {
				continue // reasoning from another provider: Anthropic rejects it unsigned
			}
			w.b = jsonwire.AppendStringField(append(w.b, `{"type":"thinking"`...), "thinking", p.Text)
			w.b = jsonwire.AppendStringField(w.b, "signature", p.Signature)
			w.b, err = closeBlock(w.b, p)
		case llm.PartRedactedThinking:
			w.b = jsonwire.AppendStringField(append(w.b, `{"type":"redacted_thinking"`...), "data", p.Data)
			w.b, err = closeBlock(w.b, p)
		case llm.PartOther:
			if m.ExtraProtocol != Protocol || len(p.Raw) == 0 {
				continue
			}
			w.b, err = jsonwire.AppendRaw(w.b, p.Raw)
		default:
			continue
		}
		if err != nil {
			return err
		}
		w.add(assistant, false, start, text)
	}
	return nil
}

// assistant writes an assistant message: thinking blocks first, then the
// other parts in order, a refusal as text, then a tool_use block per call.
func (w *blockWriter) assistant(m *llm.Message, i int) error {
	isThinking := func(p *llm.Part) bool { return p.Type == llm.PartThinking || p.Type == llm.PartRedactedThinking }
	if err := w.parts(m, true, isThinking); err != nil {
		return err
	}
	if err := w.parts(m, true, func(p *llm.Part) bool { return !isThinking(p) }); err != nil {
		return err
	}
	if m.Refusal != "" && m.Text() == "" {
		start := len(w.b)
		w.b = jsonwire.AppendStringField(append(w.b, `{"type":"text"`...), "text", m.Refusal)
		w.b = append(w.b, '}')
		w.add(true, false, start, nil)
	}
	for j := range m.ToolCalls {
		tc := &m.ToolCalls[j]
		start := len(w.b)
		w.b = append(w.b, `{"type":"tool_use"`...)
		w.b = jsonwire.AppendStringField(w.b, "id", toolID(tc.ID))
		w.b = jsonwire.AppendStringField(w.b, "name", tc.Name)
		w.b = jsonwire.AppendKey(w.b, "input")
		var ok bool
		if w.b, ok = appendInput(w.b, tc.Arguments); !ok {
			p := fmt.Sprintf("messages[%d].tool_calls[%d].function.arguments", i, j)
			return llm.InvalidRequest(p, "invalid value for '%s': the arguments of tool call %q are not a JSON object", p, tc.ID)
		}
		w.b = append(w.b, '}')
		w.add(true, false, start, nil)
	}
	return nil
}

// appendInput appends tool call arguments as a tool_use input object: "" is
// {}, and anything but a JSON object is refused.
func appendInput(b []byte, args string) ([]byte, bool) {
	raw := bytes.TrimSpace([]byte(args))
	if len(raw) == 0 {
		return append(b, '{', '}'), true
	}
	if raw[0] != '{' || !json.Valid(raw) {
		return b, false
	}
	out, err := jsonwire.AppendRaw(b, raw)
	return out, err == nil
}

// toolResult writes a tool message as a tool_result block. Its content is a
// string when it is one text, blocks otherwise, and left out when empty;
// is_error and cache_control come back from Extra when the message came
// from this protocol. Anthropic refuses cache_control inside tool_result
// content, so a content part's marker moves to the tool_result block.
func (w *blockWriter) toolResult(m *llm.Message) error {
	start := len(w.b)
	b := append(w.b, `{"type":"tool_result"`...)
	b = jsonwire.AppendStringField(b, "tool_use_id", toolID(m.ToolCallID))
	plain, cc := hoistCacheControl(m)
	var n, text int
	for j := range plain.Content {
		switch p := &plain.Content[j]; p.Type {
		case llm.PartText:
			if p.Text != "" {
				n, text = n+1, j
			}
		case llm.PartImage:
			n++
		case llm.PartOther:
			if m.ExtraProtocol == Protocol && len(p.Raw) > 0 {
				n++
			}
		}
	}
	switch {
	case n == 1 && plain.Content[text].Type == llm.PartText && plain.Content[text].Text != "":
		b = jsonwire.AppendStringField(b, "content", plain.Content[text].Text)
	case n > 0:
		var inner blockWriter
		keep := func(p *llm.Part) bool { return p.Type != llm.PartThinking && p.Type != llm.PartRedactedThinking }
		if err := inner.parts(plain, false, keep); err != nil {
			return err
		}
		b = append(jsonwire.AppendKey(b, "content"), '[')
		for k, bl := range inner.blocks {
			if k > 0 {
				b = append(b, ',')
			}
			b = append(b, inner.b[bl.start:bl.end]...)
		}
		b = append(b, ']')
	}
	own := m.ExtraProtocol == Protocol
	var err error
	if _, set := m.Extra["cache_control"]; len(cc) > 0 && !(own && set) {
		if b, err = jsonwire.AppendRawField(b, "cache_control", cc); err != nil {
			return err
		}
	}
	if own {
		if b, err = jsonwire.AppendExtra(b, m.Extra, isToolResultKey); err != nil {
			return err
		}
	}
	w.b = append(b, '}')
	w.add(false, true, start, nil)
	return nil
}

// hoistCacheControl returns m with its parts' cache_control removed, and the
// last of them.
func hoistCacheControl(m *llm.Message) (*llm.Message, json.RawMessage) {
	var cc json.RawMessage
	for j := range m.Content {
		if len(m.Content[j].CacheControl) > 0 {
			cc = m.Content[j].CacheControl
		}
	}
	if cc == nil {
		return m, nil
	}
	plain := *m
	plain.Content = slices.Clone(m.Content)
	for j := range plain.Content {
		plain.Content[j].CacheControl = nil
	}
	return &plain, cc
}

func isToolResultKey(k string) bool {
	return k == "type" || k == "tool_use_id" || k == "content"
}

func appendTextBlock(b []byte, p *llm.Part) ([]byte, error) {
	b = jsonwire.AppendStringField(append(b, `{"type":"text"`...), "text", p.Text)
	return closeBlock(b, p)
}

func appendImageBlock(b []byte, p *llm.Part) ([]byte, error) {
	img := p.Image
	if img == nil {
		return b, fmt.Errorf("image part without an image")
	}
	b = append(b, `{"type":"image","source":{`...)
	if img.Data != "" {
		b = append(b, `"type":"base64"`...)
		b = jsonwire.AppendStringField(b, "media_type", img.MediaType)
		b = jsonwire.AppendStringField(b, "data", img.Data)
	} else {
		b = append(b, `"type":"url"`...)
		b = jsonwire.AppendStringField(b, "url", img.URL)
	}
	b = append(b, '}')
	return closeBlock(b, p)
}

// closeBlock writes the part's cache_control, if any, and closes the block.
func closeBlock(b []byte, p *llm.Part) ([]byte, error) {
	if len(p.CacheControl) > 0 {
		var err error
		if b, err = jsonwire.AppendRawField(b, "cache_control", p.CacheControl); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// toolID returns a tool call id in the form Anthropic accepts,
// ^[a-zA-Z0-9_-]+$: other characters, which some OpenAI-compatible servers
// put in their ids ("functions.get_weather:0"), become '_'. The same id
// always maps to the same result, so tool_use and tool_result stay paired.
func toolID(id string) string {
	valid := func(c byte) bool {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
	}
	i := 0
	for i < len(id) && valid(id[i]) {
		i++
	}
	if i == len(id) {
		return id
	}
	b := []byte(id)
	for ; i < len(b); i++ {
		if !valid(b[i]) {
			b[i] = '_'
		}
	}
	return string(b)
}
