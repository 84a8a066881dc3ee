package anthropic

import (
	"bytes"
	"io"
	"net/http"

	"github.com/tidwall/gjson"
)

// statusOfType is the HTTP status each Anthropic error type is documented to
// come with, so that an error arriving inside a stream (or a 200 body) is
// classified exactly like the same error arriving as a status.
var statusOfType = map[string]int{
	"invalid_request_error": http.StatusBadRequest,
	"authentication_error":  http.StatusUnauthorized,
	"billing_error":         http.StatusPaymentRequired,
	"permission_error":      http.StatusForbidden,
	"not_found_error":       http.StatusNotFound,
	"request_too_large":     http.StatusRequestEntityTooLarge,
	"rate_limit_error":      http.StatusTooManyRequests,
	"api_error":             http.StatusInternalServerError,
	"timeout_error":         http.StatusGatewayTimeout,
	"overloaded_error":      529,
}

// eventError turns an Anthropic error object ({"type":"error","error":{...}})
// received with a 200 status, as a stream event or a body, into an
// *llm.Error: overloaded_error is upstream-unavailable and rate_limit_error an
// upstream rate limit, both retryable; an unknown type is an upstream failure.
func (p *Provider) eventError(data []byte) error {
	status, ok := statusOfType[gjson.GetBytes(data, "error.type").String()]
	if !ok {
		status = http.StatusBadGateway
	}
	resp := &http.Response{
		StatusCode: status,
		Header:     http.Header{},
		Body:       io.NopCloser(bytes.NewReader(data)),
	}
	return p.up.ResponseError(resp)
}

// isErrorPayload reports whether a body or event payload is an Anthropic
// error object, reading only its leading "type" member when it comes first.
func isErrorPayload(data []byte) bool {
	if t := gjson.GetBytes(data, "type"); t.Exists() {
		return t.Str == "error"
	}
	return false
}
