package cohere

import (
	"encoding/json"
	"maps"
	"slices"

	"github.com/llmgw/llmgw/internal/llm"
	protocol "github.com/llmgw/llmgw/internal/protocol/openai"
)

// Wire types of Cohere's v2 chat request (V2ChatRequest). Optional members
// are pointers or omitempty, so that Cohere receives only what was asked.
type wireRequest struct {
	Model            string        `json:"model"`
	Messages         []wireMessage `json:"messages"`
	Stream           bool          `json:"stream,omitempty"`
	Tools            []wireTool    `json:"tools,omitempty"`
	StrictTools      *bool         `json:"strict_tools,omitempty"`
	ToolChoice       string        `json:"tool_choice,omitempty"`
	ResponseFormat   *wireFormat   `json:"response_format,omitempty"`
	MaxTokens        *int          `json:"max_tokens,omitempty"`
	StopSequences    []string      `json:"stop_sequences,omitempty"`
	Temperature      *float64      `json:"temperature,omitempty"`
	Seed             *int64        `json:"seed,omitempty"`
	FrequencyPenalty *float64      `json:"frequency_penalty,omitempty"`
	PresencePenalty  *float64      `json:"presence_penalty,omitempty"`
	K                *int          `json:"k,omitempty"`
	P                *float64      `json:"p,omitempty"`
}

type wireMessage struct {
	Role       string         `json:"role"`
	Content    any            `json:"content,omitempty"`
	ToolCalls  []wireToolCall `json:"tool_calls,omitempty"`
	ToolPlan   string         `json:"tool_plan,omitempty"`
	ToolCallID string         `json:"tool_call_id,omitempty"`
}

type wirePart struct {
	Type     string        `json:"type"`
	Text     *string       `json:"text,omitempty"`
	ImageURL *wireImageURL `json:"image_url,omitempty"`
}

type wireImageURL struct {
	URL    string `json:"url"`
	Detail string `json:"detail,omitempty"`
}

type wireToolCall struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Function wireFunction `json:"function"`
}

type wireFunction struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

type wireTool struct {
	Type     string          `json:"type"`
	Function wireToolFuncDef `json:"function"`
}

type wireToolFuncDef struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters"`
}

type wireFormat struct {
	Type       string          `json:"type"`
	JSONSchema json.RawMessage `json:"json_schema,omitempty"`
}

// emptySchema is the parameters of a tool that declared none: Cohere's
// ToolV2Function requires the member.
var emptySchema = json.RawMessage(`{"type":"object","properties":{}}`)

// encode returns Cohere's chat request body for req and the names of the
// fields left out; req is not modified. With refuse set, a field that would
// be left out is an error naming it instead. A field whose absence would
// change what the client reads (n above 1, log probabilities) is refused
// whatever refuse says.
func encode(req *llm.ChatRequest, refuse bool) ([]byte, []string, error) {
	var dropped []string
	drop := func(name string) error {
		if refuse {
			return llm.InvalidRequest(name, "%s: the upstream of this model has no equivalent for this field", name)
		}
		dropped = append(dropped, name)
		return nil
	}
	switch {
	case req.N != nil && *req.N > 1:
		return nil, nil, llm.InvalidRequest("n", "n: the upstream of this model returns one choice")
	case req.Logprobs != nil && *req.Logprobs:
		return nil, nil, llm.InvalidRequest("logprobs", "logprobs: the upstream of this model returns no log probabilities in this protocol")
	case req.TopLogprobs != nil && *req.TopLogprobs > 0:
		return nil, nil, llm.InvalidRequest("top_logprobs", "top_logprobs: the upstream of this model returns no log probabilities in this protocol")
	}
	for _, f := range [...]struct {
		name string
		set  bool
	}{
		{"logit_bias", len(req.LogitBias) > 0},
		{"user", req.User != ""},
		{"metadata", len(req.Metadata) > 0},
		// Parallel calls cannot be turned off: an Anthropic client says so
		// with disable_parallel_tool_use, an OpenAI one with
		// parallel_tool_calls.
		{"disable_parallel_tool_use", req.ToolChoice != nil && req.ToolChoice.DisableParallel},
		{"parallel_tool_calls", req.ParallelToolCalls != nil && (req.ToolChoice == nil || !req.ToolChoice.DisableParallel)},
		{"reasoning_effort", req.ReasoningEffort != ""},
	} {
		if f.set {
			if err := drop(f.name); err != nil {
				return nil, nil, err
			}
		}
	}
	// An OpenAI client's members of its own protocol that the canonical
	// request does not know have no place in Cohere's schema.
	if req.ExtraProtocol == protocol.Protocol {
		for _, k := range slices.Sorted(maps.Keys(req.Extra)) {
			if err := drop(k); err != nil {
				return nil, nil, err
			}
		}
	}
	w := wireRequest{
		Model: req.Model, Stream: req.Stream,
		Temperature: req.Temperature, Seed: req.Seed, K: req.TopK, P: req.TopP,
		FrequencyPenalty: req.FrequencyPenalty, PresencePenalty: req.PresencePenalty,
		StopSequences: req.Stop,
	}
	if n := req.MaxOutputTokens(); n > 0 {
		w.MaxTokens = &n
	}
	msgs, err := messages(req.Messages)
	if err != nil {
		return nil, nil, err
	}
	w.Messages = msgs
	tools := req.Tools
	if tc := req.ToolChoice; tc != nil {
		switch tc.Mode {
		case llm.ToolChoiceNone:
			w.ToolChoice = "NONE"
		case llm.ToolChoiceRequired:
			w.ToolChoice = "REQUIRED"
		case llm.ToolChoiceFunction:
			// Cohere cannot name the function to call: it is required
			// to call one, and offered only that one.
			w.ToolChoice = "REQUIRED"
			tools = nil
			for _, t := range req.Tools {
				if t.Name == tc.Name {
					tools = append(tools, t)
				}
			}
			if len(tools) == 0 {
				return nil, nil, llm.InvalidRequest("tool_choice", "tool_choice: function %q is not among the tools", llm.Clip(tc.Name))
			}
		}
	}
	for i, t := range tools {
		if t.Type != "" && t.Type != "function" {
			return nil, nil, llm.InvalidRequest("tools", "tools[%d]: tool type %q has no equivalent at the upstream of this model", i, llm.Clip(t.Type))
		}
		params := t.Parameters
		if len(params) == 0 || string(params) == "null" {
			params = emptySchema
		}
		w.Tools = append(w.Tools, wireTool{Type: "function", Function: wireToolFuncDef{Name: t.Name, Description: t.Description, Parameters: params}})
		if t.Strict != nil && *t.Strict {
			w.StrictTools = t.Strict
		}
	}
	if rf := req.ResponseFormat; rf != nil {
		switch rf.Type {
		case "json_object":
			w.ResponseFormat = &wireFormat{Type: "json_object"}
		case "json_schema":
			w.ResponseFormat = &wireFormat{Type: "json_object"}
			if rf.JSONSchema != nil {
				w.ResponseFormat.JSONSchema = rf.JSONSchema.Schema
			}
		}
	}
	b, err := json.Marshal(&w)
	if err != nil {
		return nil, nil, llm.Wrap(llm.KindInvalidRequest, err, "the request cannot be encoded for the upstream")
	}
	return b, dropped, nil
}

// messages returns the conversation in Cohere's form: system and developer
// messages as system, user content as text and image_url parts, an
// assistant's calls as tool_calls with its reasoning as their tool_plan,
// and tool results as tool messages.
func messages(in []llm.Message) ([]wireMessage, error) {
	out := make([]wireMessage, 0, len(in))
	for i := range in {
		m := &in[i]
		switch m.Role {
		case llm.RoleSystem, llm.RoleDeveloper:
			out = append(out, wireMessage{Role: "system", Content: m.Text()})
		case llm.RoleUser:
			c, err := userContent(m.Content)
			if err != nil {
				return nil, llm.InvalidRequest("messages", "messages[%d]: %s", i, err.Error())
			}
			out = append(out, wireMessage{Role: "user", Content: c})
		case llm.RoleAssistant:
			w := wireMessage{Role: "assistant"}
			text := m.Text()
			if len(m.ToolCalls) > 0 {
				for _, tc := range m.ToolCalls {
					args := tc.Arguments
					if args == "" {
						args = "{}"
					}
					w.ToolCalls = append(w.ToolCalls, wireToolCall{ID: tc.ID, Type: "function", Function: wireFunction{Name: tc.Name, Arguments: args}})
				}
				w.ToolPlan = thinkingText(m.Content)
			}
			if text != "" {
				w.Content = text
			} else if len(w.ToolCalls) == 0 {
				// Cohere requires content or tool calls.
				w.Content = ""
			}
			out = append(out, w)
		case llm.RoleTool:
			out = append(out, wireMessage{Role: "tool", ToolCallID: m.ToolCallID, Content: m.Text()})
		default:
			return nil, llm.InvalidRequest("messages", "messages[%d]: role %q has no equivalent at the upstream of this model", i, llm.Clip(string(m.Role)))
		}
	}
	return out, nil
}

// userContent is a user message's content: a string when it is text only,
// else text and image_url parts.
func userContent(parts []llm.Part) (any, error) {
	images := false
	for _, p := range parts {
		switch p.Type {
		case llm.PartImage:
			images = true
		case llm.PartText:
		default:
			return nil, errPart(p.Type)
		}
	}
	if !images {
		m := llm.Message{Content: parts}
		return m.Text(), nil
	}
	out := make([]wirePart, 0, len(parts))
	for _, p := range parts {
		if p.Type == llm.PartText {
			out = append(out, wirePart{Type: "text", Text: &p.Text})
			continue
		}
		if p.Image == nil {
			return nil, errPart(p.Type)
		}
		u := p.Image.URL
		if u == "" {
			u = "data:" + p.Image.MediaType + ";base64," + p.Image.Data
		}
		out = append(out, wirePart{Type: "image_url", ImageURL: &wireImageURL{URL: u, Detail: p.Image.Detail}})
	}
	return out, nil
}

type partError llm.PartType

func (e partError) Error() string {
	return "content part of type " + llm.Clip(string(e)) + " has no equivalent at the upstream of this model"
}

func errPart(t llm.PartType) error { return partError(t) }

// thinkingText returns the text of the thinking parts of content.
func thinkingText(content []llm.Part) string {
	var s string
	for _, p := range content {
		if p.Type == llm.PartThinking {
			s += p.Text
		}
	}
	return s
}
