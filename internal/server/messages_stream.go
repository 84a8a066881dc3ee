package server

import (
	"io"
	"net/http"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/pipeline"
	"github.com/llmgw/llmgw/internal/protocol/anthropic"
	"github.com/llmgw/llmgw/internal/sse"
)

// writeAnthropicStream writes the stream as Anthropic Messages events, each
// flushed as it arrives or with the next when that one is already in hand.
// The first chunk is awaited before anything is written, so a failure before
// it is still a proper HTTP error. Events an
// Anthropic upstream sent are passed on as they came (their type is also in
// their data); chunks from any other upstream go through the stream encoder,
// whose final message_delta carries the usage the gateway always asks for. A
// failure after the first byte becomes an in-band `error` event and the
// stream ends without message_stop.
func (s *Server) writeAnthropicStream(w http.ResponseWriter, r *http.Request, call *pipeline.Call, stream llm.Stream) {
	first, err := stream.Recv()
	if err != nil && err != io.EOF {
		s.writeError(w, r, err)
		return
	}
	sse.SetHeaders(w.Header())
	s.declareCostTrailer(w, r, call)
	w.WriteHeader(http.StatusOK)
	sw := sse.NewWriter(w)
	sw.Hold(true)
	enc := anthropic.NewStreamEncoder()
	if first == nil || first.RawProtocol != anthropic.Protocol {
		enc.SetInputTokens(streamInputTokens(call, stream))
	}
	emit := sw.WriteEvent
	raw := false
	for c := first; c != nil; {
		if c.Raw != nil && c.RawProtocol == anthropic.Protocol {
			raw = true
			err = sw.WriteEvent(gjson.GetBytes(c.Raw, "type").Str, c.Raw)
		} else {
			err = enc.Encode(c, emit)
		}
		if err == nil {
			err = flushUnlessBuffered(sw, stream)
		}
		if err != nil {
			s.anthropicStreamFailed(r, sw, err)
			return
		}
		c, err = stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			s.anthropicStreamFailed(r, sw, err)
			return
		}
	}
	err = nil
	if !raw { // else message_stop came from the upstream
		err = enc.Finish(emit)
	}
	if err == nil {
		err = sw.Flush()
	}
	if err != nil {
		s.anthropicStreamFailed(r, sw, err)
		return
	}
	s.setCost(w, r, call, stream.Usage()) // the trailer declared above
}

// anthropicStreamFailed ends a stream that has begun: an `error` event when
// the client is still there, and no message_stop.
func (s *Server) anthropicStreamFailed(r *http.Request, sw *sse.Writer, err error) {
	e, ok := s.failure(r, err)
	if !ok {
		return
	}
	if sw.WriteEvent("error", anthropic.AppendStreamError(nil, e)) == nil {
		_ = sw.Flush()
	}
}
