package server

import (
	"net/http"
	"strconv"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/anthropic"
	"github.com/llmgw/llmgw/internal/protocol/openai"
)

// writeError is the one place an error becomes a response: the status and
// body shape of the request's protocol (Anthropic's on /v1/messages, known
// from the path before any handler runs, and on the model routes when the
// request carries anthropic-version; OpenAI's elsewhere), a Retry-After
// when known, and nothing at all for a client that went away. Only the
// error's public message is written; its cause stays out of responses and
// logs.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := llm.AsError(err)
	if cutByShutdown(r) {
		e = errShuttingDown
	}
	ri := infoFrom(r.Context())
	ri.errCode = e.Kind.Code()
	if e.Provider != "" && ri.provider == "" {
		ri.provider = e.Provider
	}
	if e.Kind == llm.KindCanceled {
		return
	}
	h := w.Header()
	if e.Provider != "" && isV1(r) {
		h.Set("X-Llmgw-Provider", e.Provider)
	}
	if e.RetryAfter > 0 {
		secs := int64((e.RetryAfter + 999_999_999) / 1_000_000_000)
		h.Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	if e.Kind == llm.KindRequestTimeout || e.Kind == llm.KindTooLarge {
		// The rest of the body may still come: it is neither waited for
		// nor read as the next request.
		cutBody(w, r)
		h.Set("Connection", "close")
	}
	noRetry(h, e)
	h.Set("Content-Type", "application/json")
	h.Del("Content-Length")
	w.WriteHeader(e.Status())
	if ri.protocol == anthropic.Protocol || isAnthropicPath(r.URL.Path) || isAnthropicModels(r) {
		_, _ = w.Write(anthropic.AppendError(nil, e))
		return
	}
	_, _ = w.Write(openai.AppendError(nil, e))
}

func isV1(r *http.Request) bool {
	p := r.URL.Path
	return len(p) >= 4 && p[:4] == "/v1/"
}
