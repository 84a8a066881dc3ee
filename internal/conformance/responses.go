package conformance

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// chatToResponses rewrites a scenario's Chat Completions body as the
// Responses API request a client would send for the same conversation:
// messages become input items (tool calls function_call items, tool
// messages function_call_output items), tools lose their function wrapper,
// the output cap is max_output_tokens, response_format is text.format and
// reasoning_effort is reasoning.effort. store is false: the suite checks
// translation, not stored state. A field the Responses API has no place
// for is an error naming it, which makes the scenario not applicable to
// the Responses client.
func chatToResponses(body string) (string, error) {
	var in map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &in); err != nil {
		return "", err
	}
	out := map[string]any{"store": false}
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := in[k]
		switch k {
		case "model", "temperature", "top_p", "parallel_tool_calls", "metadata", "user", "stream", "store":
			out[k] = v
		case "messages":
			items, err := responsesInput(v)
			if err != nil {
				return "", err
			}
			out["input"] = items
		case "tools":
			tools, err := responsesTools(v)
			if err != nil {
				return "", err
			}
			out["tools"] = tools
		case "tool_choice":
			tc := gjson.ParseBytes(v)
			if tc.IsObject() {
				out[k] = map[string]any{"type": "function", "name": tc.Get("function.name").String()}
			} else {
				out[k] = v
			}
		case "max_tokens", "max_completion_tokens":
			out["max_output_tokens"] = v
		case "reasoning_effort":
			out["reasoning"] = map[string]any{"effort": gjson.ParseBytes(v).String()}
		case "response_format":
			rf := gjson.ParseBytes(v)
			f := map[string]any{"type": rf.Get("type").String()}
			if s := rf.Get("json_schema"); s.Exists() {
				for _, name := range []string{"name", "description", "schema", "strict"} {
					if x := s.Get(name); x.Exists() {
						f[name] = json.RawMessage(x.Raw)
					}
				}
			}
			out["text"] = map[string]any{"format": f}
		case "stream_options":
			// Responses streams always end with the usage.
		default:
			return "", fmt.Errorf("written with the Chat Completions field %s, which the Responses API does not have", k)
		}
	}
	b, err := json.Marshal(out)
	return string(b), err
}

// responsesInput turns chat messages into Responses input items.
func responsesInput(raw json.RawMessage) ([]any, error) {
	var items []any
	for _, m := range gjson.ParseBytes(raw).Array() {
		role := m.Get("role").String()
		switch role {
		case "system", "developer", "user", "assistant":
			if c := m.Get("content"); c.Exists() && c.Type != gjson.Null && !(c.Type == gjson.String && c.Str == "" && role == "assistant") {
				content, err := responsesContent(role, c)
				if err != nil {
					return nil, err
				}
				items = append(items, map[string]any{"type": "message", "role": role, "content": content})
			}
			for _, tc := range m.Get("tool_calls").Array() {
				items = append(items, map[string]any{"type": "function_call", "call_id": tc.Get("id").String(),
					"name": tc.Get("function.name").String(), "arguments": tc.Get("function.arguments").String()})
			}
		case "tool":
			out := m.Get("content")
			text := out.String()
			if out.IsArray() {
				var b strings.Builder
				for _, p := range out.Array() {
					b.WriteString(p.Get("text").String())
				}
				text = b.String()
			}
			items = append(items, map[string]any{"type": "function_call_output", "call_id": m.Get("tool_call_id").String(), "output": text})
		default:
			return nil, fmt.Errorf("written with a %q message, which the Responses API does not have", role)
		}
	}
	return items, nil
}

// responsesContent is a message's content as Responses content parts:
// input_text and input_image for the caller's, output_text for the
// assistant's.
func responsesContent(role string, c gjson.Result) (any, error) {
	textType := "input_text"
	if role == "assistant" {
		textType = "output_text"
	}
	if c.Type == gjson.String {
		return []any{map[string]any{"type": textType, "text": c.Str}}, nil
	}
	var parts []any
	for _, p := range c.Array() {
		switch p.Get("type").String() {
		case "text":
			parts = append(parts, map[string]any{"type": textType, "text": p.Get("text").String()})
		case "image_url":
			img := map[string]any{"type": "input_image", "image_url": p.Get("image_url.url").String(), "detail": "auto"}
			if d := p.Get("image_url.detail"); d.Exists() {
				img["detail"] = d.String()
			}
			parts = append(parts, img)
		default:
			return nil, fmt.Errorf("written with a %s content part, which the Responses API does not have", p.Get("type").String())
		}
	}
	return parts, nil
}

// responsesTools flattens chat function tools.
func responsesTools(raw json.RawMessage) ([]any, error) {
	var tools []any
	for _, t := range gjson.ParseBytes(raw).Array() {
		if t.Get("type").String() != "function" {
			return nil, fmt.Errorf("written with a %s tool, which the gateway's Responses API does not serve", t.Get("type").String())
		}
		f := map[string]any{"type": "function"}
		for _, name := range []string{"name", "description", "parameters", "strict"} {
			if x := t.Get("function." + name); x.Exists() {
				f[name] = json.RawMessage(x.Raw)
			}
		}
		tools = append(tools, f)
	}
	return tools, nil
}

// responsesStop says why a response object ended, in Chat Completions'
// vocabulary, which the checks share with OpenAI clients: a completed
// response with function calls stopped for tool_calls.
func responsesStop(resp gjson.Result, calls int) string {
	switch resp.Get("status").String() {
	case "completed":
		if calls > 0 {
			return "tool_calls"
		}
		return "stop"
	case "incomplete":
		switch reason := resp.Get("incomplete_details.reason").String(); reason {
		case "max_output_tokens":
			return "length"
		default:
			return reason
		}
	}
	return resp.Get("status").String()
}

func responsesUsage(u gjson.Result) Usage {
	return Usage{Input: int(u.Get("input_tokens").Int()), Output: int(u.Get("output_tokens").Int()),
		CacheRead: int(u.Get("input_tokens_details.cached_tokens").Int())}
}

// parseResponsesObject reads a response object's output and usage into r.
func parseResponsesObject(r *Result, resp gjson.Result) {
	if resp.Get("object").String() != "response" || !strings.HasPrefix(resp.Get("id").String(), "resp") {
		r.violate("not a response object with a resp id: %.300s", resp.Raw)
	}
	r.Text, r.Thinking, r.Signature, r.ToolCalls = "", "", "", nil
	for _, item := range resp.Get("output").Array() {
		if item.Get("id").String() == "" {
			r.violate("output item without an id: %.200s", item.Raw)
		}
		switch item.Get("type").String() {
		case "message":
			if item.Get("role").String() != "assistant" {
				r.violate("output message role %q", item.Get("role").String())
			}
			for _, p := range item.Get("content").Array() {
				if p.Get("type").String() == "output_text" {
					r.Text += p.Get("text").String()
				}
			}
		case "reasoning":
			for _, s := range item.Get("summary").Array() {
				r.Thinking += s.Get("text").String()
			}
			r.Signature += item.Get("encrypted_content").String()
		case "function_call":
			r.ToolCalls = append(r.ToolCalls, ToolCall{ID: item.Get("call_id").String(), Name: item.Get("name").String(),
				Args: parseArgs(r, item.Get("arguments").String())})
		}
	}
	r.Stop = responsesStop(resp, len(r.ToolCalls))
	r.Usage = responsesUsage(resp.Get("usage"))
}

func parseResponsesMessage(r *Result, body []byte) {
	parseResponsesObject(r, gjson.ParseBytes(body))
}

// responsesTerminal are the events that end a Responses stream.
var responsesTerminal = map[string]bool{"response.completed": true, "response.incomplete": true, "response.failed": true, "error": true}

// parseResponsesStream assembles a Responses event stream and checks its
// shape: each event named by an event line equal to its data's type,
// sequence numbers counting from 0 without gaps, response.created then
// response.in_progress first, deltas only inside an added item, each
// item's deltas adding up to what its done event says, and one terminal
// event last (completed, incomplete, failed or error).
func parseResponsesStream(r *Result, body []byte) {
	type item struct {
		typ      string
		text     strings.Builder
		args     strings.Builder
		thinking strings.Builder
		done     bool
	}
	items := map[string]*item{}
	var seq int64
	ended := false
	for i, ev := range providertest.Events(body) {
		if ended {
			r.violate("event after the end of the stream: %.200s", ev.Data)
			break
		}
		d := gjson.ParseBytes(ev.Data)
		typ := d.Get("type").String()
		if ev.Type != typ {
			r.violate("event line %q for data of type %q", ev.Type, typ)
		}
		if n := d.Get("sequence_number"); n.Type != gjson.Number || n.Int() != seq {
			r.violate("event %d (%s) has sequence_number %s, want %d", i, typ, n.Raw, seq)
		}
		seq++
		switch {
		case i == 0 && typ != "response.created" && !responsesTerminal[typ]:
			r.violate("first event is %s, not response.created", typ)
		case i == 1 && typ != "response.in_progress" && !responsesTerminal[typ]:
			r.violate("second event is %s, not response.in_progress", typ)
		}
		id := d.Get("item_id").String()
		it := items[id]
		switch typ {
		case "response.output_item.added":
			id = d.Get("item.id").String()
			if id == "" || items[id] != nil {
				r.violate("item added without a new id: %.200s", ev.Data)
			}
			items[id] = &item{typ: d.Get("item.type").String()}
		case "response.output_item.done":
			id = d.Get("item.id").String()
			if it = items[id]; it == nil || it.done {
				r.violate("done for an item not open: %.200s", ev.Data)
				continue
			}
			it.done = true
			checkItemDone(r, d.Get("item"), it.text.String(), it.args.String())
		case "response.output_text.delta", "response.function_call_arguments.delta", "response.reasoning_summary_text.delta":
			if it == nil || it.done {
				r.violate("%s for an item not open: %.200s", typ, ev.Data)
				continue
			}
			switch typ {
			case "response.output_text.delta":
				it.text.WriteString(d.Get("delta").String())
				r.Text += d.Get("delta").String()
			case "response.function_call_arguments.delta":
				it.args.WriteString(d.Get("delta").String())
			default:
				it.thinking.WriteString(d.Get("delta").String())
				r.Thinking += d.Get("delta").String()
			}
		case "response.output_text.done", "response.function_call_arguments.done", "response.content_part.added",
			"response.content_part.done", "response.reasoning_summary_part.added", "response.reasoning_summary_part.done",
			"response.reasoning_summary_text.done":
			if it == nil || it.done {
				r.violate("%s for an item not open: %.200s", typ, ev.Data)
			}
		case "response.created", "response.in_progress":
			if st := d.Get("response.status").String(); st != "in_progress" && st != "queued" {
				r.violate("%s with status %q", typ, st)
			}
		case "response.completed", "response.incomplete":
			ended, r.Terminated = true, true
			streamed := r.Text
			parseResponsesObject(r, d.Get("response"))
			if r.Text != streamed {
				r.violate("the final response says %q, the deltas said %q", r.Text, streamed)
			}
			for id, it := range items {
				if !it.done {
					r.violate("item %s never done", id)
				}
			}
		case "response.failed":
			ended = true
			r.StreamError = d.Get("response.error.code").String()
		case "error":
			ended = true
			r.StreamError = d.Get("code").String()
		}
	}
}

// checkItemDone checks that an item's done event says what its deltas
// added up to.
func checkItemDone(r *Result, item gjson.Result, text, args string) {
	switch item.Get("type").String() {
	case "message":
		var whole string
		for _, p := range item.Get("content").Array() {
			whole += p.Get("text").String()
		}
		if whole != text {
			r.violate("message item done with text %q, deltas said %q", whole, text)
		}
	case "function_call":
		if item.Get("arguments").String() != args {
			r.violate("function_call item done with arguments %q, deltas said %q", item.Get("arguments").String(), args)
		}
		if item.Get("call_id").String() == "" || item.Get("name").String() == "" {
			r.violate("function_call item without call_id or name: %.200s", item.Raw)
		}
	}
}

// responsesNA returns why a scenario cannot run for the Responses client:
// its Chat Completions request has no Responses form. Scenarios that run
// their own requests (Run) decide for themselves in their NA.
func responsesNA(sc Scenario) string {
	body, ok := sc.Request[OpenAI]
	if !ok || sc.Run != nil {
		return ""
	}
	if _, err := chatToResponses(body); err != nil {
		return "The scenario's request is " + err.Error() + "."
	}
	return ""
}

// responsesCapture returns the OpenAI upstream's Responses API answer of
// the given kind ("text", "tool_calls"), streamed or not: the same texts,
// calls and usage as its Chat Completions captures, for the cases that
// forward a Responses body to it as it is.
func responsesCapture(t testing.TB, c *Case, kind string, split int) providertest.Response {
	if c.Streamed() {
		return providertest.Response{SSE: providertest.Load(t, "openai/responses_stream_"+kind+".sse"), Split: split}
	}
	return providertest.Response{Body: providertest.Load(t, "openai/responses_"+kind+".json")}
}

// responsesFailure is the OpenAI upstream's Responses stream of a stream
// failure scenario, and the text it delivers before it breaks.
type responsesFailure struct {
	answer func(t testing.TB) providertest.Response
	text   string
}

// responsesFailures are the Responses streams of the stream failure
// scenarios, by scenario name, for the cases that forward a Responses body
// as it is.
var responsesFailures = map[string]responsesFailure{
	"error event inside a 200 stream": {func(t testing.TB) providertest.Response {
		return providertest.Response{SSE: providertest.Load(t, "openai/responses_stream_error.sse")}
	}, "Hi there"},
	"truncated stream (connection lost)": {func(t testing.TB) providertest.Response {
		return providertest.Response{SSE: providertest.Load(t, "openai/responses_stream_truncated.sse"), HangUp: true}
	}, "Hi there"},
	"stream ends without its terminator": {func(t testing.TB) providertest.Response {
		return providertest.Response{SSE: withoutTerminator(providertest.Load(t, "openai/responses_stream_text.sse"))}
	}, captureText[OpenAI][Stream]},
}

// responsesStreamErrors are the codes of a failed response's error
// (the reference's ResponseErrorCode), by kind of failure, which a
// Responses client is told where a Chat Completions client gets the
// gateway's own codes.
var responsesStreamErrors = map[string]string{
	"upstream": "server_error", "unavailable": "server_error", "rate_limited": "rate_limit_exceeded", "invalid": "invalid_prompt",
}

// streamErrorType is the code or type of the in-band error a case's
// client is told of a failure of kind.
func streamErrorType(c *Case, kind string) string {
	if c.Pair.Client == Responses {
		return responsesStreamErrors[kind]
	}
	return errorTypes[kind][c.Client()]
}

// naResponsesReasoningField: the scenario's upstream is an
// OpenAI-compatible chat server's field.
const naResponsesReasoningField = "reasoning_content and reasoning are fields of OpenAI-compatible Chat Completions servers; OpenAI's Responses API, which a Responses body is forwarded to, reports reasoning as reasoning items."

// responsesWithStop turns a completed Responses capture into one that
// ended for reason canonical ("length": incomplete for max_output_tokens;
// "content_filter": incomplete for content_filter); other reasons leave
// it completed.
func responsesWithStop(r providertest.Response, canonical string) providertest.Response {
	reason := map[string]string{"length": "max_output_tokens", "content_filter": "content_filter"}[canonical]
	if reason == "" {
		return r
	}
	incomplete := func(obj string) string {
		obj = strings.Replace(obj, `"status":"completed","background"`, `"status":"incomplete","background"`, 1)
		return strings.Replace(obj, `"incomplete_details":null`, `"incomplete_details":{"reason":"`+reason+`"}`, 1)
	}
	if r.Body != nil {
		b, _ := sjson.SetBytes(r.Body, "status", "incomplete")
		r.Body, _ = sjson.SetRawBytes(b, "incomplete_details", []byte(`{"reason":"`+reason+`"}`))
		return r
	}
	sse := string(r.SSE)
	i := strings.LastIndex(sse, "event: response.completed\n")
	last := strings.Replace(sse[i:], "response.completed", "response.incomplete", 2)
	r.SSE = []byte(sse[:i] + incomplete(last))
	return r
}
