package server

import (
	"net/http"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/pipeline"
	"github.com/llmgw/llmgw/internal/protocol/openai"
)

// completionsEndpoint names legacy completions in messages.
const completionsEndpoint = "legacy completions"

// completionsCall is newCall for a legacy completion body, which it also
// checks the shape of (openai.CheckCompletionRequest) and reads the prompt
// and output bound of, so that admission reserves tokens for a body it
// never decodes. The call is Native: it has no canonical request and goes
// only to targets that forward OpenAI's /completions.
func completionsCall(body []byte) (*pipeline.Call, error) {
	call, root, err := newCall(body, openai.CompletionsProtocol, noCanonicalCompletion)
	if err != nil {
		return nil, err
	}
	req, err := openai.CheckCompletionRequest(root)
	if err != nil {
		return nil, err
	}
	call.IncludeUsage = call.Stream && req.IncludeUsage
	call.Native = &pipeline.Native{Endpoint: completionsEndpoint, PromptText: req.PromptText,
		PromptTokens: req.PromptTokenIDs, MaxOutputTokens: req.MaxOutputTokens()}
	return call, nil
}

// noCanonicalCompletion is the decoder of a legacy completion body: there
// is no canonical form of one, so a stage or target that would need it
// refuses the call.
func noCanonicalCompletion([]byte) (*llm.ChatRequest, error) {
	return nil, llm.InvalidRequest("", "%s are forwarded as they are to OpenAI-protocol upstreams only", completionsEndpoint)
}

// encodeNoCompletion stands for the encoder of a legacy completion: an
// answer that did not come as one cannot be made one.
func encodeNoCompletion(*llm.Chunk) ([]byte, error) {
	return nil, llm.NewError(llm.KindUpstream, "the upstream's answer is not a legacy completion")
}

// handleCompletions serves POST /v1/completions: OpenAI's legacy text
// completions, forwarded to the model's OpenAI-protocol targets through
// the same pipeline as chat (access, limits and budgets, metering,
// routing); streamed answers as chat's are, usage always asked of the
// upstream and passed on only when the client asked for it.
func (s *Server) handleCompletions(w http.ResponseWriter, r *http.Request) {
	body, err := s.readBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	call, err := completionsCall(body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ri := infoFrom(r.Context())
	ri.protocol, ri.model, ri.stream = call.Protocol, call.Model, call.Stream
	stream, cancel, err := s.invoke(w, r, call)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer cancel()
	defer stream.Close()
	if call.Stream {
		s.writeOpenAIStream(w, r, call, stream)
		return
	}
	s.writeResponse(w, r, call, stream, openai.CompletionsProtocol, encodeNoCompletion)
}
