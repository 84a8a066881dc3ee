package server

import (
	"io"
	"net/http"
	"time"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/pipeline"
	"github.com/llmgw/llmgw/internal/protocol/openai"
	"github.com/llmgw/llmgw/internal/sse"
)

// writeOpenAIStream writes the stream as OpenAI Server-Sent Events, each
// event flushed as it arrives, or with the next when that one is already in
// hand (see flushUnlessBuffered). The first chunk is awaited before anything
// is written, so a failure before it is still a proper HTTP error. A failure
// after it becomes an in-band error event and the stream ends without
// [DONE]: a client must never mistake a broken stream for a complete one.
func (s *Server) writeOpenAIStream(w http.ResponseWriter, r *http.Request, call *pipeline.Call, stream llm.Stream) {
	first, err := stream.Recv()
	if err != nil && err != io.EOF {
		s.writeError(w, r, err)
		return
	}
	sse.SetHeaders(w.Header())
	s.declareCostTrailer(w, r, call)
	w.WriteHeader(http.StatusOK)
	ow := &openaiStream{sw: sse.NewWriter(w), includeUsage: call.IncludeUsage, completions: call.Protocol == openai.CompletionsProtocol}
	ow.sw.Hold(true)
	c := first
	for c != nil {
		if err := ow.write(c); err != nil {
			s.streamFailed(r, ow.sw, err)
			return
		}
		if err := flushUnlessBuffered(ow.sw, stream); err != nil {
			s.streamFailed(r, ow.sw, err)
			return
		}
		c, err = stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			s.streamFailed(r, ow.sw, err)
			return
		}
	}
	if err := ow.finish(stream.Usage()); err != nil {
		s.streamFailed(r, ow.sw, err)
		return
	}
	s.setCost(w, r, call, stream.Usage()) // the trailer declared above
}

// flushUnlessBuffered flushes the events written so far unless the stream
// already holds its next chunk: a stream flushes before every wait for its
// upstream, never before a chunk it has in hand. Events that arrived together
// then leave in one write, as through a byte-copying proxy, and an event
// followed by a pause is not delayed.
func flushUnlessBuffered(sw *sse.Writer, stream llm.Stream) error {
	if llm.NextBuffered(stream) {
		return nil
	}
	return sw.Flush()
}

var doneData = []byte("[DONE]")

// openaiStream writes chunks as OpenAI chat.completion.chunk events. Usage
// follows OpenAI's rule whatever the upstream did: only in one last chunk
// with no choices, and only when the client asked for it
// (stream_options.include_usage); the gateway itself always asks upstreams
// for it. Chunks translated from another protocol get the id, model and
// created time of the stream.
type openaiStream struct {
	sw           *sse.Writer
	buf          []byte
	includeUsage bool
	wroteUsage   bool
	id, model    string
	created      int64
	// completions: the client speaks legacy completions, whose chunks
	// are written as they came and never translated; else chat.
	completions bool
}

// rawProtocol is the protocol of the chunks written as they came.
func (o *openaiStream) rawProtocol() string {
	if o.completions {
		return openai.CompletionsProtocol
	}
	return openai.Protocol
}

func (o *openaiStream) write(c *llm.Chunk) error {
	if c.Raw != nil && c.RawProtocol == o.rawProtocol() {
		if o.completions && o.id == "" {
			o.id, o.model, o.created = openai.CompletionIdentity(c.Raw)
		}
		// A forwarded chunk carries Usage whenever its bytes hold a usage
		// object (provider.Forwarder), so only those need the parse.
		if c.Usage != nil && openai.IsUsageOnlyChunk(c.Raw) {
			if !o.includeUsage {
				return nil
			}
			o.wroteUsage = true
		}
		return o.sw.WriteData(c.Raw)
	}
	if o.completions {
		return llm.NewError(llm.KindUpstream, "the upstream's stream is not a legacy completion stream")
	}
	o.remember(c)
	if len(c.Choices) == 0 {
		return nil // usage alone: written once, at the end
	}
	cc := *c
	cc.Usage = nil
	cc.ID, cc.Model, cc.Created = o.id, o.model, o.created
	var err error
	if o.buf, err = openai.AppendChunk(o.buf[:0], &cc); err != nil {
		return err
	}
	return o.sw.WriteData(o.buf)
}

// remember keeps the stream's identity from the first chunk that has one.
func (o *openaiStream) remember(c *llm.Chunk) {
	if o.id == "" {
		o.id = c.ID
	}
	if o.model == "" {
		o.model = c.Model
	}
	if o.created == 0 {
		o.created = c.Created
		if o.created == 0 {
			o.created = time.Now().Unix()
		}
	}
}

// finish writes the usage chunk when the client asked for it and the
// upstream's own was not passed through, then [DONE].
func (o *openaiStream) finish(u llm.Usage) error {
	if o.includeUsage && !o.wroteUsage {
		var err error
		if o.completions {
			o.buf = openai.AppendCompletionUsageChunk(o.buf[:0], o.id, o.model, o.created, &u)
		} else if o.buf, err = openai.AppendChunk(o.buf[:0], &llm.Chunk{ID: o.id, Model: o.model, Created: o.created, Usage: &u}); err != nil {
			return err
		}
		if err := o.sw.WriteData(o.buf); err != nil {
			return err
		}
	}
	if err := o.sw.WriteData(doneData); err != nil {
		return err
	}
	return o.sw.Flush()
}

// failure returns the error a stream that has begun ends with, and false
// when nothing can be written: the client went away. A stream cut by the
// drain deadline ends with the shutdown error, whatever its upstream said.
func (s *Server) failure(r *http.Request, err error) (*llm.Error, bool) {
	e := llm.AsError(err)
	if cutByShutdown(r) {
		e = errShuttingDown
	}
	ri := infoFrom(r.Context())
	ri.errCode = e.Kind.Code()
	if e != errShuttingDown && (e.Kind == llm.KindCanceled || r.Context().Err() != nil) {
		return nil, false
	}
	return e, true
}

// streamFailed ends a stream that has begun: an error event in the client's
// protocol when the client is still there, and no [DONE].
func (s *Server) streamFailed(r *http.Request, sw *sse.Writer, err error) {
	e, ok := s.failure(r, err)
	if !ok {
		return
	}
	if sw.WriteData(openai.AppendError(nil, e)) == nil {
		_ = sw.Flush()
	}
}
