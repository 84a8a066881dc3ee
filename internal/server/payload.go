package server

import (
	"log/slog"
	"net/http"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/payloadlog"
)

// appendOutcome appends to an access log line what the call's end made
// known: the upstream model and attempts, the time to first token of a
// stream, the tokens and cost of an answer.
func (ri *reqInfo) appendOutcome(attrs []slog.Attr) []slog.Attr {
	if ri.team != "" {
		attrs = append(attrs, slog.String("team", llm.Clip(ri.team)))
	}
	if ri.upstreamModel != "" {
		attrs = append(attrs, slog.String("upstream_model", llm.Clip(ri.upstreamModel)))
	}
	if ri.routeRule != "" {
		attrs = append(attrs, slog.String("route_rule", ri.routeRule))
	}
	if ri.attempts > 0 {
		attrs = append(attrs, slog.Int("attempts", ri.attempts))
	}
	if ri.stream && ri.ttft > 0 {
		attrs = append(attrs, slog.Float64("ttft_ms", float64(ri.ttft.Microseconds())/1000))
	}
	if ri.result == nil {
		return attrs
	}
	u := &ri.done.usage
	attrs = append(attrs,
		slog.Int("input_tokens", u.PromptTokens),
		slog.Int("output_tokens", u.CompletionTokens),
		slog.Int("cached_tokens", u.CachedTokens),
		slog.Int("cache_write_tokens", u.CacheCreationTokens),
		slog.Int("reasoning_tokens", u.ReasoningTokens),
	)
	if ri.done.estimated {
		attrs = append(attrs, slog.Bool("usage_estimated", true))
	}
	if ri.done.costKnown {
		attrs = append(attrs, slog.Float64("cost_usd", float64(ri.done.costPico)/1e12))
	}
	return attrs
}

// payloadCapture is what a request whose tenant's payloads are logged
// keeps of its bodies: the request body as read (the handler's, never
// modified) and the first bytes of the response as written, as many as
// the policy reads.
type payloadCapture struct {
	policy *payloadlog.Policy
	req    []byte
	resp   []byte
}

// capturePayload makes the request keep its bodies for the payload log,
// under policy.
func (ri *reqInfo) capturePayload(policy *payloadlog.Policy) {
	ri.payload = &payloadCapture{policy: policy}
	if ri.rec != nil {
		ri.rec.keep = ri.payload
	}
}

// response keeps what it can of b, written to the client.
func (c *payloadCapture) response(b []byte) {
	if room := c.policy.Window() - len(c.resp); room > 0 {
		c.resp = append(c.resp, b[:min(room, len(b))]...)
	}
}

// payloadLog writes the payload line of a request whose tenant's payloads
// are logged: its request body, and its response (the body written, or
// for a stream that began, the text it delivered), each redacted and cut
// to the policy's bound, with their sizes.
func (s *Server) payloadLog(r *http.Request, rec *recorder, ri *reqInfo) {
	c := ri.payload
	ctx := r.Context()
	if c == nil || !s.log.Enabled(ctx, slog.LevelInfo) {
		return
	}
	req, reqCut := c.policy.Text(c.req)
	kind, size := "body", rec.bytes
	resp, respCut := c.policy.Text(c.resp)
	respCut = respCut || rec.bytes > int64(len(c.resp))
	if ri.out.began {
		text, frac := ri.out.text()
		kind, size = "text", int64(len(text))
		resp, respCut = c.policy.Text([]byte(text))
		respCut = respCut || frac < 1
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "payload",
		slog.String("request_id", ri.id),
		slog.String("tenant", llm.Clip(ri.tenant)),
		slog.String("key", llm.Clip(ri.key)),
		slog.String("model", llm.Clip(ri.model)),
		slog.String("request", req),
		slog.Int("request_bytes", len(c.req)),
		slog.Bool("request_truncated", reqCut),
		slog.String("response", resp),
		slog.String("response_kind", kind),
		slog.Int64("response_bytes", size),
		slog.Bool("response_truncated", respCut),
	)
}
