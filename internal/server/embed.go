package server

import (
	"net/http"
	"strconv"

	"github.com/llmgw/llmgw/internal/pipeline"
	"github.com/llmgw/llmgw/internal/protocol/openai"
)

// handleEmbeddings serves POST /v1/embeddings through the same pipeline as
// chat, so access checks (and later limits and metering) apply alike.
func (s *Server) handleEmbeddings(w http.ResponseWriter, r *http.Request) {
	body, err := s.readBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	req, err := openai.DecodeEmbedRequest(body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ri := infoFrom(r.Context())
	ri.protocol, ri.model = openai.Protocol, req.Model
	call := &pipeline.Call{Op: pipeline.OpEmbed, Protocol: openai.Protocol, Model: req.Model, Body: body, Embed: req}

	stream, cancel, err := s.invoke(w, r, call)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	_ = stream.Close()
	cancel()
	resp := call.Embedding
	out := resp.Raw
	if out == nil || resp.RawProtocol != openai.Protocol {
		if out, err = openai.EncodeEmbedResponse(resp); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	writeJSON(w, http.StatusOK, out)
}
