package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/llmgw/llmgw/internal/llm"
)

const (
	// maxErrorBody is how much of an upstream error body is read.
	maxErrorBody = 64 << 10
	// maxRelayedMessage caps an upstream message relayed to a client.
	maxRelayedMessage = 1 << 10
	// redacted replaces every secret found in an upstream message.
	redacted = "[redacted]"
)

// contextLengthRE matches the wording upstreams use when a prompt does not fit.
var contextLengthRE = regexp.MustCompile(`(?i)context[ _-]?(length|window)|prompt is too long|too many tokens|maximum number of tokens`)

// StatusMapping is how one upstream error status reaches the client.
type StatusMapping struct {
	// Status is the upstream's HTTP status; 0 stands for any status not
	// listed.
	Status int
	// Kind is the gateway's error kind, which fixes the status the client
	// gets and the type and code of the client's protocol.
	Kind llm.Kind
	// Final, when set, is the kind the client gets instead when this was
	// the last of the request's attempts (the router's rule).
	Final llm.Kind
	// Relay: the request itself was refused, so the upstream's message,
	// error type, code and param (sanitized) are passed on to the client.
	// Otherwise the public message is fixed and the upstream's words stay
	// in the hidden cause, for the logs.
	Relay bool
	// Note says why, for the documentation.
	Note string
}

// statusMappings is the one table of upstream error statuses: the status
// class of a refused request survives to the client, as the SDKs tell a
// NotFoundError from a BadRequestError by status alone; a failure of the
// upstream or of the gateway's own credentials is the gateway's upstream
// error. docs/compatibility.md is generated from it.
var statusMappings = []StatusMapping{
	{Status: http.StatusBadRequest, Kind: llm.KindInvalidRequest, Relay: true,
		Note: "a context-window or content-policy refusal becomes `context_length_exceeded` / `content_policy_violation`"},
	{Status: http.StatusUnauthorized, Kind: llm.KindUpstream,
		Note: "the gateway's credentials for the provider are wrong: the client's own request is not at fault; another target is tried"},
	{Status: http.StatusPaymentRequired, Kind: llm.KindUpstream, Note: "the gateway's account with the provider (Anthropic `billing_error`)"},
	{Status: http.StatusForbidden, Kind: llm.KindUpstream,
		Note: "as 401: the gateway's credentials may not do this; another target is tried"},
	{Status: http.StatusNotFound, Kind: llm.KindNotFound, Relay: true, Note: "typically the upstream model id"},
	{Status: http.StatusRequestTimeout, Kind: llm.KindUpstreamTimeout, Note: "retried"},
	{Status: http.StatusConflict, Kind: llm.KindUpstream, Note: "retried"},
	{Status: http.StatusRequestEntityTooLarge, Kind: llm.KindTooLarge, Relay: true},
	{Status: http.StatusUnprocessableEntity, Kind: llm.KindUnprocessable, Relay: true},
	{Status: http.StatusTooManyRequests, Kind: llm.KindRateLimited, Final: llm.KindUpstreamUnavailable,
		Note: "retried; every attempt rate limited is every target failing, with the upstream's Retry-After: a 429 from the gateway means the caller's own limit"},
	{Status: http.StatusInternalServerError, Kind: llm.KindUpstream, Note: "retried"},
	{Status: http.StatusBadGateway, Kind: llm.KindUpstream, Note: "retried"},
	{Status: http.StatusServiceUnavailable, Kind: llm.KindUpstreamUnavailable, Note: "retried"},
	{Status: http.StatusGatewayTimeout, Kind: llm.KindUpstreamTimeout, Note: "retried"},
	{Status: http.StatusLoopDetected, Kind: llm.KindLoopDetected,
		Note: "another gateway (or this one) found the request came back to it: a provider's base URL leads to a gateway; not retried"},
	{Status: 529, Kind: llm.KindUpstreamUnavailable, Note: "Anthropic `overloaded_error`; retried"},
	{Status: 0, Kind: llm.KindUpstream, Note: "any other status; 5xx retried, 4xx not"},
}

// StatusMappings returns the table of upstream error statuses, in order,
// the catch-all row (Status 0) last.
func StatusMappings() []StatusMapping { return append([]StatusMapping(nil), statusMappings...) }

// mappingFor returns the row of an upstream status.
func mappingFor(status int) StatusMapping {
	for _, m := range statusMappings {
		if m.Status == status {
			return m
		}
	}
	return statusMappings[len(statusMappings)-1]
}

// ErrorParser reads an upstream's error bodies.
type ErrorParser struct {
	// Protocol is the wire protocol of the bodies ("openai", "anthropic"),
	// so that a client speaking it gets the upstream's type and code as
	// they came.
	Protocol string
	// Message extracts the message and code (or type) of a body.
	Message func(body []byte) (message, code string)
	// Fields extracts the error type, code and param of a body, as the
	// protocol names them; nil: none are relayed.
	Fields func(body []byte) (typ, code, param string)
}

// ErrorFromResponse turns a non-2xx upstream response into an *llm.Error. It
// reads at most 64 KiB of the body and closes it. The wait the upstream asks
// for comes from retry-after-ms, else Retry-After, else, for a 429, the
// x-ratelimit-reset-* header of the exhausted limit. The rate-limit headers
// are passed to ReportHeadroom with the request's context. parse extracts the
// upstream's message and code from the body (nil: none). The kind comes
// from the status (see StatusMappings). Only for statuses that mean the
// client's request is at fault is the upstream message relayed, with every
// occurrence of each of secrets replaced, control characters removed and the
// length capped; otherwise the public message is fixed and the upstream
// message, redacted, is kept in the hidden cause for logs.
func ErrorFromResponse(provider string, resp *http.Response, parse func(body []byte) (message, code string), secrets ...string) error {
	return errorFromResponse(provider, resp, ErrorParser{Message: parse}, secrets)
}

func errorFromResponse(provider string, resp *http.Response, parse ErrorParser, secrets []string) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_ = resp.Body.Close()
	var msg, code string
	if parse.Message != nil {
		msg, code = parse.Message(body)
	}
	msg = Sanitize(msg, secrets...)
	m := mappingFor(resp.StatusCode)
	e := &llm.Error{
		Kind:           refineKind(m.Kind, msg, code),
		Provider:       provider,
		UpstreamStatus: resp.StatusCode,
		RetryAfter:     retryAfter(resp.Header, time.Now()),
		Err:            upstreamCause(resp.StatusCode, code, msg),
	}
	hr, _ := ParseHeadroom(resp.Header)
	if e.RetryAfter == 0 && resp.StatusCode == http.StatusTooManyRequests {
		e.RetryAfter = hr.Reset()
	}
	if resp.Request != nil {
		ReportHeadroom(resp.Request.Context(), resp.Header)
	}
	switch {
	case m.Relay:
		e.Message = msg
		if parse.Fields != nil {
			typ, code, param := parse.Fields(body)
			e.UpstreamProtocol = parse.Protocol
			e.UpstreamType = relayName(typ, secrets)
			e.UpstreamCode = relayName(code, secrets)
			e.Param = relayName(param, secrets)
		}
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		e.Message = fmt.Sprintf("the upstream rejected the gateway's credentials for provider %s", provider)
	}
	return e
}

// maxRelayedName caps an error type, code or param relayed to a client.
const maxRelayedName = 256

// relayName returns an upstream's error type, code or param when it is a
// short name, as they all are ("invalid_value", "messages[0].content"), and
// "" otherwise: anything longer, holding other characters or one of the
// secrets is not relayed.
func relayName(s string, secrets []string) string {
	if s == "" || len(s) > maxRelayedName || Sanitize(s, secrets...) != s {
		return ""
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("_-.:[]/", c) >= 0:
		default:
			return ""
		}
	}
	return s
}

func upstreamCause(status int, code, msg string) error {
	if code != "" {
		return fmt.Errorf("upstream status %d (%s): %s", status, code, msg)
	}
	return fmt.Errorf("upstream status %d: %s", status, msg)
}

// refineKind refines the kind of a refused request by the upstream's error
// code and message: a prompt over the context window and a content-policy
// refusal lead to their own fallback lists.
func refineKind(k llm.Kind, msg, code string) llm.Kind {
	if k != llm.KindInvalidRequest && k != llm.KindUnprocessable {
		return k
	}
	switch {
	case code == "context_length_exceeded" || contextLengthRE.MatchString(msg):
		return llm.KindContextLength
	case code == "content_policy_violation" || code == "content_filter":
		return llm.KindContentPolicy
	}
	return k
}

// Sanitize makes an upstream message safe to relay: every occurrence of each
// non-empty secret becomes "[redacted]", control characters are dropped,
// invalid UTF-8 is replaced and the result is capped at 1 KiB.
func Sanitize(msg string, secrets ...string) string {
	msg = redact(msg, secrets)
	msg = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t' || r == '\r':
			return ' '
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, strings.ToValidUTF8(msg, "\uFFFD"))
	// Dropping control characters may have joined a secret split by them.
	msg = strings.TrimSpace(redact(msg, secrets))
	if len(msg) > maxRelayedMessage {
		cut := maxRelayedMessage
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	return msg
}

func redact(msg string, secrets []string) string {
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, redacted)
		}
	}
	return msg
}

// retryAfter reads how long the upstream asks to wait: retry-after-ms
// (milliseconds, possibly fractional), else Retry-After (seconds or an HTTP
// date), else zero.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("retry-after-ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 && !math.IsInf(ms, 0) {
			return durationCapped(ms * float64(time.Millisecond))
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s > 0 && !math.IsInf(s, 0) {
			return durationCapped(s * float64(time.Second))
		}
		return 0
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// maxRetryAfter bounds what an upstream can make the gateway tell a client.
const maxRetryAfter = 24 * time.Hour

func durationCapped(ns float64) time.Duration {
	if ns >= float64(maxRetryAfter) {
		return maxRetryAfter
	}
	return time.Duration(ns)
}

// TransportError turns a failure to get a response from the upstream into an
// *llm.Error with a fixed public message: the cause, which names the
// upstream's URL or address, is kept hidden. The caller's own cancellation
// becomes KindCanceled; timeouts KindUpstreamTimeout; failures to connect
// KindUpstreamUnavailable; anything else (a reset, a TLS failure)
// KindUpstream. An *llm.Error is returned unchanged.
func TransportError(provider string, err error) error {
	var le *llm.Error
	if errors.As(err, &le) {
		return err
	}
	e := &llm.Error{Provider: provider, Err: err}
	var ne net.Error
	var oe *net.OpError
	var de *net.DNSError
	switch {
	case errors.Is(err, context.Canceled):
		e.Kind = llm.KindCanceled
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		e.Kind, e.Message = llm.KindUpstreamTimeout, "the upstream provider timed out"
	case errors.Is(err, ErrPoolExhausted):
		e.Kind, e.Message = llm.KindUpstreamUnavailable, "every connection to the upstream provider is in use (providers[].max_connections) and none came free within pool_timeout"
	case errors.As(err, &de), errors.Is(err, syscall.ECONNREFUSED), errors.As(err, &oe) && oe.Op == "dial":
		e.Kind, e.Message = llm.KindUpstreamUnavailable, "could not connect to the upstream provider"
	default:
		e.Kind, e.Message = llm.KindUpstream, "the connection to the upstream provider failed"
	}
	return e
}
