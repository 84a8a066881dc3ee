package responses

import (
	"encoding/json"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
)

// decodeTools decodes the function tools. A built-in tool (web_search,
// file_search, computer_use_preview, code_interpreter, mcp,
// image_generation, ...) runs inside OpenAI's platform, which no other
// upstream has: it is refused, naming tools[N].type. An OpenAI upstream
// that is sent the body as it is (the native forward) never gets here.
func decodeTools(raw json.RawMessage) ([]llm.Tool, error) {
	const p = "tools"
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
	tools := make([]llm.Tool, len(arr))
	for i, r := range arr {
		if err := decodeTool(&tools[i], r, jsonwire.Elem(p, i)); err != nil {
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
	typ, err := jsonwire.RequireString(obj, "type", p+".type")
	if err != nil {
		return err
	}
	if typ != "function" {
		return llm.InvalidRequest(p+".type", "tools of type %q are not supported by this gateway for this model: only function tools are served", llm.Clip(typ))
	}
	if err := checkKeys(obj, p, "type", "name", "description", "parameters", "strict"); err != nil {
		return err
	}
	t.Type = typ
	if t.Name, err = jsonwire.RequireString(obj, "name", p+".name"); err != nil {
		return err
	}
	if t.Description, err = jsonwire.DecodeString(obj.Get("description"), p+".description"); err != nil {
		return err
	}
	if t.Strict, err = jsonwire.DecodeBool(obj.Get("strict"), p+".strict"); err != nil {
		return err
	}
	if params := obj.Get("parameters"); !jsonwire.IsNull(params) {
		if params[0] != '{' {
			return jsonwire.TypeError(p+".parameters", "an object", params)
		}
		t.Parameters = params
	}
	return nil
}

// decodeToolChoice decodes tool_choice: none, auto, required, or a named
// function. The choices of built-in tools and allowed_tools are refused like
// the tools themselves.
func decodeToolChoice(raw json.RawMessage) (*llm.ToolChoice, error) {
	const p = "tool_choice"
	if jsonwire.IsNull(raw) {
		return nil, nil
	}
	if raw[0] == '"' {
		mode, err := decodeEnum(raw, p, "none", "auto", "required")
		return &llm.ToolChoice{Mode: llm.ToolChoiceMode(mode)}, err
	}
	obj, err := jsonwire.DecodeObject(raw, p)
	if err != nil {
		return nil, jsonwire.TypeError(p, "a string or an object", raw)
	}
	typ, err := jsonwire.RequireString(obj, "type", p+".type")
	if err != nil {
		return nil, err
	}
	if typ != "function" {
		return nil, llm.InvalidRequest(p+".type", "tool_choice of type %q is not supported by this gateway for this model: choose none, auto, required or a function", llm.Clip(typ))
	}
	if err := checkKeys(obj, p, "type", "name"); err != nil {
		return nil, err
	}
	name, err := jsonwire.RequireString(obj, "name", p+".name")
	if err != nil {
		return nil, err
	}
	return &llm.ToolChoice{Mode: llm.ToolChoiceFunction, Name: name}, nil
}

// decodeText decodes text: format becomes the canonical response format;
// verbosity, which only OpenAI models take, is kept in Request.Echo.
func decodeText(raw json.RawMessage) (*llm.ResponseFormat, error) {
	const p = "text"
	if jsonwire.IsNull(raw) {
		return nil, nil
	}
	obj, err := jsonwire.DecodeObject(raw, p)
	if err != nil {
		return nil, err
	}
	if err := checkKeys(obj, p, "format", "verbosity"); err != nil {
		return nil, err
	}
	if _, err := decodeEnum(obj.Get("verbosity"), p+".verbosity", "low", "medium", "high"); err != nil {
		return nil, err
	}
	f := obj.Get("format")
	if jsonwire.IsNull(f) {
		return nil, nil
	}
	return decodeFormat(f, p+".format")
}

func decodeFormat(raw json.RawMessage, p string) (*llm.ResponseFormat, error) {
	obj, err := jsonwire.DecodeObject(raw, p)
	if err != nil {
		return nil, err
	}
	typ, err := jsonwire.RequireString(obj, "type", p+".type")
	if err != nil {
		return nil, err
	}
	switch typ {
	case "text", "json_object":
		return &llm.ResponseFormat{Type: typ}, checkKeys(obj, p, "type")
	case "json_schema":
	default:
		return nil, jsonwire.InvalidValue(p+".type", "%q is not one of text, json_object, json_schema", typ)
	}
	if err := checkKeys(obj, p, "type", "name", "schema", "strict", "description"); err != nil {
		return nil, err
	}
	s := &llm.JSONSchema{}
	if s.Name, err = jsonwire.RequireString(obj, "name", p+".name"); err != nil {
		return nil, err
	}
	if s.Description, err = jsonwire.DecodeString(obj.Get("description"), p+".description"); err != nil {
		return nil, err
	}
	if s.Strict, err = jsonwire.DecodeBool(obj.Get("strict"), p+".strict"); err != nil {
		return nil, err
	}
	schema := obj.Get("schema")
	if jsonwire.IsNull(schema) {
		return nil, jsonwire.Missing(p + ".schema")
	}
	if schema[0] != '{' {
		return nil, jsonwire.TypeError(p+".schema", "an object", schema)
	}
	s.Schema = schema
	return &llm.ResponseFormat{Type: typ, JSONSchema: s}, nil
}
