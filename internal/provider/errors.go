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

// ErrorFromResponse turns a non-2xx upstream response into an *llm.Error. It
// reads at most 64 KiB of the body and closes it. The wait the upstream asks
// for comes from retry-after-ms, else Retry-After, else, for a 429, the
// x-ratelimit-reset-* header of the exhausted limit. The rate-limit headers
// are passed to ReportHeadroom with the request's context. parse extracts the
// upstream's message and code from the body (nil: none). Only for statuses
// that mean the client's request is at fault is the upstream message relayed,
// with every occurrence of each of secrets replaced, control characters
// removed and the length capped; otherwise the public message is fixed and the
// upstream message, redacted, is kept in the hidden cause for logs.
func ErrorFromResponse(provider string, resp *http.Response, parse func(body []byte) (message, code string), secrets ...string) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_ = resp.Body.Close()
	var msg, code string
	if parse != nil {
		msg, code = parse(body)
	}
	msg = Sanitize(msg, secrets...)
	e := &llm.Error{
		Kind:           kindForStatus(resp.StatusCode, msg, code),
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
	switch resp.StatusCode {
	case http.StatusBadRequest, http.StatusNotFound, http.StatusUnprocessableEntity:
		e.Message = msg
	case http.StatusUnauthorized, http.StatusForbidden:
		e.Message = fmt.Sprintf("the upstream rejected the gateway's credentials for provider %s", provider)
	}
	return e
}

func upstreamCause(status int, code, msg string) error {
	if code != "" {
		return fmt.Errorf("upstream status %d (%s): %s", status, code, msg)
	}
	return fmt.Errorf("upstream status %d: %s", status, msg)
}

// kindForStatus classifies an upstream status, refined by the upstream's
// error code and message for client errors.
func kindForStatus(status int, msg, code string) llm.Kind {
	switch status {
	case http.StatusBadRequest, http.StatusNotFound, http.StatusUnprocessableEntity:
		switch {
		case code == "context_length_exceeded" || contextLengthRE.MatchString(msg):
			return llm.KindContextLength
		case code == "content_policy_violation" || code == "content_filter":
			return llm.KindContentPolicy
		}
		return llm.KindInvalidRequest
	case http.StatusRequestTimeout, http.StatusGatewayTimeout:
		return llm.KindUpstreamTimeout
	case http.StatusServiceUnavailable, 529:
		return llm.KindUpstreamUnavailable
	case http.StatusRequestEntityTooLarge:
		return llm.KindTooLarge
	case http.StatusTooManyRequests:
		return llm.KindRateLimited
	}
	return llm.KindUpstream
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
	case errors.As(err, &de), errors.Is(err, syscall.ECONNREFUSED), errors.As(err, &oe) && oe.Op == "dial":
		e.Kind, e.Message = llm.KindUpstreamUnavailable, "could not connect to the upstream provider"
	default:
		e.Kind, e.Message = llm.KindUpstream, "the connection to the upstream provider failed"
	}
	return e
}
