package router

import (
	"context"
	"log/slog"
	"unicode/utf8"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/provider"
)

// maxReason caps the reason logged for a failed attempt.
const maxReason = 300

// sanitizer is implemented by providers that can redact their own secrets
// (credentials, configured header values) from a message.
type sanitizer interface {
	Sanitize(msg string) string
}

// logFailure logs a failed attempt once, at WARN: the request, the target,
// the attempt's number, the upstream's status and a short reason. The
// reason is the error's public message and its cause (the upstream's own
// message, already sanitized by the provider, or what went wrong on the
// way), sanitized again with the provider's secrets and capped: a log line
// never holds a credential. A request the client cancelled is no failure
// of the upstream and is not logged.
func (r *Router) logFailure(ctx context.Context, a *attempt, err error) {
	e := llm.AsError(err)
	if e.Kind == llm.KindCanceled || !r.log.Enabled(ctx, slog.LevelWarn) {
		return
	}
	reason := e.PublicMessage()
	if e.Err != nil {
		reason += ": " + e.Err.Error()
	}
	if s, ok := a.t.Provider.(sanitizer); ok {
		reason = s.Sanitize(reason)
	} else {
		reason = provider.Sanitize(reason)
	}
	if len(reason) > maxReason {
		cut := maxReason
		for cut > 0 && !utf8.RuneStart(reason[cut]) {
			cut--
		}
		reason = reason[:cut] + "…"
	}
	r.log.LogAttrs(ctx, slog.LevelWarn, "upstream attempt failed",
		slog.String("request_id", a.call.RequestID),
		slog.String("provider", a.t.Provider.Name()),
		slog.String("model", a.m.Name),
		slog.String("target_model", a.model),
		slog.Int("attempt", a.call.Attempts),
		slog.Int("upstream_status", e.UpstreamStatus),
		slog.String("error", e.Kind.Code()),
		slog.String("reason", reason),
	)
}
