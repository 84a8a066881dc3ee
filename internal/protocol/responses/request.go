package responses

import (
	"encoding/json"
	"slices"
	"unicode/utf8"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
)

// Reference limits on metadata (the Metadata schema).
const (
	maxMetadataPairs    = 16
	maxMetadataKeyLen   = 64
	maxMetadataValueLen = 512
	// minMaxOutputTokens is the smallest max_output_tokens the reference
	// accepts.
	minMaxOutputTokens = 16
	// maxSafetyIdentifierLen is the reference's limit on safety_identifier.
	maxSafetyIdentifierLen = 64
)

// Include values that change what this package writes; the other values of
// the reference's IncludeEnum ask for the output of built-in tools, which the
// gateway does not serve, and are accepted without effect.
const (
	IncludeReasoningEncrypted = "reasoning.encrypted_content"
	IncludeOutputLogprobs     = "message.output_text.logprobs"
)

var includeValues = []string{
	"file_search_call.results",
	"web_search_call.results",
	"web_search_call.action.sources",
	"message.input_image.image_url",
	"computer_call_output.output.image_url",
	"code_interpreter_call.outputs",
	IncludeReasoningEncrypted,
	IncludeOutputLogprobs,
}

// DecodeRequest decodes a create-response body (POST /v1/responses) for
// translation to any upstream. It is strict: an unknown top-level field, an
// input item or tool of a type the gateway cannot translate, or a feature it
// does not serve (background, conversation, prompt) is refused with an
// *llm.Error of kind InvalidRequest whose Param names the field. A body that
// is not valid JSON, nests too deeply, repeats a key (jsonwire.CheckBody) or
// holds invalid UTF-8 is refused the same way.
//
// item_reference input items are refused too: the server resolves stored
// items (and previous_response_id) into their content before the body
// reaches this function.
func DecodeRequest(body []byte) (*Request, error) {
	if err := jsonwire.CheckBody(body); err != nil {
		return nil, err
	}
	// The response object repeats request fields as sent: a string that is
	// not UTF-8 would make it invalid JSON text, so it is refused here
	// rather than replaced in some places and echoed in others.
	if !utf8.Valid(body) {
		return nil, llm.InvalidRequest("", "invalid JSON: the request body is not valid UTF-8")
	}
	body, err := jsonwire.OwnCheckedBody(body)
	if err != nil {
		return nil, err
	}
	obj := jsonwire.SplitObject(body)
	chat := &llm.ChatRequest{ExtraProtocol: Protocol}
	req := &Request{Chat: chat, Store: true, Echo: make(map[string]json.RawMessage)}
	if chat.Model, err = jsonwire.RequireString(obj, "model", "model"); err != nil {
		return nil, err
	}
	for _, m := range obj {
		if err := decodeField(req, string(m.Key), m.Val); err != nil {
			return nil, err
		}
	}
	if err := decodeInstructions(req, obj.Get("instructions")); err != nil {
		return nil, err
	}
	input, msgs, err := decodeInput(obj.Get("input"))
	if err != nil {
		return nil, err
	}
	req.Input = input
	chat.Messages = append(chat.Messages, msgs...)
	if slices.Contains(req.Include, IncludeOutputLogprobs) {
		v := true
		chat.Logprobs = &v
	}
	return req, nil
}

// echoed lists the fields a response object repeats, kept in Request.Echo.
func echoed(key string) bool {
	switch key {
	case "model", "tools", "tool_choice", "text", "reasoning", "temperature", "top_p",
		"max_output_tokens", "max_tool_calls", "metadata", "parallel_tool_calls", "user",
		"safety_identifier", "prompt_cache_key", "prompt_cache_retention", "service_tier",
		"top_logprobs", "background":
		return true
	}
	return false
}

// decodeField decodes one top-level member.
func decodeField(req *Request, key string, raw json.RawMessage) error {
	if echoed(key) && !jsonwire.IsNull(raw) {
		req.Echo[key] = raw
	}
	chat := req.Chat
	var err error
	switch key {
	case "model", "input", "instructions":
		// Decoded in order by DecodeRequest.
	case "tools":
		chat.Tools, err = decodeTools(raw)
	case "tool_choice":
		chat.ToolChoice, err = decodeToolChoice(raw)
	case "parallel_tool_calls":
		chat.ParallelToolCalls, err = jsonwire.DecodeBool(raw, key)
	case "text":
		chat.ResponseFormat, err = decodeText(raw)
	case "reasoning":
		chat.ReasoningEffort, err = decodeReasoning(raw)
	case "metadata":
		chat.Metadata, err = decodeMetadata(raw)
	case "include":
		req.Include, err = decodeInclude(raw)
	case "truncation":
		req.Truncation, err = decodeEnum(raw, key, "auto", "disabled")
	case "store":
		var v *bool
		v, err = jsonwire.DecodeBool(raw, key)
		req.Store = v == nil || *v
	case "previous_response_id":
		req.PreviousResponseID, err = jsonwire.DecodeString(raw, key)
	case "stream":
		var v *bool
		v, err = jsonwire.DecodeBool(raw, key)
		chat.Stream = v != nil && *v
	case "stream_options":
		err = decodeStreamOptions(raw)
	default:
		return decodeScalarField(req, key, raw)
	}
	return err
}

// decodeScalarField decodes the numeric and string parameters, and refuses
// the features the gateway does not serve and fields it does not know.
func decodeScalarField(req *Request, key string, raw json.RawMessage) error {
	chat := req.Chat
	var err error
	switch key {
	case "max_output_tokens":
		chat.MaxCompletionTokens, err = jsonwire.DecodeInt(raw, key, minMaxOutputTokens)
	case "temperature":
		chat.Temperature, err = jsonwire.DecodeFloatIn(raw, key, 0, 2)
	case "top_p":
		chat.TopP, err = jsonwire.DecodeFloatIn(raw, key, 0, 1)
	case "top_logprobs":
		if chat.TopLogprobs, err = jsonwire.DecodeInt(raw, key, 0); err == nil && chat.TopLogprobs != nil && *chat.TopLogprobs > 20 {
			err = jsonwire.InvalidValue(key, "%d is greater than the maximum of 20", *chat.TopLogprobs)
		}
	case "max_tool_calls":
		// It bounds calls of built-in tools, which the gateway does not
		// serve; function calls are the client's to run.
		_, err = jsonwire.DecodeInt(raw, key, 1)
	case "user":
		chat.User, err = jsonwire.DecodeString(raw, key)
	case "safety_identifier":
		var s string
		if s, err = jsonwire.DecodeString(raw, key); err == nil && len(s) > maxSafetyIdentifierLen {
			err = jsonwire.InvalidValue(key, "longer than the maximum of %d characters", maxSafetyIdentifierLen)
		}
	case "prompt_cache_key":
		_, err = jsonwire.DecodeString(raw, key)
	case "prompt_cache_retention":
		_, err = decodeEnum(raw, key, "in-memory", "24h")
	case "service_tier":
		_, err = decodeEnum(raw, key, "auto", "default", "flex", "scale", "priority")
	case "background":
		var v *bool
		if v, err = jsonwire.DecodeBool(raw, key); err == nil && v != nil && *v {
			err = llm.InvalidRequest(key, "background responses are not supported by this gateway; send the request without background")
		}
	case "conversation":
		if !jsonwire.IsNull(raw) {
			err = llm.InvalidRequest(key, "conversations are not supported by this gateway; continue a conversation with previous_response_id instead")
		}
	case "prompt":
		if !jsonwire.IsNull(raw) {
			err = llm.InvalidRequest(key, "prompt templates are not supported by this gateway; send the instructions and input themselves")
		}
	default:
		err = llm.InvalidRequest(key, "unrecognized request argument supplied: %s", llm.Clip(key))
	}
	return err
}

// decodeInstructions makes the instructions the leading developer message.
func decodeInstructions(req *Request, raw json.RawMessage) error {
	s, err := jsonwire.DecodeString(raw, "instructions")
	if err != nil || s == "" {
		return err
	}
	req.Instructions = s
	req.Chat.Messages = append(req.Chat.Messages, llm.Message{Role: llm.RoleDeveloper, Content: []llm.Part{llm.TextPart(s)}})
	return nil
}

// decodeEnum decodes a string that must be one of values; null gives "".
func decodeEnum(raw json.RawMessage, param string, values ...string) (string, error) {
	s, err := jsonwire.DecodeString(raw, param)
	if err != nil || jsonwire.IsNull(raw) {
		return "", err
	}
	if !slices.Contains(values, s) {
		return "", jsonwire.InvalidValue(param, "%q is not one of %s", s, joinValues(values))
	}
	return s, nil
}

func joinValues(values []string) string {
	var b []byte
	for i, v := range values {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, v...)
	}
	return string(b)
}

func decodeReasoning(raw json.RawMessage) (string, error) {
	const p = "reasoning"
	if jsonwire.IsNull(raw) {
		return "", nil
	}
	obj, err := jsonwire.DecodeObject(raw, p)
	if err != nil {
		return "", err
	}
	var effort string
	for _, m := range obj {
		switch k := string(m.Key); k {
		case "effort":
			effort, err = decodeEnum(m.Val, p+".effort", "none", "minimal", "low", "medium", "high", "xhigh")
		case "summary", "generate_summary":
			_, err = decodeEnum(m.Val, p+"."+k, "auto", "concise", "detailed")
		default:
			err = llm.InvalidRequest(p+"."+k, "unrecognized argument supplied: %s.%s", p, llm.Clip(k))
		}
		if err != nil {
			return "", err
		}
	}
	return effort, nil
}

func decodeMetadata(raw json.RawMessage) (map[string]string, error) {
	const p = "metadata"
	if jsonwire.IsNull(raw) {
		return nil, nil
	}
	obj, err := jsonwire.DecodeObject(raw, p)
	if err != nil {
		return nil, err
	}
	if len(obj) > maxMetadataPairs {
		return nil, jsonwire.InvalidValue(p, "%d pairs are more than the maximum of %d", len(obj), maxMetadataPairs)
	}
	m := make(map[string]string, len(obj))
	for _, mem := range obj {
		k := string(mem.Key)
		if len(k) > maxMetadataKeyLen {
			return nil, jsonwire.InvalidValue(p, "a key is longer than the maximum of %d characters", maxMetadataKeyLen)
		}
		s, ok := jsonwire.Unquote(mem.Val)
		if !ok {
			return nil, jsonwire.TypeError(p+"."+k, "a string", mem.Val)
		}
		if len(s) > maxMetadataValueLen {
			return nil, jsonwire.InvalidValue(p+"."+k, "the value is longer than the maximum of %d characters", maxMetadataValueLen)
		}
		m[k] = s
	}
	return m, nil
}

func decodeInclude(raw json.RawMessage) ([]string, error) {
	const p = "include"
	if jsonwire.IsNull(raw) {
		return nil, nil
	}
	arr, err := jsonwire.DecodeArray(raw, p)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(arr))
	for i, r := range arr {
		s, err := decodeEnum(r, jsonwire.Elem(p, i), includeValues...)
		if err != nil {
			return nil, err
		}
		if s == "" {
			return nil, jsonwire.TypeError(jsonwire.Elem(p, i), "a string", r)
		}
		out = append(out, s)
	}
	return out, nil
}

// decodeStreamOptions checks stream_options. Its one option,
// include_obfuscation, pads delta events against length side channels; the
// gateway's events carry no padding whatever the client asks.
func decodeStreamOptions(raw json.RawMessage) error {
	const p = "stream_options"
	if jsonwire.IsNull(raw) {
		return nil
	}
	obj, err := jsonwire.DecodeObject(raw, p)
	if err != nil {
		return err
	}
	for _, m := range obj {
		if string(m.Key) != "include_obfuscation" {
			return llm.InvalidRequest(p+"."+string(m.Key), "unrecognized argument supplied: %s.%s", p, llm.Clip(string(m.Key)))
		}
		if _, err := jsonwire.DecodeBool(m.Val, p+".include_obfuscation"); err != nil {
			return err
		}
	}
	return nil
}
