package openai

import (
	"maps"
	"slices"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/llm"
)

// AnthropicParams is the policy for the fields of an Anthropic Messages
// request that Chat Completions has no equivalent for, when the request goes
// to an OpenAI upstream. Fields of the Messages API not listed here are
// translated (model, messages, system, max_tokens, stop_sequences,
// temperature, top_p, top_k, tools, tool_choice, metadata.user_id as user,
// output_config and output_format as response_format, thinking as
// reasoning_effort toward reasoning models); a field in neither list is
// dropped and named, as ParamDropped.
var AnthropicParams = []llm.ParamRule{
	{Name: "thread", Policy: llm.ParamRefused, Why: "type continue: the conversation is held by Anthropic's server, and the request carries only the new turn. Refused with 404 not_found_error, the answer Anthropic gives to a thread it cannot continue, on which the Anthropic SDKs send the whole conversation again with type create. Type create carries the whole conversation: dropped"},
	{Name: "thinking", Policy: llm.ParamDropped, Why: "toward a model that is not an OpenAI reasoning model: it answers without extended thinking (reasoning models get reasoning_effort)"},
	{Name: "tools", Policy: llm.ParamRefused, Why: "server tools and Anthropic-defined tools (web search, code execution, bash, text editor, computer use, ...): the model would answer without them"},
	{Name: "messages[].content", Policy: llm.ParamRefused, Why: "blocks with no equivalent (document, search_result, ...) in the client's own turns: the model would answer without having seen them. Those of earlier assistant turns (server tool calls and results) are history, left out"},
	{Name: "mcp_servers", Policy: llm.ParamRefused, Why: "the tools of MCP servers the model would call"},
	{Name: "container", Policy: llm.ParamDropped, Why: "only used by code execution tools, refused themselves"},
	{Name: "context_management", Policy: llm.ParamDropped, Why: "server-side clearing of old tool results and thinking; the upstream sees the whole context"},
	{Name: "service_tier", Policy: llm.ParamDropped, Why: "capacity and billing tier of Anthropic's API"},
	{Name: "inference_geo", Policy: llm.ParamDropped, Why: "where Anthropic runs the model; the operator chose this upstream"},
	{Name: "cache_control", Policy: llm.ParamDropped, Why: "automatic prompt caching; OpenAI caches prompts on its own"},
	{Name: "fallbacks", Policy: llm.ParamDropped, Why: "Anthropic's server-side model fallbacks; the gateway has its own"},
}

// CheckParams returns the names of the fields of req that an OpenAI
// upstream does not receive, by AnthropicParams; thinkingSent reports
// whether req.Thinking goes upstream as reasoning_effort. It returns an
// error naming the first field to refuse instead: one of policy
// ParamRefused, or any when refuse is set (server.unsupported_params:
// refuse). Only requests that came in Anthropic's protocol are checked:
// those in this protocol lose nothing.
func CheckParams(req *llm.ChatRequest, thinkingSent, refuse bool) ([]string, error) {
	if req.ExtraProtocol != anthropicProtocol {
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
	for i := range req.Tools {
		if t := &req.Tools[i]; t.Type != "" && t.Type != "function" {
			return nil, llm.InvalidRequest("tools", "tools[%d]: tool type %q has no equivalent at the upstream of this model", i, llm.Clip(t.Type))
		}
	}
	if err := checkBlocks(req.Messages); err != nil {
		return nil, err
	}
	if thinkingOn(req.Thinking) && !thinkingSent {
		if err := drop("thinking"); err != nil {
			return nil, err
		}
	}
	for _, k := range slices.Sorted(maps.Keys(req.Extra)) {
		switch k {
		case "output_config", "output_format":
			continue // translated as response_format
		case "thread":
			if gjson.GetBytes(req.Extra[k], "type").Str != "create" {
				return nil, threadRefused()
			}
		case "mcp_servers":
			return nil, llm.InvalidRequest(k, "%s: the upstream of this model cannot call MCP servers", k)
		}
		if err := drop(k); err != nil {
			return nil, err
		}
	}
	return dropped, nil
}

// checkBlocks refuses content blocks of another protocol that a client's
// own turns carry (documents, search results, ...): the model would answer
// without having seen them. Blocks of the assistant's own earlier turns
// (server tool calls and results) are history the next answer does not
// depend on, and are left out as before.
func checkBlocks(msgs []llm.Message) error {
	for i := range msgs {
		m := &msgs[i]
		if m.Role == llm.RoleAssistant || m.ExtraProtocol == Protocol {
			continue
		}
		for j := range m.Content {
			if p := &m.Content[j]; p.Type == llm.PartOther {
				return llm.InvalidRequest("messages", "messages: content block type %q has no equivalent at the upstream of this model",
					llm.Clip(gjson.GetBytes(p.Raw, "type").Str))
			}
		}
	}
	return nil
}

// anthropicProtocol is the ExtraProtocol of requests decoded from
// Anthropic's Messages API (anthropic.Protocol, which imports this package).
const anthropicProtocol = "anthropic"

// threadRefused is the answer to a request that continues a message
// thread: Anthropic's own answer to a thread it cannot continue, a 404
// not_found_error, on which the Anthropic SDKs replay the whole
// conversation as a new thread (type create), which the gateway can serve.
func threadRefused() error {
	return &llm.Error{Kind: llm.KindNotFound, Param: "thread",
		Message: "thread: this model's upstream cannot continue a message thread; send the whole conversation (thread type create, or no thread)"}
}

// thinkingOn reports whether an extended thinking setting asks for
// thinking: enabled or adaptive, not disabled.
func thinkingOn(raw []byte) bool {
	if len(raw) == 0 {
		return false
	}
	t := gjson.GetBytes(raw, "type").Str
	return t != "" && t != "disabled"
}
