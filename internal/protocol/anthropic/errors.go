package anthropic

import (
	"fmt"
	"net/http"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
	"github.com/tidwall/gjson"
)

// AppendError appends the Anthropic error body for e to dst:
// {"type":"error","error":{"type":...,"message":...}}. The hidden cause
// e.Err is never written.
func AppendError(dst []byte, e *llm.Error) []byte {
	b := append(dst, `{"type":"error","error":{"type":`...)
	b = jsonwire.AppendString(b, e.AnthropicType())
	b = append(b, `,"message":`...)
	b = jsonwire.AppendString(b, e.PublicMessage())
	return append(b, '}', '}')
}

// DecodeErrorFields reads the error type of an upstream error body,
// {"type":"error","error":{"type"}}; Anthropic's errors have no code or
// param, so those are always "".
func DecodeErrorFields(body []byte) (typ, code, param string) {
	if !gjson.ValidBytes(body) {
		return "", "", ""
	}
	if t := gjson.GetBytes(body, "error.type"); t.Type == gjson.String {
		return t.Str, "", ""
	}
	return "", "", ""
}

// AppendStreamError appends the data of an in-stream "error" event for e to
// dst. Anthropic's stream error event carries the same object as an error
// body.
func AppendStreamError(dst []byte, e *llm.Error) []byte { return AppendError(dst, e) }

// DecodeErrorMessage reads the message and error type of an upstream error
// body, {"type":"error","error":{"type","message"}}. It also accepts an
// OpenAI-style {"error":{"message","type"}} and a top-level "message", as
// proxies in front of Anthropic answer. Both are "" for a body it cannot
// read.
func DecodeErrorMessage(body []byte) (message, errType string) {
	if !gjson.ValidBytes(body) {
		return "", ""
	}
	root := gjson.ParseBytes(body)
	if !root.IsObject() {
		return "", ""
	}
	switch e := root.Get("error"); {
	case e.IsObject():
		return e.Get("message").String(), e.Get("type").String()
	case e.Type == gjson.String:
		return e.Str, ""
	}
	if m := root.Get("message"); m.Type == gjson.String {
		return m.Str, root.Get("type").String()
	}
	return "", ""
}

// streamError turns an Anthropic error object, met inside a stream or a 200
// body, into the gateway's error. The status is what Anthropic would have
// answered outside a stream. Only an invalid request relays the upstream's
// message to the client; for the others it stays in the hidden cause.
func streamError(typ, msg string) error {
	e := &llm.Error{Err: fmt.Errorf("anthropic: upstream %s: %s", typ, msg)}
	switch typ {
	case "overloaded_error":
		e.Kind, e.UpstreamStatus = llm.KindUpstreamUnavailable, 529
	case "rate_limit_error":
		e.Kind, e.UpstreamStatus = llm.KindRateLimited, http.StatusTooManyRequests
	case "timeout_error":
		e.Kind, e.UpstreamStatus = llm.KindUpstreamTimeout, http.StatusGatewayTimeout
	case "invalid_request_error":
		e.Kind, e.UpstreamStatus, e.Message = llm.KindInvalidRequest, http.StatusBadRequest, msg
	case "request_too_large":
		e.Kind, e.UpstreamStatus = llm.KindTooLarge, http.StatusRequestEntityTooLarge
	case "authentication_error":
		e.Kind, e.UpstreamStatus = llm.KindUpstream, http.StatusUnauthorized
	case "permission_error":
		e.Kind, e.UpstreamStatus = llm.KindUpstream, http.StatusForbidden
	case "billing_error":
		e.Kind, e.UpstreamStatus = llm.KindUpstream, http.StatusPaymentRequired
	case "not_found_error":
		e.Kind, e.UpstreamStatus = llm.KindUpstream, http.StatusNotFound
	default: // api_error and types yet unknown
		e.Kind, e.UpstreamStatus = llm.KindUpstream, http.StatusInternalServerError
	}
	return e
}
