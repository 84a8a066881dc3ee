package ollama

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/llm"
	protocol "github.com/llmgw/llmgw/internal/protocol/openai"
)

// wireRequest is the body of POST /api/chat.
type wireRequest struct {
	Model     string          `json:"model"`
	Messages  []wireMessage   `json:"messages"`
	Tools     []wireTool      `json:"tools,omitempty"`
	Format    json.RawMessage `json:"format,omitempty"`
	Options   map[string]any  `json:"options,omitempty"`
	Stream    bool            `json:"stream"`
	Think     json.RawMessage `json:"think,omitempty"`
	KeepAlive json.RawMessage `json:"keep_alive,omitempty"`
}

type wireMessage struct {
	Role      string         `json:"role"`
	Content   string         `json:"content"`
	Thinking  string         `json:"thinking,omitempty"`
	Images    []string       `json:"images,omitempty"`
	ToolCalls []wireToolCall `json:"tool_calls,omitempty"`
	ToolName  string         `json:"tool_name,omitempty"`
}

type wireToolCall struct {
	ID       string       `json:"id,omitempty"`
	Function wireFunction `json:"function"`
}

type wireFunction struct {
	Index     *int            `json:"index,omitempty"`
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

type wireTool struct {
	Type     string      `json:"type"`
	Function wireToolDef `json:"function"`
}

type wireToolDef struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
}

// encodeChat encodes req as the body of POST /api/chat. It returns the
// names of the fields left out because Ollama has no equivalent, or an
// error naming the first of them when refuse is set
// (server.unsupported_params: refuse), and an invalid request error for
// what Ollama cannot be sent at all. mode says how think is sent.
func encodeChat(req *llm.ChatRequest, refuse bool, mode thinkMode) ([]byte, []string, error) {
	thinking := mode.apply(thinkingOf(req))
	dropped, err := protocol.CheckParams(req, thinking != nil, refuse)
	if err != nil {
		return nil, nil, err
	}
	drop := func(name string) error {
		if refuse {
			return llm.InvalidRequest(name, "%s: the upstream of this model has no equivalent for this field", name)
		}
		dropped = append(dropped, name)
		return nil
	}
	w := wireRequest{Model: req.Model, Stream: req.Stream, Think: thinking}
	if w.Messages, err = encodeMessages(req.Messages); err != nil {
		return nil, nil, err
	}
	if req.N != nil && *req.N > 1 {
		return nil, nil, llm.InvalidRequest("n", "n: the upstream of this model answers with one choice only")
	}
	opts := map[string]any{}
	setF := func(k string, v *float64) {
		if v != nil {
			opts[k] = *v
		}
	}
	setF("temperature", req.Temperature)
	setF("top_p", req.TopP)
	setF("presence_penalty", req.PresencePenalty)
	setF("frequency_penalty", req.FrequencyPenalty)
	if req.TopK != nil {
		opts["top_k"] = *req.TopK
	}
	if req.Seed != nil {
		opts["seed"] = *req.Seed
	}
	if n := req.MaxOutputTokens(); n > 0 {
		opts["num_predict"] = n
	}
	if len(req.Stop) > 0 {
		opts["stop"] = req.Stop
	}
	toolsOff := req.ToolChoice != nil && req.ToolChoice.Mode == llm.ToolChoiceNone
	for i := range req.Tools {
		t := &req.Tools[i]
		if t.Type != "" && t.Type != "function" {
			return nil, nil, llm.InvalidRequest("tools", "tools[%d]: tool type %q has no equivalent at the upstream of this model", i, llm.Clip(t.Type))
		}
		if !toolsOff {
			w.Tools = append(w.Tools, wireTool{Type: "function", Function: wireToolDef{Name: t.Name, Description: t.Description, Parameters: t.Parameters}})
		}
	}
	if tc := req.ToolChoice; tc != nil && (tc.Mode == llm.ToolChoiceRequired || tc.Mode == llm.ToolChoiceFunction) {
		// Ollama has no tool_choice: the model may answer without a call.
		if err := drop("tool_choice"); err != nil {
			return nil, nil, err
		}
	}
	if rf := req.ResponseFormat; rf != nil {
		switch rf.Type {
		case "json_object":
			w.Format = json.RawMessage(`"json"`)
		case "json_schema":
			if rf.JSONSchema != nil && len(rf.JSONSchema.Schema) > 0 {
				w.Format = rf.JSONSchema.Schema
			} else {
				w.Format = json.RawMessage(`"json"`)
			}
		}
	}
	checks := []struct {
		name string
		set  bool
	}{
		{"logit_bias", len(req.LogitBias) > 0},
		{"logprobs", req.Logprobs != nil && *req.Logprobs},
		{"top_logprobs", req.TopLogprobs != nil},
		{"user", req.User != ""},
		{"parallel_tool_calls", req.ParallelToolCalls != nil},
		{"metadata", len(req.Metadata) > 0},
	}
	for _, c := range checks {
		if c.set {
			if err := drop(c.name); err != nil {
				return nil, nil, err
			}
		}
	}
	if req.ReasoningEffort != "" && thinking == nil && mode != thinkOff {
		if err := drop("reasoning_effort"); err != nil {
			return nil, nil, err
		}
	}
	if req.ExtraProtocol != "anthropic" {
		for _, k := range slices.Sorted(maps.Keys(req.Extra)) {
			v := req.Extra[k]
			switch k {
			case "keep_alive":
				w.KeepAlive = v
				continue
			case "think":
				if mode == thinkOff {
					continue // refused by the model: reported by the caller
				}
				if w.Think == nil {
					w.Think = mode.apply(v)
					continue
				}
			case "options":
				// The client's Ollama options, under those translated.
				var o map[string]json.RawMessage
				if json.Unmarshal(v, &o) == nil && o != nil {
					for ok, ov := range o {
						if _, set := opts[ok]; !set {
							opts[ok] = ov
						}
					}
					continue
				}
			}
			if err := drop(k); err != nil {
				return nil, nil, err
			}
		}
	}
	if len(opts) > 0 {
		w.Options = opts
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&w); err != nil {
		return nil, nil, fmt.Errorf("ollama: encode request: %w", err)
	}
	return bytes.TrimRight(b.Bytes(), "\n"), dropped, nil
}

// thinkMode is how think is sent.
type thinkMode int

const (
	// thinkAsAsked sends the level asked for, or true or false.
	thinkAsAsked thinkMode = iota
	// thinkOn sends a level as true: the model thinks without levels.
	thinkOn
	// thinkOff sends no think: the model does not think.
	thinkOff
)

// apply returns the value of think to send for v in mode m.
func (m thinkMode) apply(v json.RawMessage) json.RawMessage {
	switch {
	case len(v) == 0, m == thinkAsAsked:
		return v
	case m == thinkOff:
		return nil
	case v[0] == '"':
		return json.RawMessage(`true`)
	}
	return v
}

// thinkingOf returns the value of think for req, nil for none: an
// Anthropic thinking setting enabled or disabled, or a reasoning effort.
// Ollama takes true or false, and "low", "medium" or "high" for the models
// that have levels (gpt-oss).
func thinkingOf(req *llm.ChatRequest) json.RawMessage {
	switch gjson.GetBytes(req.Thinking, "type").Str {
	case "enabled", "adaptive":
		if e := protocol.ReasoningEffortFor(req.Thinking); e != "" {
			return json.RawMessage(`"` + e + `"`)
		}
		return json.RawMessage(`true`)
	case "disabled":
		return json.RawMessage(`false`)
	}
	switch req.ReasoningEffort {
	case "none":
		return json.RawMessage(`false`)
	case "minimal", "low":
		return json.RawMessage(`"low"`)
	case "medium", "high":
		return json.RawMessage(`"` + req.ReasoningEffort + `"`)
	case "xhigh":
		return json.RawMessage(`"high"`)
	}
	return nil
}

// encodeMessages translates the conversation. Ollama's messages carry text
// (content), reasoning (thinking), base64 images (images), an assistant's
// calls with arguments as objects, and a tool result's function name
// (tool_name), which it takes instead of a call id.
func encodeMessages(msgs []llm.Message) ([]wireMessage, error) {
	out := make([]wireMessage, 0, len(msgs))
	names := map[string]string{} // tool call id → function name
	for i := range msgs {
		m := &msgs[i]
		wm := wireMessage{Role: string(m.Role)}
		if m.Role == llm.RoleDeveloper {
			wm.Role = string(llm.RoleSystem)
		}
		var text, think []byte
		for j := range m.Content {
			p := &m.Content[j]
			switch p.Type {
			case llm.PartText:
				text = append(text, p.Text...)
			case llm.PartThinking:
				think = append(think, p.Text...)
			case llm.PartImage:
				if p.Image == nil || p.Image.Data == "" {
					return nil, llm.InvalidRequest(fmt.Sprintf("messages[%d].content", i),
						"messages[%d].content[%d]: the upstream of this model takes images only as inline base64 data, not by URL", i, j)
				}
				wm.Images = append(wm.Images, p.Image.Data)
			}
		}
		wm.Content, wm.Thinking = string(text), string(think)
		for k := range m.ToolCalls {
			tc := &m.ToolCalls[k]
			args, err := argumentsObject(tc.Arguments)
			if err != nil {
				return nil, llm.InvalidRequest(fmt.Sprintf("messages[%d].tool_calls[%d].function.arguments", i, k),
					"messages[%d].tool_calls[%d].function.arguments: not a JSON object", i, k)
			}
			idx := k
			wm.ToolCalls = append(wm.ToolCalls, wireToolCall{Function: wireFunction{Index: &idx, Name: tc.Name, Arguments: args}})
			names[tc.ID] = tc.Name
		}
		if m.Role == llm.RoleTool {
			wm.ToolName = names[m.ToolCallID]
		}
		out = append(out, wm)
	}
	return out, nil
}

// argumentsObject returns the arguments of a call, a JSON text, as the
// object Ollama takes; empty arguments are the empty object.
func argumentsObject(s string) (json.RawMessage, error) {
	if len(bytes.TrimSpace([]byte(s))) == 0 {
		return json.RawMessage(`{}`), nil
	}
	if r := gjson.Parse(s); !gjson.Valid(s) || !r.IsObject() {
		return nil, fmt.Errorf("arguments are not a JSON object")
	}
	return json.RawMessage(s), nil
}
