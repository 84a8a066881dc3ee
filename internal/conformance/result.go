package conformance

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// Result is a client's view of one answer, whatever its protocol: what an
// SDK would assemble, plus every departure from the protocol's exact shape
// (Violations).
type Result struct {
	Status int
	Header http.Header
	Body   []byte

	Text      string
	Thinking  string
	Signature string
	ToolCalls []ToolCall
	// Stop is the finish_reason or stop_reason, in the client's vocabulary.
	Stop         string
	StopSequence string
	Usage        Usage
	// StartInput is the input_tokens of an Anthropic stream's
	// message_start, which some clients read instead of message_delta's.
	StartInput int

	// ErrType is the error's OpenAI code or Anthropic type, for an error
	// status.
	ErrType string
	// StreamError is the code or type of an in-band error event.
	StreamError string
	// Terminated is true when the stream ended the way a complete one does
	// ([DONE], message_stop).
	Terminated bool
	// Violations lists departures from the protocol's event sequence or
	// shape.
	Violations []string
}

// ToolCall is a tool call as the client assembled it.
type ToolCall struct {
	ID, Name string
	// Args is the arguments (OpenAI) or input (Anthropic) JSON, decoded.
	Args map[string]any
}

// Usage is the usage the client was told. For OpenAI clients Input is
// prompt_tokens (cache included) and CacheRead is cached_tokens; for
// Anthropic clients they are input_tokens (cache excluded) and
// cache_read_input_tokens.
type Usage struct {
	Input, Output, CacheRead, CacheCreation int
}

func (r *Result) violate(format string, args ...any) {
	r.Violations = append(r.Violations, fmt.Sprintf(format, args...))
}

func parseArgs(r *Result, raw string) map[string]any {
	if strings.TrimSpace(raw) == "" {
		raw = "{}"
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		r.violate("tool arguments are not a JSON object: %q", raw)
	}
	return m
}

func parseError(r *Result, client string, body []byte) {
	if client == Anthropic {
		if gjson.GetBytes(body, "type").String() != "error" {
			r.violate("Anthropic error body without type error: %s", body)
		}
		r.ErrType = gjson.GetBytes(body, "error.type").String()
		if gjson.GetBytes(body, "error.message").Type != gjson.String {
			r.violate("Anthropic error body without a message: %s", body)
		}
		return
	}
	r.ErrType = gjson.GetBytes(body, "error.code").String()
	if gjson.GetBytes(body, "error.message").Type != gjson.String {
		r.violate("OpenAI error body without a message: %s", body)
	}
}

func parseOpenAIMessage(r *Result, body []byte) {
	root := gjson.ParseBytes(body)
	if root.Get("object").String() != "chat.completion" {
		r.violate("object is %q", root.Get("object").String())
	}
	ch := root.Get("choices.0")
	if ch.Get("message.role").String() != "assistant" {
		r.violate("message role is %q", ch.Get("message.role").String())
	}
	r.Text = ch.Get("message.content").String()
	r.Thinking = openAIReasoning(ch.Get("message"))
	for _, tc := range ch.Get("message.tool_calls").Array() {
		r.ToolCalls = append(r.ToolCalls, ToolCall{ID: tc.Get("id").String(), Name: tc.Get("function.name").String(),
			Args: parseArgs(r, tc.Get("function.arguments").String())})
	}
	r.Stop = ch.Get("finish_reason").String()
	r.Usage = openAIUsage(root.Get("usage"))
}

// openAIReasoning is the reasoning text of a message or delta, under
// either name OpenAI-compatible servers use.
func openAIReasoning(m gjson.Result) string {
	if s := m.Get("reasoning_content").String(); s != "" {
		return s
	}
	if r := m.Get("reasoning"); r.Type == gjson.String {
		return r.Str
	}
	return ""
}

func openAIUsage(u gjson.Result) Usage {
	return Usage{Input: int(u.Get("prompt_tokens").Int()), Output: int(u.Get("completion_tokens").Int()),
		CacheRead: int(u.Get("prompt_tokens_details.cached_tokens").Int())}
}

// parseOpenAIStream assembles a chat.completion.chunk stream and checks its
// shape: the role on the first delta, each tool call's id and name on its
// first delta, one finish_reason, the usage chunk, [DONE] last, nothing after
// an error.
func parseOpenAIStream(r *Result, body []byte) {
	type acc struct {
		id, name string
		args     strings.Builder
	}
	var calls []*acc
	byIndex := map[int64]*acc{}
	sawRole, ended := false, false
	for _, ev := range providertest.Events(body) {
		if ended {
			r.violate("event after the end of the stream: %s", ev.Data)
			break
		}
		if string(ev.Data) == "[DONE]" {
			r.Terminated, ended = true, true
			continue
		}
		d := gjson.ParseBytes(ev.Data)
		if e := d.Get("error"); e.Exists() {
			r.StreamError, ended = e.Get("code").String(), true
			continue
		}
		if d.Get("object").String() != "chat.completion.chunk" || d.Get("id").String() == "" {
			r.violate("not a chat.completion.chunk with an id: %s", ev.Data)
		}
		if u := d.Get("usage"); u.IsObject() {
			r.Usage = openAIUsage(u)
		}
		for _, ch := range d.Get("choices").Array() {
			delta := ch.Get("delta")
			if role := delta.Get("role").String(); role != "" {
				if role != "assistant" {
					r.violate("delta role %q", role)
				}
				sawRole = true
			} else if !sawRole {
				r.violate("first delta has no role")
				sawRole = true
			}
			r.Text += delta.Get("content").String()
			r.Thinking += openAIReasoning(delta)
			for _, tc := range delta.Get("tool_calls").Array() {
				if !tc.Get("index").Exists() {
					r.violate("tool call delta without index")
				}
				i := tc.Get("index").Int()
				a := byIndex[i]
				if a == nil {
					a = &acc{id: tc.Get("id").String(), name: tc.Get("function.name").String()}
					if a.id == "" || a.name == "" || tc.Get("type").String() != "function" {
						r.violate("first delta of tool call %d lacks id, name or type: %s", i, tc.Raw)
					}
					byIndex[i] = a
					calls = append(calls, a)
				} else if id := tc.Get("id").String(); id != "" && id != a.id {
					r.violate("tool call %d changed id", i)
				}
				a.args.WriteString(tc.Get("function.arguments").String())
			}
			if fr := ch.Get("finish_reason").String(); fr != "" {
				if r.Stop != "" {
					r.violate("second finish_reason %q", fr)
				}
				r.Stop = fr
			}
		}
	}
	for _, a := range calls {
		r.ToolCalls = append(r.ToolCalls, ToolCall{ID: a.id, Name: a.name, Args: parseArgs(r, a.args.String())})
	}
}

func parseAnthropicMessage(r *Result, body []byte) {
	root := gjson.ParseBytes(body)
	if root.Get("type").String() != "message" || root.Get("role").String() != "assistant" || root.Get("id").String() == "" {
		r.violate("not an assistant message with an id: %s", body)
	}
	for _, b := range root.Get("content").Array() {
		switch b.Get("type").String() {
		case "text":
			r.Text += b.Get("text").String()
		case "thinking":
			r.Thinking += b.Get("thinking").String()
			r.Signature += b.Get("signature").String()
		case "tool_use":
			r.ToolCalls = append(r.ToolCalls, ToolCall{ID: b.Get("id").String(), Name: b.Get("name").String(),
				Args: parseArgs(r, b.Get("input").Raw)})
		}
	}
	r.Stop = root.Get("stop_reason").String()
	r.StopSequence = root.Get("stop_sequence").String()
	r.Usage = anthropicUsage(root.Get("usage"), Usage{})
}

// anthropicUsage folds a usage object into u: fields present override.
func anthropicUsage(v gjson.Result, u Usage) Usage {
	set := func(dst *int, key string) {
		if f := v.Get(key); f.Exists() && f.Type == gjson.Number && (f.Int() != 0 || *dst == 0) {
			*dst = int(f.Int())
		}
	}
	set(&u.Input, "input_tokens")
	set(&u.Output, "output_tokens")
	set(&u.CacheRead, "cache_read_input_tokens")
	set(&u.CacheCreation, "cache_creation_input_tokens")
	return u
}
