package server

import (
	"io"
	"net/http"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/pipeline"
	"github.com/llmgw/llmgw/internal/protocol/openai"
	"github.com/llmgw/llmgw/internal/sse"
)

// writeOpenAIStream writes the stream as OpenAI Server-Sent Events, each
// event flushed as it arrives. The first chunk is awaited before anything is
// written, so a failure before it is still a proper HTTP error. A failure
// after it becomes an in-band error event and the stream ends without
// [DONE]: a client must never mistake a broken stream for a complete one.
// The usage chunk the gateway always asks for is dropped unless the client
// asked for it.
func (s *Server) writeOpenAIStream(w http.ResponseWriter, r *http.Request, call *pipeline.Call, stream llm.Stream) {
	first, err := stream.Recv()
	if err != nil && err != io.EOF {
		s.writeError(w, r, err)
		return
	}
	sse.SetHeaders(w.Header())
	w.WriteHeader(http.StatusOK)
	sw := sse.NewWriter(w)
	var buf []byte
	c := first
	for c != nil {
		buf, err = s.appendOpenAIChunk(buf[:0], c, call.IncludeUsage)
		if err == nil && len(buf) > 0 {
			err = sw.WriteData(buf)
		}
		if err != nil {
			s.streamFailed(r, sw, err)
			return
		}
		c, err = stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			s.streamFailed(r, sw, err)
			return
		}
	}
	if err := sw.WriteData(doneData); err != nil {
		s.streamFailed(r, sw, err)
	}
}

var doneData = []byte("[DONE]")

// appendOpenAIChunk appends the event data for c, or nothing when c is a
// usage chunk the client did not ask for.
func (s *Server) appendOpenAIChunk(dst []byte, c *llm.Chunk, includeUsage bool) ([]byte, error) {
	if c.Raw != nil && c.RawProtocol == openai.Protocol {
		if !includeUsage && openai.IsUsageOnlyChunk(c.Raw) {
			return dst, nil
		}
		return append(dst, c.Raw...), nil
	}
	if c.Usage != nil && !includeUsage {
		if len(c.Choices) == 0 {
			return dst, nil
		}
		cc := *c
		cc.Usage = nil
		c = &cc
	}
	return openai.AppendChunk(dst, c)
}

// streamFailed ends a stream that has begun: an error event in the client's
// protocol when the client is still there, and no [DONE].
func (s *Server) streamFailed(r *http.Request, sw *sse.Writer, err error) {
	e := llm.AsError(err)
	ri := infoFrom(r.Context())
	ri.errCode = e.Kind.Code()
	if e.Kind == llm.KindCanceled || r.Context().Err() != nil {
		return
	}
	_ = sw.WriteData(openai.AppendError(nil, e))
}
