package openai

import (
	"encoding/json"
	"strings"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
)

// reasoningKey is where OpenAI-compatible servers (DeepSeek, vLLM) put the
// reasoning text of a response message or delta. It becomes a thinking part
// in front of the answer; in requests it is an ordinary pass-through field.
const reasoningKey = "reasoning_content"

// reasoningAltKey is the newer name some servers use instead (vLLM since it
// renamed the field, Groq, Ollama, OpenRouter): read as a string when
// reasoningKey is absent, and kept in Extra when it is anything else.
const reasoningAltKey = "reasoning"

func decodeMessages(raw json.RawMessage) ([]llm.Message, error) {
	if jsonwire.IsNull(raw) {
		return nil, jsonwire.Missing("messages")
	}
	arr, err := jsonwire.DecodeArray(raw, "messages")
	if err != nil {
		return nil, err
	}
	if len(arr) == 0 {
		return nil, jsonwire.InvalidValue("messages", "expected a non-empty array")
	}
	msgs := make([]llm.Message, len(arr))
	for i, r := range arr {
		if err := decodeMessage(&msgs[i], r, jsonwire.Elem("messages", i), false); err != nil {
			return nil, err
		}
	}
	return msgs, nil
}

// decodeMessage decodes one request (or, when response is set, response)
// message at path p.
func decodeMessage(m *llm.Message, raw json.RawMessage, p string, response bool) error {
	obj, err := jsonwire.DecodeObject(raw, p)
	if err != nil {
		return err
	}
	role, err := jsonwire.RequireString(obj, "role", p+".role")
	if err != nil {
		return err
	}
	switch llm.Role(role) {
	case llm.RoleSystem, llm.RoleDeveloper, llm.RoleUser, llm.RoleAssistant, llm.RoleTool:
	case "function":
		return jsonwire.InvalidValue(p+".role", `the deprecated "function" role is not supported; send a "tool" message with a tool_call_id instead`)
	default:
		return jsonwire.InvalidValue(p+".role", "%q is not one of system, developer, user, assistant, tool", role)
	}
	m.Role = llm.Role(role)
	m.ExtraProtocol = Protocol
	for _, mem := range obj {
		if response && (string(mem.Key) == reasoningKey || string(mem.Key) == reasoningAltKey && len(mem.Val) > 0 && mem.Val[0] == '"') {
			continue
		}
		if err := decodeMessageField(m, mem.Key, mem.Val, p); err != nil {
			return err
		}
	}
	if response {
		s, err := jsonwire.DecodeString(obj.Get(reasoningKey), p+"."+reasoningKey)
		if err != nil {
			return err
		}
		if s == "" {
			s, _ = jsonwire.Unquote(obj.Get(reasoningAltKey))
		}
		if s != "" {
			m.Content = append([]llm.Part{{Type: llm.PartThinking, Text: s}}, m.Content...)
		}
		return nil
	}
	return checkMessage(m, obj, p)
}

func decodeMessageField(m *llm.Message, key []byte, v json.RawMessage, p string) error {
	var err error
	switch string(key) {
	case "role":
	case "content":
		m.Content, err = decodeContent(v, p+".content")
	case "name":
		m.Name, err = jsonwire.DecodeString(v, p+".name")
	case "tool_call_id":
		m.ToolCallID, err = jsonwire.DecodeString(v, p+".tool_call_id")
	case "refusal":
		m.Refusal, err = jsonwire.DecodeString(v, p+".refusal")
	case "tool_calls":
		if m.Role != llm.RoleAssistant {
			return jsonwire.InvalidValue(p+".tool_calls", "only assistant messages may carry tool_calls")
		}
		m.ToolCalls, err = decodeToolCalls(v, p+".tool_calls")
	default:
		if m.Extra == nil {
			m.Extra = make(map[string]json.RawMessage)
		}
		m.Extra[string(key)] = v
	}
	return err
}

// checkMessage enforces the per-role required fields.
func checkMessage(m *llm.Message, obj jsonwire.Object, p string) error {
	switch m.Role {
	case llm.RoleAssistant:
		return nil
	case llm.RoleTool:
		if m.ToolCallID == "" {
			return jsonwire.Missing(p + ".tool_call_id")
		}
	}
	if jsonwire.IsNull(obj.Get("content")) {
		return jsonwire.Missing(p + ".content")
	}
	return nil
}

// decodeContent decodes content given as a string or an array of parts.
func decodeContent(raw json.RawMessage, p string) ([]llm.Part, error) {
	if jsonwire.IsNull(raw) {
		return nil, nil
	}
	if raw[0] == '"' {
		s, err := jsonwire.DecodeString(raw, p)
		return []llm.Part{llm.TextPart(s)}, err
	}
	if raw[0] != '[' {
		return nil, jsonwire.TypeError(p, "a string or an array of content parts", raw)
	}
	arr, err := jsonwire.DecodeArray(raw, p)
	if err != nil {
		return nil, err
	}
	if len(arr) == 0 {
		return nil, jsonwire.InvalidValue(p, "expected a string or a non-empty array of content parts")
	}
	parts := make([]llm.Part, len(arr))
	for i, r := range arr {
		if err := decodePart(&parts[i], r, jsonwire.Elem(p, i)); err != nil {
			return nil, err
		}
	}
	return parts, nil
}

func decodePart(part *llm.Part, raw json.RawMessage, p string) error {
	obj, err := jsonwire.DecodeObject(raw, p)
	if err != nil {
		return err
	}
	typ, err := jsonwire.RequireString(obj, "type", p+".type")
	if err != nil {
		return err
	}
	if cc := obj.Get("cache_control"); !jsonwire.IsNull(cc) {
		part.CacheControl = cc
	}
	switch typ {
	case "text":
		part.Type = llm.PartText
		raw := obj.Get("text")
		if jsonwire.IsNull(raw) {
			return jsonwire.Missing(p + ".text")
		}
		part.Text, err = jsonwire.DecodeString(raw, p+".text")
		return err
	case "image_url":
		part.Type = llm.PartImage
		part.Image, err = decodeImageURL(obj.Get("image_url"), p+".image_url")
		return err
	}
	*part = llm.Part{Type: llm.PartOther, Raw: raw}
	return nil
}

func decodeImageURL(raw json.RawMessage, p string) (*llm.Image, error) {
	if jsonwire.IsNull(raw) {
		return nil, jsonwire.Missing(p)
	}
	var url, detail string
	var err error
	if raw[0] == '"' {
		// A bare URL string, as some OpenAI-compatible clients send it;
		// like the object form, it must not be empty.
		if url, err = jsonwire.DecodeString(raw, p); err == nil && url == "" {
			err = jsonwire.InvalidValue(p, "must not be empty")
		}
	} else {
		var obj jsonwire.Object
		if obj, err = jsonwire.DecodeObject(raw, p); err != nil {
			return nil, err
		}
		if url, err = jsonwire.RequireString(obj, "url", p+".url"); err != nil {
			return nil, err
		}
		detail, err = jsonwire.DecodeString(obj.Get("detail"), p+".detail")
	}
	if err != nil {
		return nil, err
	}
	img := parseImageURL(url)
	img.Detail = detail
	return img, nil
}

// parseImageURL splits a base64 data: URL into media type and data; any other
// URL is kept as it is.
func parseImageURL(url string) *llm.Image {
	rest, ok := strings.CutPrefix(url, "data:")
	if !ok {
		return &llm.Image{URL: url}
	}
	meta, data, ok := strings.Cut(rest, ",")
	if !ok || data == "" || !strings.HasSuffix(meta, ";base64") {
		return &llm.Image{URL: url}
	}
	mediaType, _, _ := strings.Cut(meta, ";")
	return &llm.Image{MediaType: mediaType, Data: data}
}

// imageURL returns the URL to send for img: its URL, or a data: URL.
func imageURL(img *llm.Image) string {
	if img.Data == "" {
		return img.URL
	}
	return "data:" + img.MediaType + ";base64," + img.Data
}

func decodeToolCalls(raw json.RawMessage, p string) ([]llm.ToolCall, error) {
	if jsonwire.IsNull(raw) {
		return nil, nil
	}
	arr, err := jsonwire.DecodeArray(raw, p)
	if err != nil {
		return nil, err
	}
	if len(arr) == 0 {
		return nil, nil
	}
	calls := make([]llm.ToolCall, len(arr))
	for i, r := range arr {
		if err := decodeToolCall(&calls[i], r, jsonwire.Elem(p, i)); err != nil {
			return nil, err
		}
		// Whole messages number their calls by position, so that folding
		// them with llm.Accumulator keeps them apart.
		calls[i].Index = i
	}
	return calls, nil
}

func decodeToolCall(tc *llm.ToolCall, raw json.RawMessage, p string) error {
	obj, err := jsonwire.DecodeObject(raw, p)
	if err != nil {
		return err
	}
	if tc.ID, err = jsonwire.RequireString(obj, "id", p+".id"); err != nil {
		return err
	}
	if tc.Type, err = jsonwire.DecodeString(obj.Get("type"), p+".type"); err != nil {
		return err
	}
	field, argKey := "function", "arguments"
	switch tc.Type {
	case "", "function":
		tc.Type = "function"
	case "custom":
		field, argKey = "custom", "input"
	default:
		return jsonwire.InvalidValue(p+".type", "%q is not one of function, custom", tc.Type)
	}
	fp := p + "." + field
	fraw := obj.Get(field)
	if jsonwire.IsNull(fraw) {
		return jsonwire.Missing(fp)
	}
	fobj, err := jsonwire.DecodeObject(fraw, fp)
	if err != nil {
		return err
	}
	if tc.Name, err = jsonwire.RequireString(fobj, "name", fp+".name"); err != nil {
		return err
	}
	args := fobj.Get(argKey)
	if jsonwire.IsNull(args) {
		return jsonwire.Missing(fp + "." + argKey)
	}
	tc.Arguments, err = jsonwire.DecodeString(args, fp+"."+argKey)
	return err
}

func decodeTools(raw json.RawMessage) ([]llm.Tool, error) {
	if jsonwire.IsNull(raw) {
		return nil, nil
	}
	arr, err := jsonwire.DecodeArray(raw, "tools")
	if err != nil {
		return nil, err
	}
	if len(arr) == 0 {
		return nil, nil
	}
	tools := make([]llm.Tool, len(arr))
	for i, r := range arr {
		if err := decodeTool(&tools[i], r, jsonwire.Elem("tools", i)); err != nil {
			return nil, err
		}
	}
	return tools, nil
}

func decodeTool(t *llm.Tool, raw json.RawMessage, p string) error {
	obj, err := jsonwire.DecodeObject(raw, p)
	if err != nil {
		return err
	}
	if t.Type, err = jsonwire.RequireString(obj, "type", p+".type"); err != nil {
		return err
	}
	if t.Type != "function" {
		t.Raw = raw
		return nil
	}
	fp := p + ".function"
	fraw := obj.Get("function")
	if jsonwire.IsNull(fraw) {
		return jsonwire.Missing(fp)
	}
	fobj, err := jsonwire.DecodeObject(fraw, fp)
	if err != nil {
		return err
	}
	if t.Name, err = jsonwire.RequireString(fobj, "name", fp+".name"); err != nil {
		return err
	}
	if t.Description, err = jsonwire.DecodeString(fobj.Get("description"), fp+".description"); err != nil {
		return err
	}
	if t.Strict, err = jsonwire.DecodeBool(fobj.Get("strict"), fp+".strict"); err != nil {
		return err
	}
	if params := fobj.Get("parameters"); !jsonwire.IsNull(params) {
		if params[0] != '{' {
			return jsonwire.TypeError(fp+".parameters", "an object", params)
		}
		t.Parameters = params
	}
	if cc := obj.Get("cache_control"); !jsonwire.IsNull(cc) {
		t.CacheControl = cc
	}
	return nil
}

// decodeToolChoice decodes tool_choice. It returns nil without error for a
// valid object choice the canonical model cannot hold (allowed_tools,
// custom), which the caller keeps as a pass-through field.
func decodeToolChoice(raw json.RawMessage) (*llm.ToolChoice, error) {
	const p = "tool_choice"
	if jsonwire.IsNull(raw) {
		return nil, nil
	}
	if raw[0] == '"' {
		s, err := jsonwire.DecodeString(raw, p)
		if err != nil {
			return nil, err
		}
		switch mode := llm.ToolChoiceMode(s); mode {
		case llm.ToolChoiceAuto, llm.ToolChoiceNone, llm.ToolChoiceRequired:
			return &llm.ToolChoice{Mode: mode}, nil
		}
		return nil, jsonwire.InvalidValue(p, "%q is not one of none, auto, required", s)
	}
	obj, err := jsonwire.DecodeObject(raw, p)
	if err != nil {
		return nil, jsonwire.TypeError(p, "a string or an object", raw)
	}
	typ, err := jsonwire.RequireString(obj, "type", p+".type")
	if err != nil {
		return nil, err
	}
	switch typ {
	case "function":
	case "allowed_tools", "custom":
		return nil, nil
	default:
		return nil, jsonwire.InvalidValue(p+".type", "%q is not one of function, allowed_tools, custom", typ)
	}
	fraw := obj.Get("function")
	if jsonwire.IsNull(fraw) {
		return nil, jsonwire.Missing(p + ".function")
	}
	fobj, err := jsonwire.DecodeObject(fraw, p+".function")
	if err != nil {
		return nil, err
	}
	name, err := jsonwire.RequireString(fobj, "name", p+".function.name")
	if err != nil {
		return nil, err
	}
	return &llm.ToolChoice{Mode: llm.ToolChoiceFunction, Name: name}, nil
}
