package gemini

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/llm"
	protocol "github.com/llmgw/llmgw/internal/protocol/openai"
)

// wireRequest is a GenerateContentRequest.
type wireRequest struct {
	Contents          []wireContent   `json:"contents"`
	SystemInstruction *wireContent    `json:"systemInstruction,omitempty"`
	Tools             []wireTool      `json:"tools,omitempty"`
	ToolConfig        *wireToolConfig `json:"toolConfig,omitempty"`
	GenerationConfig  *wireGenConfig  `json:"generationConfig,omitempty"`
	SafetySettings    json.RawMessage `json:"safetySettings,omitempty"`
	CachedContent     json.RawMessage `json:"cachedContent,omitempty"`
}

type wireContent struct {
	Role  string     `json:"role,omitempty"`
	Parts []wirePart `json:"parts"`
}

type wirePart struct {
	Text             *string           `json:"text,omitempty"`
	Thought          bool              `json:"thought,omitempty"`
	ThoughtSignature string            `json:"thoughtSignature,omitempty"`
	InlineData       *wireBlob         `json:"inlineData,omitempty"`
	FunctionCall     *wireFunctionCall `json:"functionCall,omitempty"`
	FunctionResponse *wireFunctionResp `json:"functionResponse,omitempty"`
}

type wireBlob struct {
	MimeType string `json:"mimeType"`
	Data     string `json:"data"`
}

type wireFunctionCall struct {
	ID   string          `json:"id,omitempty"`
	Name string          `json:"name"`
	Args json.RawMessage `json:"args,omitempty"`
}

type wireFunctionResp struct {
	ID       string          `json:"id,omitempty"`
	Name     string          `json:"name"`
	Response json.RawMessage `json:"response"`
}

type wireTool struct {
	FunctionDeclarations []wireFunctionDecl `json:"functionDeclarations"`
}

type wireFunctionDecl struct {
	Name                 string          `json:"name"`
	Description          string          `json:"description,omitempty"`
	ParametersJSONSchema json.RawMessage `json:"parametersJsonSchema,omitempty"`
}

type wireToolConfig struct {
	FunctionCallingConfig wireFunctionCallingConfig `json:"functionCallingConfig"`
}

type wireFunctionCallingConfig struct {
	Mode                 string   `json:"mode"`
	AllowedFunctionNames []string `json:"allowedFunctionNames,omitempty"`
}

type wireGenConfig struct {
	Temperature        *float64            `json:"temperature,omitempty"`
	TopP               *float64            `json:"topP,omitempty"`
	TopK               *int                `json:"topK,omitempty"`
	MaxOutputTokens    *int                `json:"maxOutputTokens,omitempty"`
	StopSequences      []string            `json:"stopSequences,omitempty"`
	CandidateCount     *int                `json:"candidateCount,omitempty"`
	PresencePenalty    *float64            `json:"presencePenalty,omitempty"`
	FrequencyPenalty   *float64            `json:"frequencyPenalty,omitempty"`
	Seed               *int64              `json:"seed,omitempty"`
	ResponseMimeType   string              `json:"responseMimeType,omitempty"`
	ResponseJSONSchema json.RawMessage     `json:"responseJsonSchema,omitempty"`
	ThinkingConfig     *wireThinkingConfig `json:"thinkingConfig,omitempty"`
}

type wireThinkingConfig struct {
	ThinkingBudget  *int `json:"thinkingBudget,omitempty"`
	IncludeThoughts bool `json:"includeThoughts,omitempty"`
}

// Thinking budgets a reasoning effort is sent as. Gemini 2.5 takes a token
// budget (0 turns thinking off where the model allows it, -1 lets the model
// decide); Gemini 3 maps a budget to its own levels.
var effortBudgets = map[string]int{"minimal": 512, "low": 1024, "medium": 8192, "high": 24576, "xhigh": 32768}

// extraKeys are the members of a GenerateContentRequest an OpenAI client may
// send as extra members, passed as they are.
var extraKeys = map[string]bool{"safetySettings": true, "cachedContent": true}

// encodeChat encodes req as a GenerateContentRequest. It returns the names
// of the fields left out because Gemini has no equivalent, or an error
// naming the first of them when refuse is set, and an invalid request
// error for what Gemini cannot be sent at all.
func encodeChat(req *llm.ChatRequest, refuse bool) ([]byte, []string, error) {
	thinking := thinkingOf(req)
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
	var w wireRequest
	if w.SystemInstruction, w.Contents, err = encodeMessages(req.Messages, signsCalls(req.Model)); err != nil {
		return nil, nil, err
	}
	g := wireGenConfig{Temperature: req.Temperature, TopP: req.TopP, TopK: req.TopK,
		StopSequences: req.Stop, PresencePenalty: req.PresencePenalty, FrequencyPenalty: req.FrequencyPenalty,
		Seed: req.Seed, ThinkingConfig: thinking}
	if n := req.MaxOutputTokens(); n > 0 {
		g.MaxOutputTokens = &n
	}
	if req.N != nil && *req.N > 1 {
		if req.Stream {
			return nil, nil, llm.InvalidRequest("n", "n: the upstream of this model streams one choice only")
		}
		g.CandidateCount = req.N
	}
	if rf := req.ResponseFormat; rf != nil {
		switch rf.Type {
		case "json_object":
			g.ResponseMimeType = "application/json"
		case "json_schema":
			g.ResponseMimeType = "application/json"
			if rf.JSONSchema != nil {
				g.ResponseJSONSchema = rf.JSONSchema.Schema
			}
		}
	}
	if gb, _ := json.Marshal(&g); string(gb) != "{}" {
		w.GenerationConfig = &g
	}
	if err := encodeTools(&w, req); err != nil {
		return nil, nil, err
	}
	for _, c := range []struct {
		name string
		set  bool
	}{
		{"logit_bias", len(req.LogitBias) > 0},
		{"logprobs", req.Logprobs != nil && *req.Logprobs},
		{"top_logprobs", req.TopLogprobs != nil},
		{"user", req.User != ""},
		{"parallel_tool_calls", req.ParallelToolCalls != nil},
		{"metadata", len(req.Metadata) > 0},
		{"reasoning_effort", req.ReasoningEffort != "" && thinking == nil},
	} {
		if c.set {
			if err := drop(c.name); err != nil {
				return nil, nil, err
			}
		}
	}
	if req.ExtraProtocol == protocol.Protocol {
		for _, k := range slices.Sorted(maps.Keys(req.Extra)) {
			if extraKeys[k] {
				switch k {
				case "safetySettings":
					w.SafetySettings = req.Extra[k]
				case "cachedContent":
					w.CachedContent = req.Extra[k]
				}
				continue
			}
			if err := drop(k); err != nil {
				return nil, nil, err
			}
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&w); err != nil {
		return nil, nil, fmt.Errorf("gemini: encode request: %w", err)
	}
	return bytes.TrimRight(b.Bytes(), "\n"), dropped, nil
}

// encodeTools sets the function declarations and the function calling
// configuration of w from req's tools and tool choice.
func encodeTools(w *wireRequest, req *llm.ChatRequest) error {
	var decls []wireFunctionDecl
	for i := range req.Tools {
		t := &req.Tools[i]
		if t.Type != "" && t.Type != "function" {
			return llm.InvalidRequest("tools", "tools[%d]: tool type %q has no equivalent at the upstream of this model", i, llm.Clip(t.Type))
		}
		decls = append(decls, wireFunctionDecl{Name: t.Name, Description: t.Description, ParametersJSONSchema: t.Parameters})
	}
	if len(decls) > 0 {
		w.Tools = []wireTool{{FunctionDeclarations: decls}}
	}
	tc := req.ToolChoice
	if tc == nil || len(decls) == 0 {
		return nil
	}
	c := wireFunctionCallingConfig{}
	switch tc.Mode {
	case llm.ToolChoiceNone:
		c.Mode = "NONE"
	case llm.ToolChoiceRequired:
		c.Mode = "ANY"
	case llm.ToolChoiceFunction:
		c.Mode, c.AllowedFunctionNames = "ANY", []string{tc.Name}
	default:
		c.Mode = "AUTO"
	}
	w.ToolConfig = &wireToolConfig{FunctionCallingConfig: c}
	return nil
}

// thinkingOf returns the thinking configuration for req, nil for none: an
// Anthropic thinking setting's budget, or a reasoning effort's. Thoughts
// are asked for whenever thinking is on, so that the reasoning reaches the
// client.
func thinkingOf(req *llm.ChatRequest) *wireThinkingConfig {
	budget := func(n int) *wireThinkingConfig {
		return &wireThinkingConfig{ThinkingBudget: &n, IncludeThoughts: n != 0}
	}
	switch gjson.GetBytes(req.Thinking, "type").Str {
	case "enabled":
		if b := gjson.GetBytes(req.Thinking, "budget_tokens"); b.Exists() {
			return budget(int(b.Int()))
		}
		return budget(-1)
	case "adaptive":
		return budget(-1)
	case "disabled":
		return budget(0)
	}
	if req.ReasoningEffort == "none" {
		return budget(0)
	}
	if b, ok := effortBudgets[req.ReasoningEffort]; ok {
		return budget(b)
	}
	return nil
}

// encodeMessages translates the conversation: system and developer
// messages become the system instruction; user messages role user;
// assistant messages role model, with their calls as functionCall parts;
// tool results functionResponse parts of a user turn, named by the
// function of the call they answer (Gemini pairs them by name and order),
// consecutive results in one turn.
//
// A model that checks thought signatures (sign set) gets, on the first call
// of each model turn, the value Google documents for a call whose signature
// is not at hand (skipThoughtSignature): the signatures of Gemini's calls
// do not survive a client's tool_calls, which have no place for them.
func encodeMessages(msgs []llm.Message, sign bool) (*wireContent, []wireContent, error) {
	var system *wireContent
	out := make([]wireContent, 0, len(msgs))
	names := map[string]string{} // tool call id → function name
	for i := range msgs {
		m := &msgs[i]
		switch m.Role {
		case llm.RoleSystem, llm.RoleDeveloper:
			if system == nil {
				system = &wireContent{}
			}
			for j := range m.Content {
				if p := &m.Content[j]; p.Type == llm.PartText {
					system.Parts = append(system.Parts, textPart(p.Text))
				}
			}
			continue
		case llm.RoleTool:
			name := names[m.ToolCallID]
			if name == "" {
				return nil, nil, llm.InvalidRequest(fmt.Sprintf("messages[%d].tool_call_id", i),
					"messages[%d]: tool result for a call the conversation does not hold", i)
			}
			part := wirePart{FunctionResponse: &wireFunctionResp{Name: name, Response: resultObject(m.Text())}}
			if n := len(out); n > 0 && out[n-1].Role == "user" && out[n-1].Parts[0].FunctionResponse != nil {
				out[n-1].Parts = append(out[n-1].Parts, part)
			} else {
				out = append(out, wireContent{Role: "user", Parts: []wirePart{part}})
			}
			continue
		}
		c := wireContent{Role: "user"}
		if m.Role == llm.RoleAssistant {
			c.Role = "model"
		}
		for j := range m.Content {
			p := &m.Content[j]
			switch p.Type {
			case llm.PartText:
				if p.Text != "" {
					c.Parts = append(c.Parts, textPart(p.Text))
				}
			case llm.PartImage:
				if p.Image == nil || p.Image.Data == "" {
					return nil, nil, llm.InvalidRequest(fmt.Sprintf("messages[%d].content", i),
						"messages[%d].content[%d]: the upstream of this model takes images only as inline base64 data, not by URL", i, j)
				}
				mt := p.Image.MediaType
				if mt == "" {
					mt = "image/jpeg"
				}
				c.Parts = append(c.Parts, wirePart{InlineData: &wireBlob{MimeType: mt, Data: p.Image.Data}})
			}
		}
		for k := range m.ToolCalls {
			tc := &m.ToolCalls[k]
			args, err := argumentsObject(tc.Arguments)
			if err != nil {
				return nil, nil, llm.InvalidRequest(fmt.Sprintf("messages[%d].tool_calls[%d].function.arguments", i, k),
					"messages[%d].tool_calls[%d].function.arguments: not a JSON object", i, k)
			}
			part := wirePart{FunctionCall: &wireFunctionCall{Name: tc.Name, Args: args}}
			if sign && k == 0 {
				part.ThoughtSignature = skipThoughtSignature
			}
			c.Parts = append(c.Parts, part)
			names[tc.ID] = tc.Name
		}
		if len(c.Parts) == 0 {
			c.Parts = []wirePart{textPart("")}
		}
		out = append(out, c)
	}
	return system, out, nil
}

// skipThoughtSignature is the thoughtSignature Google's guide to thought
// signatures gives for a function call replayed without its own: the
// model takes the call as it is instead of refusing the request.
const skipThoughtSignature = "skip_thought_signature_validator"

// signsCalls reports whether model checks the thought signatures of the
// function calls it is sent back: Gemini 3 and later refuse a call without
// one ("Function call is missing a thought_signature in functionCall
// parts", a 400); Gemini 2.5 and earlier take any.
func signsCalls(model string) bool {
	rest, ok := strings.CutPrefix(strings.TrimPrefix(model, "models/"), "gemini-")
	if !ok {
		return false
	}
	major := 0
	for i := 0; i < len(rest) && '0' <= rest[i] && rest[i] <= '9'; i++ {
		major = major*10 + int(rest[i]-'0')
		if major > 1000 {
			break
		}
	}
	return major >= 3
}

func textPart(s string) wirePart { return wirePart{Text: &s} }

// resultObject returns a tool result as the object functionResponse.response
// takes: a JSON object as it is, anything else as {"output": text}, the key
// the API reference names for a function's output.
func resultObject(s string) json.RawMessage {
	if t := strings.TrimSpace(s); gjson.Valid(t) && gjson.Parse(t).IsObject() {
		return json.RawMessage(t)
	}
	b, _ := json.Marshal(map[string]string{"output": s})
	return b
}

// argumentsObject returns the arguments of a call, a JSON text, as the
// object Gemini takes; empty arguments are the empty object.
func argumentsObject(s string) (json.RawMessage, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return json.RawMessage(`{}`), nil
	}
	if !gjson.Valid(t) || !gjson.Parse(t).IsObject() {
		return nil, fmt.Errorf("arguments are not a JSON object")
	}
	return json.RawMessage(t), nil
}
