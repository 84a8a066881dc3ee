package openai

import (
	"encoding/json"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
)

// Protocol names the OpenAI wire format in llm.Chunk.RawProtocol and
// llm.EmbedResponse.RawProtocol.
const Protocol = "openai"

// DecodeChatRequest decodes a Chat Completions request body. Fields the
// canonical model does not know go to ChatRequest.Extra and Message.Extra.
// Every failure is an *llm.Error of kind InvalidRequest whose Param is the
// JSON path of the offending field.
func DecodeChatRequest(body []byte) (*llm.ChatRequest, error) {
	if err := jsonwire.CheckBody(body); err != nil {
		return nil, err
	}
	return DecodeCheckedChatRequest(body)
}

// DecodeCheckedChatRequest is DecodeChatRequest for a body that has passed
// jsonwire.CheckBody already, which it does not walk again.
func DecodeCheckedChatRequest(body []byte) (*llm.ChatRequest, error) {
	body, err := jsonwire.OwnCheckedBody(body)
	if err != nil {
		return nil, err
	}
	obj := jsonwire.SplitObject(body)
	req := &llm.ChatRequest{ExtraProtocol: Protocol}
	if req.Model, err = jsonwire.RequireString(obj, "model", "model"); err != nil {
		return nil, err
	}
	if req.Messages, err = decodeMessages(obj.Get("messages")); err != nil {
		return nil, err
	}
	for _, m := range obj {
		known, err := decodeRequestField(req, string(m.Key), m.Val)
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
func decodeRequestField(req *llm.ChatRequest, key string, raw json.RawMessage) (bool, error) {
	var err error
	switch key {
	case "model", "messages":
	case "tools":
		req.Tools, err = decodeTools(raw)
	case "tool_choice":
		if req.ToolChoice, err = decodeToolChoice(raw); err == nil && req.ToolChoice == nil && !jsonwire.IsNull(raw) {
			return false, nil // a valid choice the canonical model cannot hold
		}
	case "parallel_tool_calls":
		req.ParallelToolCalls, err = jsonwire.DecodeBool(raw, key)
	case "response_format":
		req.ResponseFormat, err = decodeResponseFormat(raw)
	case "stop":
		req.Stop, err = decodeStop(raw)
	case "logit_bias":
		req.LogitBias, err = decodeLogitBias(raw)
	case "metadata":
		req.Metadata, err = decodeMetadata(raw)
	case "user":
		req.User, err = jsonwire.DecodeString(raw, key)
	case "reasoning_effort":
		req.ReasoningEffort, err = jsonwire.DecodeString(raw, key)
	case "stream":
		var v *bool
		v, err = jsonwire.DecodeBool(raw, key)
		req.Stream = v != nil && *v
	case "stream_options":
		req.IncludeUsage, err = decodeStreamOptions(raw)
	default:
		return decodeSamplingField(req, key, raw)
	}
	return true, err
}

// decodeSamplingField decodes the numeric generation parameters.
func decodeSamplingField(req *llm.ChatRequest, key string, raw json.RawMessage) (bool, error) {
	var err error
	switch key {
	case "max_tokens":
		req.MaxTokens, err = jsonwire.DecodeInt(raw, key, 1)
	case "max_completion_tokens":
		req.MaxCompletionTokens, err = jsonwire.DecodeInt(raw, key, 1)
	case "temperature":
		req.Temperature, err = jsonwire.DecodeFloatIn(raw, key, 0, 2)
	case "top_p":
		req.TopP, err = jsonwire.DecodeFloatIn(raw, key, 0, 1)
	case "top_k":
		req.TopK, err = jsonwire.DecodeInt(raw, key, 0)
	case "presence_penalty":
		req.PresencePenalty, err = jsonwire.DecodeFloatIn(raw, key, -2, 2)
	case "frequency_penalty":
		req.FrequencyPenalty, err = jsonwire.DecodeFloatIn(raw, key, -2, 2)
	case "seed":
		req.Seed, err = jsonwire.DecodeInt64(raw, key)
	case "n":
		req.N, err = jsonwire.DecodeInt(raw, key, 1)
	case "logprobs":
		req.Logprobs, err = jsonwire.DecodeBool(raw, key)
	case "top_logprobs":
		if req.TopLogprobs, err = jsonwire.DecodeInt(raw, key, 0); err == nil && req.TopLogprobs != nil && *req.TopLogprobs > 20 {
			err = jsonwire.InvalidValue(key, "%d is greater than the maximum of 20", *req.TopLogprobs)
		}
	default:
		return false, nil
	}
	return true, err
}

func decodeStop(raw json.RawMessage) ([]string, error) {
	if jsonwire.IsNull(raw) {
		return nil, nil
	}
	if raw[0] == '"' {
		s, err := jsonwire.DecodeString(raw, "stop")
		return []string{s}, err
	}
	arr, err := jsonwire.DecodeArray(raw, "stop")
	if err != nil {
		return nil, jsonwire.TypeError("stop", "a string or an array of strings", raw)
	}
	if len(arr) == 0 {
		return nil, nil
	}
	stop := make([]string, len(arr))
	for i, r := range arr {
		s, ok := jsonwire.Unquote(r)
		if !ok {
			return nil, jsonwire.TypeError(jsonwire.Elem("stop", i), "a string", r)
		}
		stop[i] = s
	}
	return stop, nil
}

func decodeLogitBias(raw json.RawMessage) (map[string]float64, error) {
	if jsonwire.IsNull(raw) {
		return nil, nil
	}
	obj, err := jsonwire.DecodeObject(raw, "logit_bias")
	if err != nil {
		return nil, err
	}
	m := make(map[string]float64, len(obj))
	for _, mem := range obj {
		k, v := string(mem.Key), mem.Val
		f, err := jsonwire.DecodeFloatIn(v, "logit_bias."+k, -100, 100)
		if err != nil {
			return nil, err
		}
		if f == nil {
			return nil, jsonwire.TypeError("logit_bias."+k, "a number", v)
		}
		m[k] = *f
	}
	return m, nil
}

func decodeMetadata(raw json.RawMessage) (map[string]string, error) {
	if jsonwire.IsNull(raw) {
		return nil, nil
	}
	obj, err := jsonwire.DecodeObject(raw, "metadata")
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(obj))
	for _, mem := range obj {
		k, v := string(mem.Key), mem.Val
		s, ok := jsonwire.Unquote(v)
		if !ok {
			return nil, jsonwire.TypeError("metadata."+k, "a string", v)
		}
		m[k] = s
	}
	return m, nil
}

func decodeStreamOptions(raw json.RawMessage) (bool, error) {
	if jsonwire.IsNull(raw) {
		return false, nil
	}
	obj, err := jsonwire.DecodeObject(raw, "stream_options")
	if err != nil {
		return false, err
	}
	v, err := jsonwire.DecodeBool(obj.Get("include_usage"), "stream_options.include_usage")
	return v != nil && *v, err
}

func decodeResponseFormat(raw json.RawMessage) (*llm.ResponseFormat, error) {
	if jsonwire.IsNull(raw) {
		return nil, nil
	}
	obj, err := jsonwire.DecodeObject(raw, "response_format")
	if err != nil {
		return nil, err
	}
	typ, err := jsonwire.RequireString(obj, "type", "response_format.type")
	if err != nil {
		return nil, err
	}
	rf := &llm.ResponseFormat{Type: typ}
	switch typ {
	case "text", "json_object":
		return rf, nil
	case "json_schema":
	default:
		return nil, jsonwire.InvalidValue("response_format.type", "%q is not one of text, json_object, json_schema", typ)
	}
	const p = "response_format.json_schema"
	js := obj.Get("json_schema")
	if jsonwire.IsNull(js) {
		return nil, jsonwire.Missing(p)
	}
	sobj, err := jsonwire.DecodeObject(js, p)
	if err != nil {
		return nil, err
	}
	s := &llm.JSONSchema{}
	if s.Name, err = jsonwire.RequireString(sobj, "name", p+".name"); err != nil {
		return nil, err
	}
	if s.Description, err = jsonwire.DecodeString(sobj.Get("description"), p+".description"); err != nil {
		return nil, err
	}
	if s.Strict, err = jsonwire.DecodeBool(sobj.Get("strict"), p+".strict"); err != nil {
		return nil, err
	}
	if schema := sobj.Get("schema"); !jsonwire.IsNull(schema) {
		if schema[0] != '{' {
			return nil, jsonwire.TypeError(p+".schema", "an object", schema)
		}
		s.Schema = schema
	}
	rf.JSONSchema = s
	return rf, nil
}
