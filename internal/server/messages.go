package server

import (
	"context"
	"net/http"
	"strings"

	"github.com/llmgw/llmgw/internal/auth"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/pipeline"
	"github.com/llmgw/llmgw/internal/protocol/anthropic"
	"github.com/llmgw/llmgw/internal/provider"
)

// messagesCall is newCall for an Anthropic Messages body, which it also
// checks the shape of, as chatCall does, so that the fast path never
// forwards a malformed request.
func messagesCall(body []byte) (*pipeline.Call, error) {
	call, root, err := newCall(body, anthropic.Protocol, anthropic.DecodeCheckedMessagesRequest)
	if err != nil {
		return nil, err
	}
	if err := checkMessagesShape(root); err != nil {
		return nil, err
	}
	return call, nil
}

// handleMessages serves POST /v1/messages: Anthropic Messages to any
// configured model, forwarded as is to an Anthropic upstream and translated
// for any other.
func (s *Server) handleMessages(w http.ResponseWriter, r *http.Request) {
	ri := infoFrom(r.Context())
	ri.protocol = anthropic.Protocol
	body, err := s.readBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	call, err := messagesCall(body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ri.model, ri.stream = call.Model, call.Stream

	stream, cancel, err := s.invoke(w, r, call)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer cancel()
	defer stream.Close()
	if call.Stream {
		s.writeAnthropicStream(w, r, call, stream)
		return
	}
	s.writeResponse(w, r, call, stream, anthropic.Protocol, anthropic.EncodeMessagesResponse)
}

// handleCountTokens serves POST /v1/messages/count_tokens: the upstream's own
// count when the model's provider can count (Anthropic), else
// anthropic.EstimateTokens. The caller's key must allow the model.
func (s *Server) handleCountTokens(w http.ResponseWriter, r *http.Request) {
	ri := infoFrom(r.Context())
	ri.protocol = anthropic.Protocol
	body, err := s.readBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	req, err := anthropic.DecodeCountTokensRequest(body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Model == "" {
		s.writeError(w, r, llm.InvalidRequest("model", "model is required and must be a non-empty string"))
		return
	}
	ri.model = req.Model
	if p := auth.FromContext(r.Context()); p == nil || !p.Allows(req.Model) {
		s.writeError(w, r, llm.NewError(llm.KindPermission, "this key may not use model %q", llm.Clip(req.Model)))
		return
	}
	snap := s.current(r)
	prov, model, ok := targetOf(snap, req.Model)
	if !ok {
		s.writeError(w, r, llm.NewError(llm.KindNotFound, "model %q not found", llm.Clip(req.Model)))
		return
	}
	ri.provider = prov.Name()
	w.Header().Set("X-Llmgw-Provider", prov.Name())
	n, err := s.countTokens(r.Context(), snap, prov, model, req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, anthropic.EncodeCountTokensResponse(n))
}

// countTokens asks the upstream when it can count. An upstream that fails
// for reasons other than the request itself leaves the estimate as the
// answer: a count is advice, not worth failing a client over.
func (s *Server) countTokens(ctx context.Context, snap *gateway.Snapshot, prov provider.Provider, model string, req *llm.ChatRequest) (int, error) {
	tc, ok := prov.(provider.TokenCounter)
	if !ok {
		return anthropic.EstimateTokens(req), nil
	}
	ctx, cancel := context.WithTimeout(ctx, snap.Config.Server.RequestTimeout.Std())
	defer cancel()
	up := *req
	up.Model = model
	n, err := tc.CountTokens(ctx, &up)
	if err == nil {
		return n, nil
	}
	switch e := llm.AsError(err); e.Kind {
	case llm.KindInvalidRequest, llm.KindContextLength, llm.KindCanceled:
		return 0, err
	}
	s.log.Debug("count_tokens: upstream failed, answering an estimate", "provider", prov.Name(), "error", err.Error())
	return anthropic.EstimateTokens(req), nil
}

// targetOf returns the provider and upstream model id that would serve
// name, matched by the router as on every other route.
func targetOf(snap *gateway.Snapshot, name string) (provider.Provider, string, bool) {
	return snap.Router.Target(name)
}

// isAnthropicPath reports whether path is one of the Anthropic-protocol
// routes, whose errors take Anthropic's shape even before a handler runs
// (a 401 from auth, say).
func isAnthropicPath(path string) bool {
	return path == "/v1/messages" || strings.HasPrefix(path, "/v1/messages/")
}
