package server

import (
	"errors"
	"io"
	"net/http"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/pipeline"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
	"github.com/llmgw/llmgw/internal/protocol/openai"
)

// readBody reads the request body up to the configured limit.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	limit := s.current(r).Config.Server.MaxBodyBytes
	tooLarge := func() error {
		return llm.NewError(llm.KindTooLarge, "request body is larger than the limit of %d bytes", limit)
	}
	ri := infoFrom(r.Context())
	ri.bodyRead = true
	if r.ContentLength > limit {
		ri.reqBytes = r.ContentLength
		return nil, tooLarge()
	}
	size := r.ContentLength
	if size <= 0 || size > 1<<20 {
		size = 512
	}
	buf := make([]byte, 0, size+1)
	body, err := readAll(http.MaxBytesReader(w, r.Body, limit), buf)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			ri.reqBytes = limit
			return nil, tooLarge()
		}
		if isReadTimeout(err) {
			return nil, llm.Wrap(llm.KindRequestTimeout, err, "the request body did not arrive within the read timeout")
		}
		return nil, llm.Wrap(llm.KindInvalidRequest, err, "could not read the request body")
	}
	ri.reqBytes = int64(len(body))
	if c := infoFrom(r.Context()).payload; c != nil {
		c.req = body
	}
	return body, nil
}

// readAll is io.ReadAll into a buffer sized from Content-Length. A full
// buffer doubles, so a large body costs at most about twice its size in
// allocations (append's own growth, a quarter at a time for large slices,
// costs several times it).
func readAll(r io.Reader, b []byte) ([]byte, error) {
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			if err == io.EOF {
				return b, nil
			}
			return b, err
		}
		if len(b) == cap(b) {
			grown := make([]byte, len(b), 2*cap(b))
			copy(grown, b)
			b = grown
		}
	}
}

// newCall reads what routing needs from a chat body of protocol without a
// full decode: that it is a JSON object (grammatical, nested at most
// jsonwire.MaxDepth deep, without duplicate keys: jsonwire.CheckBody), its
// model and its stream flag. The canonical request is decoded with decode
// only if a stage or the upstream needs it.
func newCall(body []byte, protocol string, decode pipeline.Decoder) (*pipeline.Call, gjson.Result, error) {
	// Checked before gjson reads it, whose validation and parsing recurse
	// with the nesting; and a body with duplicate keys is refused, so that
	// what the gateway reads here is what the upstream reads.
	if err := jsonwire.CheckBody(body); err != nil {
		return nil, gjson.Result{}, err
	}
	root := gjson.ParseBytes(body)
	if !root.IsObject() {
		return nil, root, llm.InvalidRequest("", "request body must be a JSON object")
	}
	res := root.Get("model")
	if res.Type != gjson.String || res.Str == "" {
		return nil, root, llm.InvalidRequest("model", "model is required and must be a non-empty string")
	}
	call := pipeline.NewChatCall(protocol, body, decode)
	call.Model = res.Str
	if st := root.Get("stream"); st.Exists() {
		if st.Type != gjson.True && st.Type != gjson.False && st.Type != gjson.Null {
			return nil, root, llm.InvalidRequest("stream", "stream must be a boolean")
		}
		call.Stream = st.Type == gjson.True
	}
	return call, root, nil
}

// chatCall is newCall for an OpenAI chat body, which it also checks the
// shape of, so that the fast path never forwards a malformed request, and
// whose stream_options.include_usage it reads.
func chatCall(body []byte) (*pipeline.Call, error) {
	call, root, err := newCall(body, openai.Protocol, openai.DecodeCheckedChatRequest)
	if err != nil {
		return nil, err
	}
	if err := checkChatShape(root); err != nil {
		return nil, err
	}
	call.IncludeUsage = call.Stream && root.Get("stream_options.include_usage").Type == gjson.True
	return call, nil
}

// handleChat serves POST /v1/chat/completions.
func (s *Server) handleChat(w http.ResponseWriter, r *http.Request) {
	body, err := s.readBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	call, err := chatCall(body)
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
	s.writeResponse(w, r, call, stream, openai.Protocol, openai.EncodeChatResponse)
}
