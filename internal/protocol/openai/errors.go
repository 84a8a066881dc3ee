package openai

import (
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
	"github.com/tidwall/gjson"
)

// DecodeErrorMessage reads the message and code of an upstream error body,
// {"error":{"message","type","code","param"}}. It also accepts the shapes
// OpenAI-compatible servers use instead: {"error":"..."}, a top-level
// "message", or FastAPI's "detail". The code falls back to the error type
// when the upstream sent none. Both are "" for a body it cannot read.
func DecodeErrorMessage(body []byte) (message, code string) {
	if !gjson.ValidBytes(body) {
		return "", ""
	}
	root := gjson.ParseBytes(body)
	if !root.IsObject() {
		return "", ""
	}
	switch e := root.Get("error"); {
	case e.IsObject():
		return errorFields(e)
	case e.Type == gjson.String:
		return e.Str, stringOf(root.Get("code"))
	}
	if root.Get("message").Type == gjson.String {
		return errorFields(root)
	}
	if d := root.Get("detail"); d.Type == gjson.String {
		return d.Str, ""
	}
	return "", ""
}

// errorFields reads message and code (or, lacking one, type) of an error
// object; a bare string is the message.
func errorFields(e gjson.Result) (message, code string) {
	if e.Type == gjson.String {
		return e.Str, ""
	}
	code = stringOf(e.Get("code"))
	if code == "" {
		code = stringOf(e.Get("type"))
	}
	return stringOf(e.Get("message")), code
}

// stringOf returns a string or number value as text, and "" otherwise.
func stringOf(r gjson.Result) string {
	switch r.Type {
	case gjson.String:
		return r.Str
	case gjson.Number:
		return r.Raw
	}
	return ""
}

// DecodeErrorFields reads the type, code and param of an upstream error
// body {"error":{"type","code","param"}}; each is "" when absent or not a
// string (a numeric code is taken as its text).
func DecodeErrorFields(body []byte) (typ, code, param string) {
	if !gjson.ValidBytes(body) {
		return "", "", ""
	}
	e := gjson.GetBytes(body, "error")
	if !e.IsObject() {
		return "", "", ""
	}
	return stringOf(e.Get("type")), stringOf(e.Get("code")), stringOf(e.Get("param"))
}

// AppendError appends the OpenAI error body for e to dst:
// {"error":{"message","type","code","param"}}, param null when e names no
// field. The hidden cause e.Err is never written.
func AppendError(dst []byte, e *llm.Error) []byte {
	b := append(dst, `{"error":{"message":`...)
	b = jsonwire.AppendString(b, e.PublicMessage())
	b = append(b, `,"type":`...)
	b = jsonwire.AppendString(b, e.OpenAIType())
	b = append(b, `,"code":`...)
	b = jsonwire.AppendString(b, e.OpenAICode())
	b = append(b, `,"param":`...)
	if e.Param == "" {
		b = append(b, "null"...)
	} else {
		b = jsonwire.AppendString(b, e.Param)
	}
	return append(b, '}', '}')
}
