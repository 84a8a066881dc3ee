package responses

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
)

// Output item and response statuses.
const (
	statusInProgress = "in_progress"
	statusCompleted  = "completed"
	statusIncomplete = "incomplete"
	statusFailed     = "failed"
)

type itemKind uint8

const (
	itemReasoning itemKind = iota
	itemMessage
	itemCall
)

// outPart is one content part of a message item: output_text or refusal.
type outPart struct {
	refusal  bool
	text     strings.Builder
	logprobs []json.RawMessage
}

// outItem is one output item as the encoders build it, whole or from
// deltas; both render it with appendItem, so that a streamed response and
// the same response encoded whole are the same bytes.
type outItem struct {
	kind   itemKind
	id     string
	status string
	// text is a reasoning item's summary; signature its encrypted content.
	text      strings.Builder
	signature string
	// redacted marks a reasoning item made of a redacted thinking part,
	// whose encrypted content is the part's Data and which has no summary.
	redacted bool
	parts    []*outPart // message
	// partsDone counts the message's parts whose done events are sent.
	partsDone int
	callID    string // function call
	name      string
	args      strings.Builder
}

// output is the state of a response object: its items and how it ended.
type output struct {
	meta       *Meta
	model      string
	status     string
	items      []*outItem
	usage      *llm.Usage
	incomplete string // incomplete_details.reason
	err        *llm.Error
}

// itemID returns the id of output item n of the response: the response id's
// suffix and n, under the item type's prefix (msg_, rs_, fc_, call_), so
// that every encoding of one response names its items alike.
func itemID(meta *Meta, prefix string, n int) string {
	suffix := strings.TrimPrefix(meta.ID, "resp_")
	return prefix + "_" + suffix + "_" + strconv.Itoa(n)
}

func (o *output) newItem(kind itemKind) *outItem {
	n := len(o.items)
	it := &outItem{kind: kind, status: statusInProgress}
	switch kind {
	case itemReasoning:
		it.id = itemID(o.meta, "rs", n)
	case itemMessage:
		it.id = itemID(o.meta, "msg", n)
	case itemCall:
		it.id = itemID(o.meta, "fc", n)
	}
	o.items = append(o.items, it)
	return it
}

// lastPart returns the message's last part if it is of the kind asked, else
// a new one.
func (it *outItem) lastPart(refusal bool) *outPart {
	if n := len(it.parts); n > 0 && it.parts[n-1].refusal == refusal {
		return it.parts[n-1]
	}
	p := &outPart{refusal: refusal}
	it.parts = append(it.parts, p)
	return p
}

// finish sets the status of the response and of its items from the finish
// reason: a response cut by the token limit or a content filter is
// incomplete, and so is its last item.
func (o *output) finish(reason llm.FinishReason) {
	o.status = statusCompleted
	switch reason {
	case llm.FinishLength:
		o.incomplete = "max_output_tokens"
	case llm.FinishContentFilter:
		o.incomplete = "content_filter"
	}
	for i, it := range o.items {
		it.status = statusCompleted
		if o.incomplete != "" && i == len(o.items)-1 {
			it.status = statusIncomplete
		}
	}
	if o.incomplete != "" {
		o.status = statusIncomplete
	}
}

// includes reports whether the request asked for the extra output name.
func (o *output) includes(name string) bool {
	if o.meta.Request == nil {
		return false
	}
	for _, s := range o.meta.Request.Include {
		if s == name {
			return true
		}
	}
	return false
}

// appendItem appends an output item. The encrypted content of a reasoning
// item is written only when the request included reasoning.encrypted_content.
func appendItem(b []byte, it *outItem, encrypted bool) []byte {
	b = append(b, `{"id":`...)
	b = jsonwire.AppendString(b, it.id)
	switch it.kind {
	case itemReasoning:
		b = append(b, `,"type":"reasoning","summary":[`...)
		if it.text.Len() > 0 {
			b = append(b, `{"type":"summary_text","text":`...)
			b = jsonwire.AppendString(b, it.text.String())
			b = append(b, '}')
		}
		b = append(b, ']')
		if encrypted && it.signature != "" {
			b = jsonwire.AppendStringField(b, "encrypted_content", it.signature)
		}
	case itemMessage:
		b = append(b, `,"type":"message","status":`...)
		b = jsonwire.AppendString(b, it.status)
		b = append(b, `,"role":"assistant","content":[`...)
		for i, p := range it.parts {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendPart(b, p)
		}
		b = append(b, ']')
	case itemCall:
		b = append(b, `,"type":"function_call","status":`...)
		b = jsonwire.AppendString(b, it.status)
		b = jsonwire.AppendStringField(b, "arguments", it.args.String())
		b = jsonwire.AppendStringField(b, "call_id", it.callID)
		b = jsonwire.AppendStringField(b, "name", it.name)
	}
	return append(b, '}')
}

// appendPart appends a message content part with its text so far.
func appendPart(b []byte, p *outPart) []byte {
	if p.refusal {
		b = append(b, `{"type":"refusal","refusal":`...)
		b = jsonwire.AppendString(b, p.text.String())
		return append(b, '}')
	}
	b = append(b, `{"type":"output_text","text":`...)
	b = jsonwire.AppendString(b, p.text.String())
	b = append(b, `,"annotations":[],"logprobs":`...)
	b = appendLogprobs(b, p.logprobs)
	return append(b, '}')
}

func appendLogprobs(b []byte, lps []json.RawMessage) []byte {
	b = append(b, '[')
	for i, lp := range lps {
		if i > 0 {
			b = append(b, ',')
		}
		b, _ = jsonwire.AppendRaw(b, lp)
	}
	return append(b, ']')
}

// chatLogprobs returns the entries of a choice's log probabilities, given in
// the Chat Completions shape {"content":[{token, logprob, bytes,
// top_logprobs}]}: the shape of a Responses log probability too.
func chatLogprobs(raw json.RawMessage) []json.RawMessage {
	if jsonwire.IsNull(raw) || raw[0] != '{' || !json.Valid(raw) {
		return nil
	}
	content := jsonwire.SplitObject(raw).Get("content")
	if len(content) == 0 || content[0] != '[' {
		return nil
	}
	entries := jsonwire.SplitArray(content)
	out := entries[:0]
	for _, e := range entries {
		if len(e) > 0 && e[0] == '{' {
			out = append(out, e) // an upstream's stray values are dropped
		}
	}
	return out
}

// ErrorCode maps an error to the reference's ResponseErrorCode values, the
// codes of a failed response's error.
func ErrorCode(e *llm.Error) string {
	switch e.Kind {
	case llm.KindRateLimited, llm.KindBudgetExceeded:
		return "rate_limit_exceeded"
	case llm.KindInvalidRequest, llm.KindContextLength, llm.KindContentPolicy, llm.KindUnprocessable:
		return "invalid_prompt"
	}
	return "server_error"
}

// appendResponse appends the response object. Request fields the response
// repeats are written as sent, or with the reference's default when absent.
// The key order is the reference's.
func (o *output) appendResponse(b []byte) []byte {
	meta := o.meta
	req := meta.Request
	if req == nil {
		req = &Request{Chat: &llm.ChatRequest{}, Store: true}
	}
	b = append(b, `{"id":`...)
	b = jsonwire.AppendString(b, meta.ID)
	b = append(b, `,"object":"response","created_at":`...)
	b = strconv.AppendInt(b, meta.CreatedAt, 10)
	b = jsonwire.AppendStringField(b, "status", o.status)
	b = append(b, `,"background":false,"completed_at":`...)
	if o.status == statusCompleted && meta.CompletedAt != 0 {
		b = strconv.AppendInt(b, meta.CompletedAt, 10)
	} else {
		b = append(b, "null"...)
	}
	b = o.appendEnding(b)
	b = appendNullableString(b, "instructions", req.Instructions)
	b = appendEcho(b, req, "max_output_tokens", "null")
	b = appendEcho(b, req, "max_tool_calls", "null")
	b = jsonwire.AppendStringField(b, "model", o.model)
	b = append(b, `,"output":[`...)
	enc := o.includes(IncludeReasoningEncrypted)
	for i, it := range o.items {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendItem(b, it, enc)
	}
	b = append(b, ']')
	b = appendEcho(b, req, "parallel_tool_calls", "true")
	b = appendNullableString(b, "previous_response_id", req.PreviousResponseID)
	b = appendEcho(b, req, "prompt_cache_key", "null")
	if _, ok := req.Echo["prompt_cache_retention"]; ok {
		b = appendEcho(b, req, "prompt_cache_retention", "null")
	}
	b = appendReasoning(b, req.Echo["reasoning"])
	b = appendEcho(b, req, "safety_identifier", "null")
	b = appendEcho(b, req, "service_tier", `"default"`)
	b = jsonwire.AppendBoolField(b, "store", req.Store)
	b = appendEcho(b, req, "temperature", "1")
	b = appendText(b, req.Echo["text"])
	b = appendEcho(b, req, "tool_choice", `"auto"`)
	b = appendTools(b, req.Chat.Tools)
	b = appendEcho(b, req, "top_logprobs", "0")
	b = appendEcho(b, req, "top_p", "1")
	truncation := req.Truncation
	if truncation == "" {
		truncation = "disabled"
	}
	b = jsonwire.AppendStringField(b, "truncation", truncation)
	if o.usage != nil {
		b = jsonwire.AppendKey(b, "usage")
		b = appendUsage(b, o.usage)
	}
	if _, ok := req.Echo["user"]; ok {
		b = appendEcho(b, req, "user", "null")
	}
	b = appendEcho(b, req, "metadata", "{}")
	return append(b, '}')
}

// appendEnding appends error and incomplete_details.
func (o *output) appendEnding(b []byte) []byte {
	b = append(b, `,"error":`...)
	if o.err != nil {
		b = append(b, `{"code":`...)
		b = jsonwire.AppendString(b, ErrorCode(o.err))
		b = jsonwire.AppendStringField(b, "message", o.err.PublicMessage())
		b = append(b, '}')
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"incomplete_details":`...)
	if o.incomplete == "" {
		return append(b, "null"...)
	}
	b = append(b, `{"reason":"`...)
	b = append(b, o.incomplete...)
	return append(b, `"}`...)
}

// appendEcho appends "key": the request's value as sent, or def.
func appendEcho(b []byte, req *Request, key, def string) []byte {
	b = jsonwire.AppendKey(b, key)
	if raw, ok := req.Echo[key]; ok {
		if out, err := jsonwire.AppendRaw(b, raw); err == nil {
			return out
		}
	}
	return append(b, def...)
}

func appendNullableString(b []byte, key, s string) []byte {
	if s == "" {
		return append(jsonwire.AppendKey(b, key), "null"...)
	}
	return jsonwire.AppendStringField(b, key, s)
}

// appendReasoning writes reasoning as {effort, summary}, null where the
// request gave none, as the reference does.
func appendReasoning(b []byte, raw json.RawMessage) []byte {
	var effort, summary json.RawMessage
	if len(raw) > 0 && raw[0] == '{' {
		obj := jsonwire.SplitObject(raw)
		effort = obj.Get("effort")
		if summary = obj.Get("summary"); jsonwire.IsNull(summary) {
			summary = obj.Get("generate_summary")
		}
	}
	b = append(b, `,"reasoning":{"effort":`...)
	b, _ = jsonwire.AppendRaw(b, effort)
	b = append(b, `,"summary":`...)
	b, _ = jsonwire.AppendRaw(b, summary)
	return append(b, '}')
}

// appendText writes text as {format, verbosity}: the format as sent, or
// {"type":"text"}.
func appendText(b []byte, raw json.RawMessage) []byte {
	var format, verbosity json.RawMessage
	if len(raw) > 0 && raw[0] == '{' {
		obj := jsonwire.SplitObject(raw)
		format, verbosity = obj.Get("format"), obj.Get("verbosity")
	}
	b = append(b, `,"text":{"format":`...)
	if jsonwire.IsNull(format) {
		b = append(b, `{"type":"text"}`...)
	} else {
		b, _ = jsonwire.AppendRaw(b, format)
	}
	if !jsonwire.IsNull(verbosity) {
		b, _ = jsonwire.AppendRawField(b, "verbosity", verbosity)
	}
	return append(b, '}')
}

// appendTools writes the function tools in the shape the reference echoes.
func appendTools(b []byte, tools []llm.Tool) []byte {
	b = append(b, `,"tools":[`...)
	for i := range tools {
		t := &tools[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"type":"function","name":`...)
		b = jsonwire.AppendString(b, t.Name)
		if t.Description != "" {
			b = jsonwire.AppendStringField(b, "description", t.Description)
		}
		b, _ = jsonwire.AppendRawField(b, "parameters", t.Parameters)
		b = append(b, `,"strict":`...)
		if t.Strict != nil {
			b = strconv.AppendBool(b, *t.Strict)
		} else {
			b = append(b, "null"...)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendUsage(b []byte, u *llm.Usage) []byte {
	b = append(b, `{"input_tokens":`...)
	b = strconv.AppendInt(b, int64(u.PromptTokens), 10)
	b = append(b, `,"input_tokens_details":{"cached_tokens":`...)
	b = strconv.AppendInt(b, int64(u.CachedTokens), 10)
	b = append(b, `,"cache_write_tokens":`...)
	b = strconv.AppendInt(b, int64(u.CacheCreationTokens), 10)
	b = append(b, `},"output_tokens":`...)
	b = strconv.AppendInt(b, int64(u.CompletionTokens), 10)
	b = append(b, `,"output_tokens_details":{"reasoning_tokens":`...)
	b = strconv.AppendInt(b, int64(u.ReasoningTokens), 10)
	b = append(b, `},"total_tokens":`...)
	b = strconv.AppendInt(b, int64(u.Total()), 10)
	return append(b, '}')
}
