package anthropic

import (
	"encoding/json"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
)

// Protocol names the Anthropic Messages wire format in llm.Chunk.RawProtocol
// and llm.ChatRequest.ExtraProtocol.
const Protocol = "anthropic"

// Version is the anthropic-version header value the gateway sends upstream.
const Version = "2023-06-01"

// DefaultMaxTokens is the max_tokens sent to an Anthropic upstream when the
// canonical request sets no output limit, as an OpenAI client may omit it
// while Anthropic requires it. It is raised above a thinking budget when one
// is set, since Anthropic requires max_tokens to exceed budget_tokens.
const DefaultMaxTokens = 4096

// DecodeMessagesRequest decodes a Messages API request body (POST
// /v1/messages) into the canonical request. The top-level system prompt
// becomes a leading system message; each tool_result block becomes a tool
// message of its own, in order. Fields the canonical model does not know go
// to Extra, with ExtraProtocol set to Protocol. Every failure is an
// *llm.Error of kind InvalidRequest whose Param is the JSON path of the
// offending field (for example "messages[1].content[0].tool_use_id").
func DecodeMessagesRequest(body []byte) (*llm.ChatRequest, error) {
	if err := jsonwire.CheckBody(body); err != nil {
		return nil, err
	}
	return decodeRequest(body, false)
}

// DecodeCheckedMessagesRequest is DecodeMessagesRequest for a body that has
// passed jsonwire.CheckBody already, which it does not walk again.
func DecodeCheckedMessagesRequest(body []byte) (*llm.ChatRequest, error) {
	return decodeRequest(body, false)
}

// decodeRequest decodes a Messages or count_tokens body; the latter has no
// max_tokens.
// The body must have passed jsonwire.CheckBody.
func decodeRequest(body []byte, count bool) (*llm.ChatRequest, error) {
	body, err := jsonwire.OwnCheckedBody(body)
	if err != nil {
		return nil, err
	}
	obj := jsonwire.SplitObject(body)
	req := &llm.ChatRequest{ExtraProtocol: Protocol}
	if req.Model, err = jsonwire.RequireString(obj, "model", "model"); err != nil {
		return nil, err
	}
	if !count {
		raw := obj.Get("max_tokens")
		if jsonwire.IsNull(raw) {
			return nil, jsonwire.Missing("max_tokens")
		}
		if req.MaxTokens, err = jsonwire.DecodeInt(raw, "max_tokens", 1); err != nil {
			return nil, err
		}
	}
	system, err := decodeSystem(obj.Get("system"))
	if err != nil {
		return nil, err
	}
	msgs, err := decodeMessages(obj.Get("messages"))
	if err != nil {
		return nil, err
	}
	if system != nil {
		req.Messages = append(make([]llm.Message, 0, len(msgs)+1), *system)
		req.Messages = append(req.Messages, msgs...)
	} else {
		req.Messages = msgs
	}
	for _, m := range obj {
		known, err := decodeRequestField(req, string(m.Key), m.Val, count)
		if err != nil {
			return nil, err
		}
		if !known {
			if req.Extra == nil {
				req.Extra = make(map[string]json.RawMessage)
			}
			req.Extra[string(m.Key)] = m.Val
		}
	}
	return req, nil
}

// decodeRequestField decodes one top-level member into req, reporting false
// for a member the canonical model does not know.
func decodeRequestField(req *llm.ChatRequest, key string, raw json.RawMessage, count bool) (bool, error) {
	var err error
	switch key {
	case "model", "messages", "system":
	case "max_tokens":
		return !count, nil
	case "tools":
		req.Tools, err = decodeTools(raw)
	case "tool_choice":
		err = decodeToolChoice(req, raw)
	case "thinking":
		if !jsonwire.IsNull(raw) {
			if err = checkThinking(raw); err == nil {
				req.Thinking = raw
			}
		}
	case "stop_sequences":
		req.Stop, err = decodeStrings(raw, key)
	case "metadata":
		req.User, err = decodeMetadata(raw)
	case "stream":
		var v *bool
		v, err = jsonwire.DecodeBool(raw, key)
		req.Stream = v != nil && *v
	case "temperature":
		req.Temperature, err = jsonwire.DecodeFloatIn(raw, key, 0, 1)
	case "top_p":
		req.TopP, err = jsonwire.DecodeFloatIn(raw, key, 0, 1)
	case "top_k":
		req.TopK, err = jsonwire.DecodeInt(raw, key, 0)
	case "output_config", "output_format":
		// Kept raw in Extra for an Anthropic upstream as well.
		return false, decodeOutputFormat(req, key, raw)
	default:
		return false, nil
	}
	return true, err
}

// decodeSystem decodes the system prompt, a string or an array of text
// blocks, into one system message whose parts keep each block's
// cache_control. An absent or empty prompt gives nil.
func decodeSystem(raw json.RawMessage) (*llm.Message, error) {
	const p = "system"
	if jsonwire.IsNull(raw) {
		return nil, nil
	}
	if raw[0] == '"' {
		s, err := jsonwire.DecodeString(raw, p)
		if err != nil || s == "" {
			return nil, err
		}
		return &llm.Message{Role: llm.RoleSystem, Content: []llm.Part{llm.TextPart(s)}, ExtraProtocol: Protocol}, nil
	}
	arr, err := jsonwire.DecodeArray(raw, p)
	if err != nil {
		return nil, jsonwire.TypeError(p, "a string or an array of text blocks", raw)
	}
	if len(arr) == 0 {
		return nil, nil
	}
	m := &llm.Message{Role: llm.RoleSystem, Content: make([]llm.Part, len(arr)), ExtraProtocol: Protocol}
	for i, r := range arr {
		bp := jsonwire.Elem(p, i)
		part := &m.Content[i]
		if err := decodeBlock(part, r, bp); err != nil {
			return nil, err
		}
		if part.Type != llm.PartText {
			return nil, jsonwire.InvalidValue(bp+".type", "system blocks must be text blocks")
		}
	}
	return m, nil
}

func decodeStrings(raw json.RawMessage, p string) ([]string, error) {
	if jsonwire.IsNull(raw) {
		return nil, nil
	}
	arr, err := jsonwire.DecodeArray(raw, p)
	if err != nil || len(arr) == 0 {
		return nil, err
	}
	out := make([]string, len(arr))
	for i, r := range arr {
		s, ok := jsonwire.Unquote(r)
		if !ok {
			return nil, jsonwire.TypeError(jsonwire.Elem(p, i), "a string", r)
		}
		out[i] = s
	}
	return out, nil
}

// decodeMetadata returns metadata.user_id, the only metadata Anthropic has.
func decodeMetadata(raw json.RawMessage) (string, error) {
	if jsonwire.IsNull(raw) {
		return "", nil
	}
	obj, err := jsonwire.DecodeObject(raw, "metadata")
	if err != nil {
		return "", err
	}
	for _, m := range obj {
		if string(m.Key) != "user_id" {
			return "", jsonwire.InvalidValue("metadata."+string(m.Key), "unknown metadata field; only user_id is allowed")
		}
	}
	return jsonwire.DecodeString(obj.Get("user_id"), "metadata.user_id")
}

// decodeOutputFormat reads the structured output format of output_config
// (or of output_format, its beta name), {"type":"json_schema","schema":{...}},
// into ResponseFormat, strict as Anthropic's always is, for upstreams of
// other protocols. output_config's other members (effort, ...) are not
// read.
func decodeOutputFormat(req *llm.ChatRequest, key string, raw json.RawMessage) error {
	if jsonwire.IsNull(raw) {
		return nil
	}
	obj, err := jsonwire.DecodeObject(raw, key)
	if err != nil {
		return err
	}
	p := key
	if key == "output_config" {
		p += ".format"
		if raw = obj.Get("format"); jsonwire.IsNull(raw) {
			return nil
		}
		if obj, err = jsonwire.DecodeObject(raw, p); err != nil {
			return err
		}
	}
	typ, err := jsonwire.RequireString(obj, "type", p+".type")
	if err != nil {
		return err
	}
	if typ != "json_schema" {
		return jsonwire.InvalidValue(p+".type", `%q is not "json_schema"`, typ)
	}
	schema := obj.Get("schema")
	if jsonwire.IsNull(schema) {
		return jsonwire.Missing(p + ".schema")
	}
	if _, err := jsonwire.DecodeObject(schema, p+".schema"); err != nil {
		return err
	}
	strict := true
	req.ResponseFormat = &llm.ResponseFormat{Type: "json_schema",
		JSONSchema: &llm.JSONSchema{Schema: schema, Strict: &strict}}
	return nil
}

// checkThinking checks the shape of the thinking setting, which is kept raw.
func checkThinking(raw json.RawMessage) error {
	obj, err := jsonwire.DecodeObject(raw, "thinking")
	if err != nil {
		return err
	}
	typ, err := jsonwire.RequireString(obj, "type", "thinking.type")
	if err != nil {
		return err
	}
	if typ == "enabled" {
		b := obj.Get("budget_tokens")
		if jsonwire.IsNull(b) {
			return jsonwire.Missing("thinking.budget_tokens")
		}
		if _, err := jsonwire.DecodeInt(b, "thinking.budget_tokens", 1); err != nil {
			return err
		}
	}
	return nil
}

func decodeTools(raw json.RawMessage) ([]llm.Tool, error) {
	if jsonwire.IsNull(raw) {
		return nil, nil
	}
	arr, err := jsonwire.DecodeArray(raw, "tools")
	if err != nil || len(arr) == 0 {
		return nil, err
	}
	tools := make([]llm.Tool, len(arr))
	for i, r := range arr {
		if err := decodeTool(&tools[i], r, jsonwire.Elem("tools", i)); err != nil {
			return nil, err
		}
	}
	return tools, nil
}

// decodeTool decodes a client tool (type absent or "custom") into a function
// tool; a server tool (web_search_20250305, bash_20250124, ...) is kept whole
// in Raw with its type. A client tool with fields the canonical model does
// not know keeps them in Raw too, for Anthropic upstreams.
func decodeTool(t *llm.Tool, raw json.RawMessage, p string) error {
	obj, err := jsonwire.DecodeObject(raw, p)
	if err != nil {
		return err
	}
	typ, err := jsonwire.DecodeString(obj.Get("type"), p+".type")
	if err != nil {
		return err
	}
	if typ != "" && typ != "custom" {
		if _, err := jsonwire.RequireString(obj, "name", p+".name"); err != nil {
			return err
		}
		t.Type, t.Raw = typ, raw
		return nil
	}
	t.Type = "function"
	if t.Name, err = jsonwire.RequireString(obj, "name", p+".name"); err != nil {
		return err
	}
	if t.Description, err = jsonwire.DecodeString(obj.Get("description"), p+".description"); err != nil {
		return err
	}
	if t.Strict, err = jsonwire.DecodeBool(obj.Get("strict"), p+".strict"); err != nil {
		return err
	}
	schema := obj.Get("input_schema")
	if jsonwire.IsNull(schema) {
		return jsonwire.Missing(p + ".input_schema")
	}
	if schema[0] != '{' {
		return jsonwire.TypeError(p+".input_schema", "an object", schema)
	}
	t.Parameters = schema
	if cc := obj.Get("cache_control"); !jsonwire.IsNull(cc) {
		t.CacheControl = cc
	}
	for _, m := range obj {
		switch string(m.Key) {
		case "type", "name", "description", "strict", "input_schema", "cache_control":
		default:
			t.Raw = raw
		}
	}
	return nil
}

// decodeToolChoice decodes tool_choice: auto, any (OpenAI's required), tool
// (a named function) or none; disable_parallel_tool_use also sets
// ParallelToolCalls to false, its OpenAI name.
func decodeToolChoice(req *llm.ChatRequest, raw json.RawMessage) error {
	const p = "tool_choice"
	if jsonwire.IsNull(raw) {
		return nil
	}
	obj, err := jsonwire.DecodeObject(raw, p)
	if err != nil {
		return err
	}
	typ, err := jsonwire.RequireString(obj, "type", p+".type")
	if err != nil {
		return err
	}
	tc := &llm.ToolChoice{}
	switch typ {
	case "auto":
		tc.Mode = llm.ToolChoiceAuto
	case "any":
		tc.Mode = llm.ToolChoiceRequired
	case "none":
		tc.Mode = llm.ToolChoiceNone
	case "tool":
		tc.Mode = llm.ToolChoiceFunction
		if tc.Name, err = jsonwire.RequireString(obj, "name", p+".name"); err != nil {
			return err
		}
	default:
		return jsonwire.InvalidValue(p+".type", "%q is not one of auto, any, tool, none", typ)
	}
	dp, err := jsonwire.DecodeBool(obj.Get("disable_parallel_tool_use"), p+".disable_parallel_tool_use")
	if err != nil {
		return err
	}
	if dp != nil && *dp {
		tc.DisableParallel = true
		no := false
		req.ParallelToolCalls = &no
	}
	req.ToolChoice = tc
	return nil
}
