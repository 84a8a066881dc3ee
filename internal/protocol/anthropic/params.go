package anthropic

import (
	"fmt"
	"maps"
	"slices"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/openai"
)

// OpenAIParams is the policy for the fields of an OpenAI Chat Completions
// request that the Messages API has no equivalent for, when the request goes
// to an Anthropic upstream. Each applies when the field asks for something:
// n above 1, logprobs true, a penalty other than 0. Fields not listed here
// are translated (messages, tools, tool_choice, parallel_tool_calls,
// response_format json_schema, stop, max_tokens, max_completion_tokens,
// temperature, top_p, user, reasoning_effort as thinking, stream,
// stream_options); a field in neither list is dropped and named, as
// ParamDropped.
var OpenAIParams = []llm.ParamRule{
	{Name: "n", Policy: llm.ParamRefused, Why: "above 1: the client expects several choices"},
	{Name: "logprobs", Policy: llm.ParamRefused, Why: "true: the client expects log probabilities"},
	{Name: "top_logprobs", Policy: llm.ParamRefused, Why: "above 0: the client expects log probabilities"},
	{Name: "logit_bias", Policy: llm.ParamRefused, Why: "token ids of OpenAI's tokenizer, often to forbid or force tokens"},
	{Name: "audio", Policy: llm.ParamRefused, Why: "the client expects audio output"},
	{Name: "modalities", Policy: llm.ParamRefused, Why: "with \"audio\": the client expects audio output; [\"text\"] alone is dropped"},
	{Name: "functions", Policy: llm.ParamRefused, Why: "legacy function calling: the model would answer without the functions"},
	{Name: "function_call", Policy: llm.ParamRefused, Why: "legacy function calling"},
	{Name: "web_search_options", Policy: llm.ParamRefused, Why: "the client expects an answer grounded in a web search"},
	{Name: "presence_penalty", Policy: llm.ParamDropped, Why: "a sampling nudge"},
	{Name: "frequency_penalty", Policy: llm.ParamDropped, Why: "a sampling nudge"},
	{Name: "seed", Policy: llm.ParamDropped, Why: "best-effort determinism only, even at OpenAI"},
	{Name: "metadata", Policy: llm.ParamDropped, Why: "tags for OpenAI's stored completions"},
	{Name: "store", Policy: llm.ParamDropped, Why: "storage at OpenAI for evals and distillation"},
	{Name: "service_tier", Policy: llm.ParamDropped, Why: "capacity and billing tier of OpenAI's API"},
	{Name: "prediction", Policy: llm.ParamDropped, Why: "predicted output, a latency optimisation"},
	{Name: "verbosity", Policy: llm.ParamDropped, Why: "a length hint of OpenAI's reasoning models"},
	{Name: "prompt_cache_key", Policy: llm.ParamDropped, Why: "a routing hint of OpenAI's prompt cache"},
	{Name: "prompt_cache_retention", Policy: llm.ParamDropped, Why: "OpenAI's prompt cache lifetime"},
	{Name: "safety_identifier", Policy: llm.ParamDropped, Why: "an end-user id for OpenAI's abuse detection"},
	{Name: "messages[].content", Policy: llm.ParamRefused, Why: "parts with no equivalent (input_audio, file, ...) in the client's own messages: the model would answer without having seen them"},
	{Name: "response_format", Policy: llm.ParamDropped, Why: "type json_object only (json_schema is translated): OpenAI already requires the prompt to ask for JSON"},
}

// CheckParams returns the names of the fields of req that an Anthropic
// upstream does not receive, by OpenAIParams, or an error naming the first
// field to refuse instead: one of policy ParamRefused, or any when refuse is
// set (server.unsupported_params: refuse). Only requests that came in
// OpenAI's protocol are checked.
func CheckParams(req *llm.ChatRequest, refuse bool) ([]string, error) {
	if req.ExtraProtocol != openai.Protocol {
		return nil, nil
	}
	var dropped []string
	drop := func(name string) error {
		if refuse {
			return llm.InvalidRequest(name, "%s: the upstream of this model has no equivalent for this field", name)
		}
		dropped = append(dropped, name)
		return nil
	}
	refused := func(name string) error {
		return llm.InvalidRequest(name, "%s: the upstream of this model has no equivalent for this field, and the answer would mean something else without it", name)
	}
	if err := checkParts(req.Messages); err != nil {
		return nil, err
	}
	switch {
	case req.N != nil && *req.N > 1:
		return nil, refused("n")
	case req.Logprobs != nil && *req.Logprobs:
		return nil, refused("logprobs")
	case req.TopLogprobs != nil && *req.TopLogprobs > 0:
		return nil, refused("top_logprobs")
	case len(req.LogitBias) > 0:
		return nil, refused("logit_bias")
	}
	for _, f := range [...]struct {
		name string
		set  bool
	}{
		{"presence_penalty", req.PresencePenalty != nil && *req.PresencePenalty != 0},
		{"frequency_penalty", req.FrequencyPenalty != nil && *req.FrequencyPenalty != 0},
		{"seed", req.Seed != nil},
		{"metadata", len(req.Metadata) > 0},
		{"response_format", req.ResponseFormat != nil && req.ResponseFormat.Type == "json_object"},
	} {
		if f.set {
			if err := drop(f.name); err != nil {
				return nil, err
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(req.Extra)) {
		v := req.Extra[k]
		switch k {
		case "web_search_options":
			// {} asks for a web search with the default options.
			if gjson.ParseBytes(v).Type != gjson.Null {
				return nil, refused(k)
			}
			continue
		case "audio", "functions", "function_call":
			if !isNullish(v) {
				return nil, refused(k)
			}
			continue
		case "modalities":
			if slices.ContainsFunc(gjson.ParseBytes(v).Array(), func(m gjson.Result) bool { return m.Str == "audio" }) {
				return nil, refused(k)
			}
		}
		if isNullish(v) {
			continue // asks for nothing
		}
		if err := drop(k); err != nil {
			return nil, err
		}
	}
	return dropped, nil
}

// checkParts refuses content parts of another protocol in the client's own
// messages (files, input audio, ...): the model would answer without having
// seen them. The assistant's earlier turns are left as they are.
func checkParts(msgs []llm.Message) error {
	for i := range msgs {
		m := &msgs[i]
		if m.Role == llm.RoleAssistant || m.ExtraProtocol == Protocol {
			continue
		}
		for j := range m.Content {
			if p := &m.Content[j]; p.Type == llm.PartOther {
				return llm.InvalidRequest(fmt.Sprintf("messages[%d].content[%d]", i, j),
					"messages[%d].content[%d]: content part type %q has no equivalent at the upstream of this model",
					i, j, llm.Clip(gjson.GetBytes(p.Raw, "type").Str))
			}
		}
	}
	return nil
}

// isNullish reports whether a field's value asks for nothing: null, false,
// or an empty array or object.
func isNullish(v []byte) bool {
	r := gjson.ParseBytes(v)
	switch {
	case r.Type == gjson.Null, r.Type == gjson.False:
		return true
	case r.IsArray():
		return len(r.Array()) == 0
	case r.IsObject():
		return len(r.Map()) == 0
	}
	return false
}
