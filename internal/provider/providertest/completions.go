package providertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tidwall/gjson"
)

// answerCompletion answers a legacy completion request nothing was
// enqueued for, as OpenAI's /completions does: a text_completion repeating
// the prompt (the first string of an array), streamed word by word when
// asked, with the usage event when stream_options.include_usage asks for
// it. A body without a prompt is refused as OpenAI refuses it.
func answerCompletion(body []byte) Response {
	if !gjson.ValidBytes(body) {
		return openAIError(400, "invalid_request_error", "We could not parse the JSON body of your request.")
	}
	req := gjson.ParseBytes(body)
	if !req.Get("prompt").Exists() {
		return openAIError(400, "invalid_request_error", "you must provide a prompt parameter")
	}
	if req.Get("stream").Bool() {
		return Response{SSE: echoCompletionStream(req)}
	}
	return Response{Body: echoTextCompletion(req)}
}

// promptText is the text a fake completion repeats: the prompt string, or
// the first string of an array of them.
func promptText(req gjson.Result) string {
	p := req.Get("prompt")
	if p.IsArray() {
		p = p.Get("0")
	}
	if p.Type == gjson.String {
		return p.Str
	}
	return ""
}

func completionUsage(req gjson.Result, completion int) map[string]any {
	prompt := max(len(strings.Fields(promptText(req))), 1)
	return map[string]any{"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
}

func echoTextCompletion(req gjson.Result) []byte {
	text := promptText(req)
	b, _ := json.Marshal(map[string]any{
		"id": "cmpl-echo", "object": "text_completion", "created": echoCreated, "model": req.Get("model").String(),
		"system_fingerprint": "fp_echo",
		"choices": []any{map[string]any{
			"text": text, "index": 0, "logprobs": nil, "finish_reason": "stop",
		}},
		"usage": completionUsage(req, len(strings.Fields(text))),
	})
	return b
}

// echoCompletionStream streams the prompt word by word: every event a
// text_completion with one choice, the last with its finish_reason, then
// the usage event (no choices) when asked for, then [DONE].
func echoCompletionStream(req gjson.Result) []byte {
	includeUsage := req.Get("stream_options.include_usage").Bool()
	var buf bytes.Buffer
	event := func(choices []any, usage any) {
		m := map[string]any{
			"id": "cmpl-echo", "object": "text_completion", "created": echoCreated,
			"model": req.Get("model").String(), "system_fingerprint": "fp_echo", "choices": choices,
		}
		if includeUsage {
			m["usage"] = usage
		}
		b, _ := json.Marshal(m)
		fmt.Fprintf(&buf, "data: %s\n\n", b)
	}
	choice := func(text string, finish any) []any {
		return []any{map[string]any{"text": text, "index": 0, "logprobs": nil, "finish_reason": finish}}
	}
	text := promptText(req)
	for _, w := range strings.SplitAfter(text, " ") {
		if w != "" {
			event(choice(w, nil), nil)
		}
	}
	event(choice("", "stop"), nil)
	if includeUsage {
		event([]any{}, completionUsage(req, len(strings.Fields(text))))
	}
	buf.WriteString("data: [DONE]\n\n")
	return buf.Bytes()
}
