package anthropic

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
)

// errBadFloat reports a NaN or infinite number, which JSON cannot carry.
var errBadFloat = errors.New("anthropic: NaN or infinite number")

// placeholderUserText is the text of the user turn put in front of a
// conversation that has none first, since Anthropic wants the first message
// to come from the user and at least one message.
const placeholderUserText = "."

// EncodeMessagesRequest encodes req as the body of an upstream Messages
// call. System and developer messages become the top-level system blocks;
// tool messages become tool_result blocks of user messages; consecutive
// messages of one role are merged, tool_result blocks first, and a user turn
// is put in front when the conversation does not start with one. max_tokens
// is always written (DefaultMaxTokens when unset). Extra, the Raw of server
// tools and PartOther blocks are written only when they came from this
// protocol.
func EncodeMessagesRequest(req *llm.ChatRequest) ([]byte, error) {
	e := requestEncoder{b: make([]byte, 0, 1024)}
	e.b = append(e.b, '{')
	e.str("model", req.Model)
	th := thinkingFor(req)
	e.key("max_tokens")
	e.b = strconv.AppendInt(e.b, int64(maxTokens(req, th.budget)), 10)
	if err := e.body(req, th); err != nil {
		return nil, err
	}
	if err := e.sampling(req, th.derived); err != nil {
		return nil, err
	}
	if req.Stream {
		e.key("stream")
		e.b = append(e.b, "true"...)
	}
	return e.finish(req)
}

// EncodeCountTokensRequest encodes req as the body of an upstream
// /v1/messages/count_tokens call: the Messages body without max_tokens,
// sampling parameters, metadata or stream.
func EncodeCountTokensRequest(req *llm.ChatRequest) ([]byte, error) {
	e := requestEncoder{b: make([]byte, 0, 1024)}
	e.b = append(e.b, '{')
	e.str("model", req.Model)
	if err := e.body(req, thinkingFor(req)); err != nil {
		return nil, err
	}
	return e.finish(req)
}

// body writes system, messages, tools, tool_choice and thinking.
func (e *requestEncoder) body(req *llm.ChatRequest, th thinking) error {
	if err := e.system(req.Messages); err != nil {
		return err
	}
	if err := e.messages(req.Messages); err != nil {
		return err
	}
	if err := e.tools(req); err != nil {
		return err
	}
	if len(th.raw) > 0 {
		if err := e.raw("thinking", th.raw); err != nil {
			return err
		}
	}
	return e.outputFormat(req)
}

func (e *requestEncoder) finish(req *llm.ChatRequest) ([]byte, error) {
	if req.ExtraProtocol == Protocol {
		var err error
		if e.b, err = jsonwire.AppendExtra(e.b, req.Extra, e.written); err != nil {
			return nil, fmt.Errorf("anthropic: encode extra fields: %w", err)
		}
	}
	return append(e.b, '}'), nil
}

// maxTokens returns the max_tokens to send: the client's limit, or
// DefaultMaxTokens, raised above an enabled thinking budget when the client
// set no limit.
func maxTokens(req *llm.ChatRequest, budget int) int {
	if n := req.MaxOutputTokens(); n > 0 {
		return n
	}
	n := DefaultMaxTokens
	if budget >= n {
		n = budget + DefaultMaxTokens
	}
	return n
}

// requestEncoder writes a request object and remembers its top-level keys.
type requestEncoder struct {
	b    []byte
	keys []string
}

func (e *requestEncoder) key(k string) {
	e.keys = append(e.keys, k)
	e.b = jsonwire.AppendKey(e.b, k)
}

func (e *requestEncoder) written(k string) bool { return slices.Contains(e.keys, k) }

func (e *requestEncoder) str(k, v string) {
	e.key(k)
	e.b = jsonwire.AppendString(e.b, v)
}

func (e *requestEncoder) raw(k string, v json.RawMessage) error {
	e.key(k)
	var err error
	if e.b, err = jsonwire.AppendRaw(e.b, v); err != nil {
		return fmt.Errorf("anthropic: encode %s: %w", k, err)
	}
	return nil
}

func (e *requestEncoder) float(k string, v *float64, lo, hi float64) error {
	if v == nil {
		return nil
	}
	e.key(k)
	var ok bool
	if e.b, ok = jsonwire.AppendFloat(e.b, min(max(*v, lo), hi)); !ok {
		return fmt.Errorf("anthropic: encode %s: %w", k, errBadFloat)
	}
	return nil
}

// system writes the system and developer messages, wherever they stand, as
// the top-level system: a string when it is one uncached text, else text
// blocks keeping their cache_control. Non-text parts are left out.
func (e *requestEncoder) system(msgs []llm.Message) error {
	var n, last int
	for i := range msgs {
		if isSystem(msgs[i].Role) {
			for j := range msgs[i].Content {
				if msgs[i].Content[j].Type == llm.PartText && msgs[i].Content[j].Text != "" {
					n, last = n+1, i
				}
			}
		}
	}
	if n == 0 {
		return nil
	}
	e.key("system")
	if n == 1 {
		for _, p := range msgs[last].Content {
			if p.Type == llm.PartText && p.Text != "" && len(p.CacheControl) == 0 {
				e.b = jsonwire.AppendString(e.b, p.Text)
				return nil
			}
		}
	}
	e.b = append(e.b, '[')
	for i := range msgs {
		if !isSystem(msgs[i].Role) {
			continue
		}
		for j := range msgs[i].Content {
			p := &msgs[i].Content[j]
			if p.Type != llm.PartText || p.Text == "" {
				continue
			}
			var err error
			if e.b, err = appendTextBlock(jsonwire.AppendComma(e.b), p); err != nil {
				return fmt.Errorf("anthropic: encode system: %w", err)
			}
		}
	}
	e.b = append(e.b, ']')
	return nil
}

func isSystem(r llm.Role) bool { return r == llm.RoleSystem || r == llm.RoleDeveloper }

// sampling writes stop sequences, sampling parameters and metadata. With
// thinking turned on from reasoning_effort, temperature, top_p and top_k are
// left out: Anthropic refuses them with thinking (but for top_p from 0.95),
// and OpenAI's reasoning models do not take them either.
func (e *requestEncoder) sampling(req *llm.ChatRequest, thinking bool) error {
	if len(req.Stop) > 0 {
		e.key("stop_sequences")
		e.b = append(e.b, '[')
		for i, s := range req.Stop {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.b = jsonwire.AppendString(e.b, s)
		}
		e.b = append(e.b, ']')
	}
	if thinking {
		return e.metadata(req)
	}
	// OpenAI allows temperatures up to 2; Anthropic's range is 0 to 1.
	if err := e.float("temperature", req.Temperature, 0, 1); err != nil {
		return err
	}
	if err := e.float("top_p", req.TopP, 0, 1); err != nil {
		return err
	}
	if req.TopK != nil {
		e.key("top_k")
		e.b = strconv.AppendInt(e.b, int64(*req.TopK), 10)
	}
	return e.metadata(req)
}

func (e *requestEncoder) metadata(req *llm.ChatRequest) error {
	if req.User != "" {
		e.key("metadata")
		e.b = jsonwire.AppendStringField(append(e.b, '{'), "user_id", req.User)
		e.b = append(e.b, '}')
	}
	return nil
}

// outputFormat writes a json_schema response format of another protocol as
// Anthropic's structured output, output_config.format, its schema rewritten
// into Anthropic's subset (OutputSchema). A request that came in this
// protocol writes its own output_config (or beta output_format) from Extra.
func (e *requestEncoder) outputFormat(req *llm.ChatRequest) error {
	rf := req.ResponseFormat
	if rf == nil || rf.Type != "json_schema" || rf.JSONSchema == nil || len(rf.JSONSchema.Schema) == 0 {
		return nil
	}
	if req.ExtraProtocol == Protocol {
		if _, ok := req.Extra["output_config"]; ok {
			return nil
		}
		if _, ok := req.Extra["output_format"]; ok {
			return nil
		}
	}
	e.key("output_config")
	e.b = append(e.b, `{"format":{"type":"json_schema","schema":`...)
	var err error
	if e.b, err = appendOutputSchema(e.b, rf.JSONSchema.Schema, 0); err != nil {
		return fmt.Errorf("anthropic: encode response_format schema: %w", err)
	}
	e.b = append(e.b, "}}"...)
	return nil
}

// tools writes the function tools, the server tools that came from this
// protocol, and tool_choice, which is left out when no tool is written.
func (e *requestEncoder) tools(req *llm.ChatRequest) error {
	own := req.ExtraProtocol == Protocol
	n := 0
	for i := range req.Tools {
		t := &req.Tools[i]
		if !isFunction(t) && (!own || len(t.Raw) == 0) {
			continue
		}
		if n == 0 {
			e.key("tools")
			e.b = append(e.b, '[')
		}
		n++
		var err error
		if e.b, err = appendTool(jsonwire.AppendComma(e.b), t, own); err != nil {
			return fmt.Errorf("anthropic: encode tools[%d]: %w", i, err)
		}
	}
	if n == 0 {
		return nil
	}
	e.b = append(e.b, ']')
	disable := req.ParallelToolCalls != nil && !*req.ParallelToolCalls
	tc := req.ToolChoice
	if tc == nil && !disable {
		return nil
	}
	e.key("tool_choice")
	mode := llm.ToolChoiceAuto
	if tc != nil {
		mode = tc.Mode
		disable = disable || tc.DisableParallel
	}
	switch mode {
	case llm.ToolChoiceNone:
		e.b = append(e.b, `{"type":"none"}`...)
		return nil
	case llm.ToolChoiceRequired:
		e.b = append(e.b, `{"type":"any"`...)
	case llm.ToolChoiceFunction:
		e.b = append(e.b, `{"type":"tool"`...)
		e.b = jsonwire.AppendStringField(e.b, "name", tc.Name)
	default:
		e.b = append(e.b, `{"type":"auto"`...)
	}
	if disable {
		e.b = append(e.b, `,"disable_parallel_tool_use":true`...)
	}
	e.b = append(e.b, '}')
	return nil
}

func isFunction(t *llm.Tool) bool { return t.Type == "" || t.Type == "function" }

// appendTool writes a tool: a function tool from its fields (from Raw when
// it came from this protocol with fields the canonical model lacks), a
// server tool as it was sent.
func appendTool(b []byte, t *llm.Tool, own bool) ([]byte, error) {
	if len(t.Raw) > 0 && own {
		return jsonwire.AppendRaw(b, t.Raw)
	}
	b = append(b, '{')
	b = jsonwire.AppendStringField(b, "name", t.Name)
	if t.Description != "" {
		b = jsonwire.AppendStringField(b, "description", t.Description)
	}
	var err error
	switch {
	case len(t.Parameters) > 0 && t.Strict != nil && *t.Strict && !own:
		// Another protocol's strict tool: its schema must be inside
		// Anthropic's subset, as a structured output's.
		b = jsonwire.AppendKey(b, "input_schema")
		if b, err = appendOutputSchema(b, t.Parameters, 0); err != nil {
			return b, err
		}
	case len(t.Parameters) > 0:
		if b, err = jsonwire.AppendRawField(b, "input_schema", t.Parameters); err != nil {
			return b, err
		}
	default:
		b = append(b, `,"input_schema":{"type":"object","properties":{}}`...)
	}
	if t.Strict != nil {
		b = jsonwire.AppendBoolField(b, "strict", *t.Strict)
	}
	if len(t.CacheControl) > 0 {
		if b, err = jsonwire.AppendRawField(b, "cache_control", t.CacheControl); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}
