package llm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Kind classifies an error; it fixes the HTTP status and the codes each
// protocol reports.
type Kind uint8

// Error kinds.
const (
	KindInternal Kind = iota
	KindInvalidRequest
	KindAuthentication
	KindPermission
	KindNotFound
	KindTooLarge
	KindRateLimited
	KindBudgetExceeded
	KindContextLength
	KindContentPolicy
	KindUpstream
	KindUpstreamUnavailable
	KindUpstreamTimeout
	// KindCanceled is a client that went away; nothing is written to it.
	KindCanceled
	// KindNoRoute is a path the gateway does not serve.
	KindNoRoute
	// KindMethodNotAllowed is a known path asked with the wrong method.
	KindMethodNotAllowed
	// KindHostNotAllowed is a request for a Host the gateway does not
	// serve (server.allowed_hosts).
	KindHostNotAllowed
	// KindOriginNotAllowed is a request from a web page whose Origin is
	// not allowed (server.cors.allowed_origins).
	KindOriginNotAllowed
	// KindRequestTimeout is a request body that did not arrive within
	// server.read_timeout.
	KindRequestTimeout
	// KindShuttingDown is a request or stream cut by the end of a drain.
	KindShuttingDown
	// KindUnprocessable is a request the upstream understood and refused
	// as semantically invalid (its 422).
	KindUnprocessable
	// KindLoopDetected is a request that came back to the gateway that
	// forwarded it: a provider whose base URL leads to the gateway itself.
	KindLoopDetected
	// KindMissing is a tenant, team, key or other stored object that does
	// not exist, or that the caller may not see.
	KindMissing
	// KindConflict is a write the stored state forbids: a name already
	// taken, a tenant that still owns keys, a revoked key rotated.
	KindConflict
	// KindUnavailable is a request the gateway cannot serve because a
	// store it depends on does not answer (a key not cached while the
	// database is down).
	KindUnavailable
	// KindForbidden is a caller whose credential is valid but grants no
	// access to the route (an admin key on the data plane).
	KindForbidden
	// KindCostCapExceeded is a call whose estimated cost is above the cap
	// its caller set (x-llmgw-max-cost-usd, or the key's max_cost_usd), or
	// whose cost cannot be estimated under such a cap.
	KindCostCapExceeded
	// KindIdempotencyConflict is an Idempotency-Key reused with another
	// request: a different body or route.
	KindIdempotencyConflict
	// KindOverloaded is a request refused because the replica is over its
	// concurrency ceiling (server.max_concurrent_requests,
	// server.max_open_streams) and its place in the overload queue did not
	// come in time.
	KindOverloaded
)

type kindInfo struct {
	status        int
	code          string // OpenAI error code
	openaiType    string
	anthropicType string
	message       string // default public message
}

var kinds = [...]kindInfo{
	KindInternal:            {http.StatusInternalServerError, "internal_error", "server_error", "api_error", "internal error"},
	KindInvalidRequest:      {http.StatusBadRequest, "invalid_request_error", "invalid_request_error", "invalid_request_error", "invalid request"},
	KindAuthentication:      {http.StatusUnauthorized, "invalid_api_key", "invalid_request_error", "authentication_error", "missing or invalid API key"},
	KindPermission:          {http.StatusForbidden, "model_not_allowed", "invalid_request_error", "permission_error", "this key may not use this model"},
	KindNotFound:            {http.StatusNotFound, "model_not_found", "invalid_request_error", "not_found_error", "model not found"},
	KindTooLarge:            {http.StatusRequestEntityTooLarge, "request_too_large", "invalid_request_error", "request_too_large", "request body too large"},
	KindRateLimited:         {http.StatusTooManyRequests, "rate_limit_exceeded", "rate_limit_error", "rate_limit_error", "rate limit exceeded"},
	KindBudgetExceeded:      {http.StatusTooManyRequests, "budget_exceeded", "rate_limit_error", "rate_limit_error", "budget exceeded"},
	KindContextLength:       {http.StatusBadRequest, "context_length_exceeded", "invalid_request_error", "invalid_request_error", "the request exceeds the model's context window"},
	KindContentPolicy:       {http.StatusBadRequest, "content_policy_violation", "invalid_request_error", "invalid_request_error", "the request was rejected by the provider's content policy"},
	KindUpstream:            {http.StatusBadGateway, "upstream_error", "upstream_error", "api_error", "the upstream provider failed"},
	KindUpstreamUnavailable: {http.StatusServiceUnavailable, "upstream_unavailable", "upstream_error", "overloaded_error", "no upstream provider is available"},
	KindUpstreamTimeout:     {http.StatusGatewayTimeout, "upstream_timeout", "upstream_error", "timeout_error", "the upstream provider timed out"},
	KindCanceled:            {499, "canceled", "canceled", "canceled", "the client closed the request"},
	KindNoRoute:             {http.StatusNotFound, "not_found", "invalid_request_error", "not_found_error", "no such route"},
	KindMethodNotAllowed:    {http.StatusMethodNotAllowed, "method_not_allowed", "invalid_request_error", "invalid_request_error", "method not allowed"},
	KindHostNotAllowed:      {http.StatusForbidden, "host_not_allowed", "invalid_request_error", "permission_error", "this Host is not served; list it in server.allowed_hosts"},
	KindOriginNotAllowed:    {http.StatusForbidden, "origin_not_allowed", "invalid_request_error", "permission_error", "requests from this Origin are not allowed; list it in server.cors.allowed_origins"},
	KindRequestTimeout:      {http.StatusRequestTimeout, "request_timeout", "invalid_request_error", "invalid_request_error", "the request body did not arrive in time"},
	KindShuttingDown:        {http.StatusServiceUnavailable, "server_shutting_down", "server_error", "overloaded_error", "the gateway is shutting down; retry the request"},
	KindUnprocessable:       {http.StatusUnprocessableEntity, "unprocessable_entity", "invalid_request_error", "invalid_request_error", "the upstream could not process the request"},
	KindUnavailable:         {http.StatusServiceUnavailable, "service_unavailable", "server_error", "api_error", "the gateway's store is unavailable; retry shortly"},
	KindForbidden:           {http.StatusForbidden, "permission_denied", "permission_error", "permission_error", "this credential may not use this route"},
	KindLoopDetected:        {http.StatusLoopDetected, "loop_detected", "server_error", "api_error", "the request came back to the gateway that forwarded it: a provider's base URL leads to the gateway itself"},
	KindMissing:             {http.StatusNotFound, "not_found", "invalid_request_error", "not_found_error", "not found"},
	KindConflict:            {http.StatusConflict, "conflict", "invalid_request_error", "invalid_request_error", "the request conflicts with the stored state"},
	KindCostCapExceeded:     {http.StatusBadRequest, "cost_cap_exceeded", "invalid_request_error", "invalid_request_error", "the estimated cost of the request is above its cost cap"},
	KindIdempotencyConflict: {http.StatusConflict, "idempotency_key_conflict", "invalid_request_error", "invalid_request_error", "this Idempotency-Key was already used with a different request"},
	KindOverloaded:          {http.StatusServiceUnavailable, "overloaded", "server_error", "overloaded_error", "the gateway is over its concurrency ceiling; retry shortly"},
}

// Status returns the HTTP status of the kind.
func (k Kind) Status() int { return kinds[k].status }

// Code returns the OpenAI error code of the kind.
func (k Kind) Code() string { return kinds[k].code }

// OpenAIType returns the OpenAI error type of the kind.
func (k Kind) OpenAIType() string { return kinds[k].openaiType }

// AnthropicType returns the Anthropic error type of the kind.
func (k Kind) AnthropicType() string { return kinds[k].anthropicType }

// Error is the gateway's one error type. Message is safe to show a client; the
// wrapped cause Err is for logs and is never sent to a client.
type Error struct {
	Kind Kind
	// Message is the client-safe message.
	Message string
	// Param names the offending request field, for invalid requests.
	Param string
	// Provider is the provider name involved, if any.
	Provider string
	// UpstreamStatus is the HTTP status the upstream answered, if any.
	UpstreamStatus int
	// UpstreamType and UpstreamCode are the error type and code an
	// upstream speaking UpstreamProtocol ("openai", "anthropic") gave
	// when it refused the client's request (a 400, 404, 413 or 422),
	// already sanitized. A client speaking that same protocol gets them
	// as they came (see OpenAIType, OpenAICode, AnthropicType); any
	// other gets its own protocol's equivalent of the kind.
	UpstreamType, UpstreamCode string
	UpstreamProtocol           string
	// RetryAfter is how long the client should wait, when known.
	RetryAfter time.Duration
	// Err is the cause.
	Err error
}

// Error implements error; it includes the cause, so it is for logs only.
func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = kinds[e.Kind].message
	}
	if e.Provider != "" {
		msg = e.Provider + ": " + msg
	}
	if e.Err != nil {
		return msg + ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Status returns the HTTP status to answer with.
func (e *Error) Status() int { return e.Kind.Status() }

// OpenAIType returns the error type an OpenAI client is shown: the
// upstream's own when the upstream speaks OpenAI too, else the kind's.
func (e *Error) OpenAIType() string {
	if e.UpstreamProtocol == "openai" && e.UpstreamType != "" {
		return e.UpstreamType
	}
	return e.Kind.OpenAIType()
}

// OpenAICode returns the error code an OpenAI client is shown: the
// upstream's own when the upstream speaks OpenAI too and gave one, else the
// kind's.
func (e *Error) OpenAICode() string {
	if e.UpstreamProtocol == "openai" && e.UpstreamCode != "" {
		return e.UpstreamCode
	}
	return e.Kind.Code()
}

// AnthropicType returns the error type an Anthropic client is shown: the
// upstream's own when the upstream speaks Anthropic too, else the kind's.
func (e *Error) AnthropicType() string {
	if e.UpstreamProtocol == "anthropic" && e.UpstreamType != "" {
		return e.UpstreamType
	}
	return e.Kind.AnthropicType()
}

// PublicMessage returns the message to show a client.
func (e *Error) PublicMessage() string {
	if e.Message != "" {
		return e.Message
	}
	return kinds[e.Kind].message
}

// NewError returns an error of kind with a client-safe message built by format.
func NewError(kind Kind, format string, args ...any) error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// InvalidRequest returns a 400 error naming the offending field param.
func InvalidRequest(param, format string, args ...any) error {
	return &Error{Kind: KindInvalidRequest, Param: param, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error of kind whose public message is msg and whose cause,
// kept for logs, is err.
func Wrap(kind Kind, err error, msg string) error {
	return &Error{Kind: kind, Message: msg, Err: err}
}

// AsError returns err as an *Error: itself if it is one (or wraps one), a
// canceled or timeout error for context errors, and an internal error, with
// err kept as its hidden cause, otherwise.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	switch {
	case errors.Is(err, context.Canceled):
		return &Error{Kind: KindCanceled, Err: err}
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Kind: KindUpstreamTimeout, Err: err}
	}
	return &Error{Kind: KindInternal, Err: err}
}

// Retryable reports whether another attempt, possibly at another target,
// may succeed: upstream failures, timeouts and upstream rate limits.
func (e *Error) Retryable() bool {
	switch e.Kind {
	case KindUpstream, KindUpstreamUnavailable, KindUpstreamTimeout:
		return true
	case KindRateLimited:
		return e.UpstreamStatus != 0
	}
	return false
}
