package providertest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tidwall/gjson"
)

// The fake OpenAI's Responses API (POST /responses), answered from the
// request as OpenAI's reference shapes it (the response object, and the
// stream's events each with its sequence_number):
//
//   - the answer is a message repeating the text of the last user message
//     of input (a string input is that text), as the fake's chat
//     completions repeat the last message;
//   - with function tools and a last input item that is a user message, the
//     answer is instead a call of the first function with arguments
//     {"input": text}; after a function_call_output, a message repeating
//     the output;
//   - with reasoning asked (reasoning.effort) a reasoning item comes first,
//     carrying encrypted_content only when include lists
//     "reasoning.encrypted_content", and 8 reasoning tokens are counted;
//   - usage counts the input's words as input tokens, the first 2 as
//     cached, and the answer's words as output tokens.
//
// Every response gets a new random id, as OpenAI's do.

// echoResponseItems returns the output items of the echo answer and its
// output token count.
func echoResponseItems(req gjson.Result) ([]any, int, int) {
	text := lastInputText(req)
	items := []any{}
	reasoningTokens := 0
	if req.Get("reasoning.effort").Type == gjson.String {
		r := map[string]any{"id": "rs_" + randomHex(24), "type": "reasoning", "summary": []any{}}
		for _, inc := range req.Get("include").Array() {
			if inc.Str == "reasoning.encrypted_content" {
				r["encrypted_content"] = "gAAAAABecho" + randomHex(16)
			}
		}
		items = append(items, r)
		reasoningTokens = 8
	}
	last := lastInputItem(req)
	switch fn := firstFunction(req); {
	case fn != "" && last.Get("type").Str == "function_call_output":
		text = last.Get("output").String()
	case fn != "" && (last.Get("role").Str == "user" || req.Get("input").Type == gjson.String):
		args, _ := json.Marshal(map[string]string{"input": text})
		items = append(items, map[string]any{"id": "fc_" + randomHex(24), "type": "function_call", "status": "completed",
			"arguments": string(args), "call_id": "call_" + randomHex(12), "name": fn})
		return items, len(strings.Fields(string(args))) + reasoningTokens, reasoningTokens
	}
	items = append(items, map[string]any{"id": "msg_" + randomHex(24), "type": "message", "status": "completed", "role": "assistant",
		"content": []any{map[string]any{"type": "output_text", "text": text, "annotations": []any{}, "logprobs": []any{}}}})
	return items, len(strings.Fields(text)) + reasoningTokens, reasoningTokens
}

// lastInputItem is the last item of an array input.
func lastInputItem(req gjson.Result) gjson.Result {
	in := req.Get("input").Array()
	if len(in) == 0 {
		return gjson.Result{}
	}
	return in[len(in)-1]
}

// lastInputText is the text of the last user message of input.
func lastInputText(req gjson.Result) string {
	in := req.Get("input")
	if in.Type == gjson.String {
		return in.Str
	}
	items := in.Array()
	for i := len(items) - 1; i >= 0; i-- {
		it := items[i]
		if it.Get("role").Str != "user" {
			continue
		}
		c := it.Get("content")
		if c.Type == gjson.String {
			return c.Str
		}
		var sb strings.Builder
		for _, p := range c.Array() {
			if p.Get("type").Str == "input_text" {
				sb.WriteString(p.Get("text").Str)
			}
		}
		return sb.String()
	}
	return ""
}

// firstFunction is the name of the request's first function tool.
func firstFunction(req gjson.Result) string {
	for _, t := range req.Get("tools").Array() {
		if t.Get("type").Str == "function" {
			return t.Get("name").Str
		}
	}
	return ""
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// echoResponse returns the response object of the echo answer with the
// given status and output; usage is set when status is terminal.
func echoResponse(req gjson.Result, id, status string, output []any, usage any) map[string]any {
	echo := func(key string, def any) any {
		if v := req.Get(key); v.Exists() {
			return json.RawMessage(v.Raw)
		}
		return def
	}
	store := true
	if v := req.Get("store"); v.Exists() {
		store = v.Bool()
	}
	return map[string]any{
		"id": id, "object": "response", "created_at": echoCreated, "status": status, "background": false,
		"error": nil, "incomplete_details": nil, "instructions": echo("instructions", nil),
		"max_output_tokens": echo("max_output_tokens", nil), "model": req.Get("model").Str, "output": output,
		"parallel_tool_calls": echo("parallel_tool_calls", true), "previous_response_id": echo("previous_response_id", nil),
		"reasoning": echo("reasoning", map[string]any{"effort": nil, "summary": nil}), "service_tier": "default", "store": store,
		"temperature": echo("temperature", 1.0), "text": echo("text", map[string]any{"format": map[string]any{"type": "text"}}),
		"tool_choice": echo("tool_choice", "auto"), "tools": echo("tools", []any{}), "top_p": echo("top_p", 1.0),
		"truncation": echo("truncation", "disabled"), "usage": usage, "user": nil, "metadata": echo("metadata", map[string]any{}),
	}
}

// echoResponsesUsage is the usage of the echo answer.
func echoResponsesUsage(req gjson.Result, output, reasoning int) map[string]any {
	input := len(strings.Fields(req.Get("input").Raw)) + len(strings.Fields(req.Get("instructions").Str))
	return map[string]any{
		"input_tokens": input, "input_tokens_details": map[string]any{"cached_tokens": min(2, input)},
		"output_tokens": output, "output_tokens_details": map[string]any{"reasoning_tokens": reasoning},
		"total_tokens": input + output,
	}
}

// echoResponseBody is the whole (non-streamed) echo answer.
func echoResponseBody(req gjson.Result) []byte {
	items, out, reasoning := echoResponseItems(req)
	b, _ := json.Marshal(echoResponse(req, "resp_"+randomHex(24), "completed", items, echoResponsesUsage(req, out, reasoning)))
	return b
}

// echoResponseStream is the echo answer as Responses stream events, in the
// order of OpenAI's reference.
func echoResponseStream(req gjson.Result) []byte {
	id := "resp_" + randomHex(24)
	items, out, reasoning := echoResponseItems(req)
	var buf bytes.Buffer
	seq := 0
	emit := func(typ string, m map[string]any) {
		m["type"], m["sequence_number"] = typ, seq
		seq++
		b, _ := json.Marshal(m)
		fmt.Fprintf(&buf, "event: %s\ndata: %s\n\n", typ, b)
	}
	emit("response.created", map[string]any{"response": echoResponse(req, id, "in_progress", []any{}, nil)})
	emit("response.in_progress", map[string]any{"response": echoResponse(req, id, "in_progress", []any{}, nil)})
	for i, it := range items {
		item := it.(map[string]any)
		emitItem(emit, i, item)
	}
	emit("response.completed", map[string]any{"response": echoResponse(req, id, "completed", items, echoResponsesUsage(req, out, reasoning))})
	return buf.Bytes()
}

// emitItem emits the events of one output item.
func emitItem(emit func(string, map[string]any), i int, item map[string]any) {
	id := item["id"]
	added := map[string]any{}
	for k, v := range item {
		added[k] = v
	}
	switch item["type"] {
	case "message":
		added["status"], added["content"] = "in_progress", []any{}
		emit("response.output_item.added", map[string]any{"output_index": i, "item": added})
		part := item["content"].([]any)[0].(map[string]any)
		text := part["text"].(string)
		emit("response.content_part.added", map[string]any{"item_id": id, "output_index": i, "content_index": 0,
			"part": map[string]any{"type": "output_text", "text": "", "annotations": []any{}, "logprobs": []any{}}})
		for _, w := range strings.SplitAfter(text, " ") {
			if w != "" {
				emit("response.output_text.delta", map[string]any{"item_id": id, "output_index": i, "content_index": 0, "delta": w, "logprobs": []any{}})
			}
		}
		emit("response.output_text.done", map[string]any{"item_id": id, "output_index": i, "content_index": 0, "text": text, "logprobs": []any{}})
		emit("response.content_part.done", map[string]any{"item_id": id, "output_index": i, "content_index": 0, "part": part})
	case "function_call":
		added["status"], added["arguments"] = "in_progress", ""
		emit("response.output_item.added", map[string]any{"output_index": i, "item": added})
		emit("response.function_call_arguments.delta", map[string]any{"item_id": id, "output_index": i, "delta": item["arguments"]})
		emit("response.function_call_arguments.done", map[string]any{"item_id": id, "output_index": i, "name": item["name"], "arguments": item["arguments"]})
	default:
		emit("response.output_item.added", map[string]any{"output_index": i, "item": added})
	}
	emit("response.output_item.done", map[string]any{"output_index": i, "item": item})
}
