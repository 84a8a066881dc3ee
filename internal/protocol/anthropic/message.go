package anthropic

import (
	"encoding/json"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
)

func decodeMessages(raw json.RawMessage) ([]llm.Message, error) {
	if jsonwire.IsNull(raw) {
		return nil, jsonwire.Missing("messages")
	}
	arr, err := jsonwire.DecodeArray(raw, "messages")
	if err != nil {
		return nil, err
	}
	if len(arr) == 0 {
		return nil, jsonwire.InvalidValue("messages", "at least one message is required")
	}
	msgs := make([]llm.Message, 0, len(arr))
	for i, r := range arr {
		if msgs, err = decodeMessage(msgs, r, jsonwire.Elem("messages", i)); err != nil {
			return nil, err
		}
	}
	return msgs, nil
}

// decodeMessage appends the canonical messages of one Anthropic message at
// path p to dst. An assistant message is one message whose tool_use blocks
// become ToolCalls. A user message is split at its tool_result blocks: each
// becomes a tool message, and the other blocks, in order, user messages
// between them, so that the canonical conversation keeps the order the
// client sent.
func decodeMessage(dst []llm.Message, raw json.RawMessage, p string) ([]llm.Message, error) {
	obj, err := jsonwire.DecodeObject(raw, p)
	if err != nil {
		return nil, err
	}
	role, err := jsonwire.RequireString(obj, "role", p+".role")
	if err != nil {
		return nil, err
	}
	if role != "user" && role != "assistant" {
		return nil, jsonwire.InvalidValue(p+".role", "%q is not one of user, assistant (the system prompt is the top-level system field)", role)
	}
	m := llm.Message{Role: llm.Role(role), ExtraProtocol: Protocol}
	for _, mem := range obj {
		if k := string(mem.Key); k != "role" && k != "content" {
			if m.Extra == nil {
				m.Extra = make(map[string]json.RawMessage)
			}
			m.Extra[k] = mem.Val
		}
	}
	content := obj.Get("content")
	cp := p + ".content"
	if jsonwire.IsNull(content) {
		return nil, jsonwire.Missing(cp)
	}
	if content[0] == '"' {
		s, err := jsonwire.DecodeString(content, cp)
		if err != nil {
			return nil, err
		}
		m.Content = []llm.Part{llm.TextPart(s)}
		return append(dst, m), nil
	}
	arr, err := jsonwire.DecodeArray(content, cp)
	if err != nil {
		return nil, jsonwire.TypeError(cp, "a string or an array of content blocks", content)
	}
	if m.Role == llm.RoleAssistant {
		if err := decodeAssistantBlocks(&m, arr, cp); err != nil {
			return nil, err
		}
		return append(dst, m), nil
	}
	return decodeUserBlocks(dst, m, arr, cp)
}

func decodeAssistantBlocks(m *llm.Message, arr []json.RawMessage, p string) error {
	m.Content = make([]llm.Part, 0, len(arr))
	for i, r := range arr {
		bp := jsonwire.Elem(p, i)
		obj, typ, err := blockType(r, bp)
		if err != nil {
			return err
		}
		switch typ {
		case "tool_use":
			tc, err := decodeToolUse(obj, bp)
			if err != nil {
				return err
			}
			tc.Index = len(m.ToolCalls)
			m.ToolCalls = append(m.ToolCalls, tc)
		case "tool_result":
			return jsonwire.InvalidValue(bp+".type", "tool_result blocks belong in user messages")
		default:
			var part llm.Part
			if err := decodeBlockObject(&part, obj, r, typ, bp); err != nil {
				return err
			}
			m.Content = append(m.Content, part)
		}
	}
	return nil
}

// decodeUserBlocks appends the messages of a user message's blocks to dst:
// the message's own Extra stays with its first non-tool part.
func decodeUserBlocks(dst []llm.Message, m llm.Message, arr []json.RawMessage, p string) ([]llm.Message, error) {
	flush := func() {
		if len(m.Content) > 0 {
			dst = append(dst, m)
			m = llm.Message{Role: llm.RoleUser, ExtraProtocol: Protocol}
		}
	}
	for i, r := range arr {
		bp := jsonwire.Elem(p, i)
		obj, typ, err := blockType(r, bp)
		if err != nil {
			return nil, err
		}
		switch typ {
		case "tool_result":
			flush()
			tm, err := decodeToolResult(obj, bp)
			if err != nil {
				return nil, err
			}
			dst = append(dst, tm)
		case "tool_use":
			return nil, jsonwire.InvalidValue(bp+".type", "tool_use blocks belong in assistant messages")
		default:
			var part llm.Part
			if err := decodeBlockObject(&part, obj, r, typ, bp); err != nil {
				return nil, err
			}
			m.Content = append(m.Content, part)
		}
	}
	if len(m.Content) > 0 || len(arr) == 0 {
		dst = append(dst, m)
	}
	return dst, nil
}

// blockType splits a content block and returns its type.
func blockType(raw json.RawMessage, p string) (jsonwire.Object, string, error) {
	obj, err := jsonwire.DecodeObject(raw, p)
	if err != nil {
		return nil, "", err
	}
	typ, err := jsonwire.RequireString(obj, "type", p+".type")
	return obj, typ, err
}

// decodeBlock decodes a content block that is not a tool_use or tool_result.
func decodeBlock(part *llm.Part, raw json.RawMessage, p string) error {
	obj, typ, err := blockType(raw, p)
	if err != nil {
		return err
	}
	if typ == "tool_use" || typ == "tool_result" {
		return jsonwire.InvalidValue(p+".type", "a %s block is not allowed here", typ)
	}
	return decodeBlockObject(part, obj, raw, typ, p)
}

// decodeBlockObject decodes a text, image, thinking or redacted_thinking
// block; any other block (document, search_result, server tool blocks, ...)
// is kept whole as a PartOther.
func decodeBlockObject(part *llm.Part, obj jsonwire.Object, raw json.RawMessage, typ, p string) error {
	var err error
	switch typ {
	case "text":
		part.Type = llm.PartText
		t := obj.Get("text")
		if jsonwire.IsNull(t) {
			return jsonwire.Missing(p + ".text")
		}
		part.Text, err = jsonwire.DecodeString(t, p+".text")
	case "image":
		img, err := decodeImage(obj.Get("source"), p+".source")
		if err != nil {
			return err
		}
		if img == nil {
			*part = llm.Part{Type: llm.PartOther, Raw: raw}
			return nil
		}
		part.Type, part.Image = llm.PartImage, img
	case "thinking":
		part.Type = llm.PartThinking
		if part.Text, err = jsonwire.DecodeString(obj.Get("thinking"), p+".thinking"); err != nil {
			return err
		}
		part.Signature, err = jsonwire.DecodeString(obj.Get("signature"), p+".signature")
	case "redacted_thinking":
		part.Type = llm.PartRedactedThinking
		part.Data, err = jsonwire.RequireString(obj, "data", p+".data")
	default:
		*part = llm.Part{Type: llm.PartOther, Raw: raw}
		return nil
	}
	if cc := obj.Get("cache_control"); !jsonwire.IsNull(cc) && err == nil {
		part.CacheControl = cc
	}
	return err
}

// decodeImage decodes an image source: base64 or url. Other sources (file)
// return nil, and the block is kept raw.
func decodeImage(raw json.RawMessage, p string) (*llm.Image, error) {
	if jsonwire.IsNull(raw) {
		return nil, jsonwire.Missing(p)
	}
	obj, err := jsonwire.DecodeObject(raw, p)
	if err != nil {
		return nil, err
	}
	typ, err := jsonwire.RequireString(obj, "type", p+".type")
	if err != nil {
		return nil, err
	}
	img := &llm.Image{}
	switch typ {
	case "base64":
		if img.MediaType, err = jsonwire.RequireString(obj, "media_type", p+".media_type"); err != nil {
			return nil, err
		}
		img.Data, err = jsonwire.RequireString(obj, "data", p+".data")
	case "url":
		img.URL, err = jsonwire.RequireString(obj, "url", p+".url")
	default:
		return nil, nil
	}
	return img, err
}

// decodeToolUse decodes a tool_use block; Arguments is its input compacted,
// "{}" when absent.
func decodeToolUse(obj jsonwire.Object, p string) (llm.ToolCall, error) {
	tc := llm.ToolCall{Type: "function"}
	var err error
	if tc.ID, err = jsonwire.RequireString(obj, "id", p+".id"); err != nil {
		return tc, err
	}
	if tc.Name, err = jsonwire.RequireString(obj, "name", p+".name"); err != nil {
		return tc, err
	}
	input := obj.Get("input")
	if jsonwire.IsNull(input) {
		tc.Arguments = "{}"
		return tc, nil
	}
	if input[0] != '{' {
		return tc, jsonwire.TypeError(p+".input", "an object", input)
	}
	b, err := jsonwire.AppendRaw(nil, input)
	if err != nil {
		return tc, jsonwire.InvalidValue(p+".input", "%v", err)
	}
	tc.Arguments = string(b)
	return tc, nil
}

// decodeToolResult decodes a tool_result block into a tool message. Its
// is_error, cache_control and any unknown field are kept in the message's
// Extra, for Anthropic upstreams.
func decodeToolResult(obj jsonwire.Object, p string) (llm.Message, error) {
	m := llm.Message{Role: llm.RoleTool, ExtraProtocol: Protocol}
	var err error
	if m.ToolCallID, err = jsonwire.RequireString(obj, "tool_use_id", p+".tool_use_id"); err != nil {
		return m, err
	}
	for _, mem := range obj {
		switch k := string(mem.Key); k {
		case "type", "tool_use_id":
		case "content":
			if m.Content, err = decodeToolResultContent(mem.Val, p+".content"); err != nil {
				return m, err
			}
		case "is_error":
			if _, err := jsonwire.DecodeBool(mem.Val, p+".is_error"); err != nil {
				return m, err
			}
			fallthrough
		default:
			if jsonwire.IsNull(mem.Val) {
				continue
			}
			if m.Extra == nil {
				m.Extra = make(map[string]json.RawMessage)
			}
			m.Extra[k] = mem.Val
		}
	}
	return m, nil
}

func decodeToolResultContent(raw json.RawMessage, p string) ([]llm.Part, error) {
	if jsonwire.IsNull(raw) {
		return nil, nil
	}
	if raw[0] == '"' {
		s, err := jsonwire.DecodeString(raw, p)
		return []llm.Part{llm.TextPart(s)}, err
	}
	arr, err := jsonwire.DecodeArray(raw, p)
	if err != nil {
		return nil, jsonwire.TypeError(p, "a string or an array of content blocks", raw)
	}
	if len(arr) == 0 {
		return nil, nil
	}
	parts := make([]llm.Part, len(arr))
	for i, r := range arr {
		if err := decodeBlock(&parts[i], r, jsonwire.Elem(p, i)); err != nil {
			return nil, err
		}
	}
	return parts, nil
}
