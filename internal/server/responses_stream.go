package server

import (
	"time"

	"io"
	"net/http"
	"strconv"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/pipeline"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
	"github.com/llmgw/llmgw/internal/protocol/responses"
	"github.com/llmgw/llmgw/internal/sse"
)

// responsesRelay writes a Responses stream's events: those of an upstream
// that speaks the API as they came (their type, which their data also
// holds, on the event line), the others from the translation's encoder.
// It remembers the response object of the events that carry one, to end a
// broken stream with response.failed, and stores the final response
// before its terminal event is written.
type responsesRelay struct {
	s    *Server
	r    *http.Request
	call *pipeline.Call
	t    *turn
	sw   *sse.Writer
	enc  *responses.StreamEncoder
	meta *responses.Meta
	// last is the last response object sent, seq the last sequence number.
	last []byte
	seq  int64
	raw  bool
}

// carriesResponse reports whether events of type typ carry the response
// object (whose previous_response_id the gateway sets: see echoPrevious).
func carriesResponse(typ string) bool {
	switch typ {
	case "response.created", "response.in_progress", "response.completed", "response.incomplete", "response.failed", "response.queued":
		return true
	}
	return false
}

// terminal reports whether events of type typ end a stream that succeeded.
func terminal(typ string) bool { return typ == "response.completed" || typ == "response.incomplete" }

// emit writes one event, its response object set right, storing the final
// response before its terminal event leaves.
func (x *responsesRelay) emit(typ string, data []byte) error {
	if seq := gjson.GetBytes(data, "sequence_number"); seq.Type == gjson.Number {
		x.seq = seq.Int()
	}
	if carriesResponse(typ) {
		if x.t.previous != "" {
			b, err := sjson.SetBytes(data, "response.previous_response_id", x.t.previous)
			if err != nil {
				return llm.Wrap(llm.KindUpstream, err, "the upstream sent a malformed stream event")
			}
			data = b
		}
		obj := gjson.GetBytes(data, "response")
		x.last = append(x.last[:0], obj.Raw...)
		if terminal(typ) && obj.IsObject() {
			x.s.storeTurn(x.r, x.call, x.t, []byte(obj.Raw))
		}
	}
	return x.sw.WriteEvent(typ, data)
}

// writeResponsesStream writes the stream as Responses API events, each
// flushed as it arrives or with the next when that one is already in hand.
// The first chunk is awaited before anything is written, so a failure
// before it is still a proper HTTP error; a failure after it ends the
// stream with response.failed (see failed), never with a completion.
func (s *Server) writeResponsesStream(w http.ResponseWriter, r *http.Request, call *pipeline.Call, t *turn, stream llm.Stream) {
	first, err := stream.Recv()
	if err != nil && err != io.EOF {
		s.writeError(w, r, err)
		return
	}
	sse.SetHeaders(w.Header())
	s.declareCostTrailer(w, r, call)
	w.WriteHeader(http.StatusOK)
	x := &responsesRelay{s: s, r: r, call: call, t: t, sw: sse.NewWriter(w)}
	x.sw.Hold(true)
	for c := first; c != nil; {
		if c.Raw != nil && c.RawProtocol == responses.Protocol {
			x.raw = true
			err = x.emit(gjson.GetBytes(c.Raw, "type").Str, c.Raw)
		} else {
			err = x.encoder(call).Encode(c, x.emit)
		}
		if err == nil {
			err = flushUnlessBuffered(x.sw, stream)
		}
		if err == nil {
			c, err = stream.Recv()
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			x.failed(err)
			return
		}
	}
	err = nil
	if !x.raw { // else the upstream's terminal event was relayed
		enc := x.encoder(call)
		x.meta.CompletedAt = time.Now().Unix()
		err = enc.Finish(x.emit)
	}
	if err == nil {
		err = x.sw.Flush()
	}
	if err != nil {
		x.failed(err)
		return
	}
	s.setCost(w, r, call, stream.Usage()) // the trailer declared above
}

// encoder returns the translation's stream encoder, made on first use.
func (x *responsesRelay) encoder(call *pipeline.Call) *responses.StreamEncoder {
	if x.enc == nil {
		x.meta = x.t.meta(call)
		x.enc = responses.NewStreamEncoder(x.meta)
	}
	return x.enc
}

// failed ends a stream that has begun, when the client is still there:
// response.failed with the response as last sent and the error, as OpenAI
// ends a response that fails; an `error` event when no response object
// was sent yet. Nothing is stored.
func (x *responsesRelay) failed(err error) {
	e, ok := x.s.failure(x.r, err)
	if !ok {
		return
	}
	x.t.store = false
	var werr error
	switch {
	case x.enc != nil && !x.raw:
		werr = x.enc.Fail(e, x.sw.WriteEvent)
	case len(x.last) > 0 && gjson.ValidBytes(x.last):
		werr = x.sw.WriteEvent("response.failed", x.failedEvent(e))
	default:
		werr = x.sw.WriteEvent("error", x.errorEvent(e))
	}
	if werr == nil {
		_ = x.sw.Flush()
	}
}

// failedEvent is the response.failed event of the response last sent.
func (x *responsesRelay) failedEvent(e *llm.Error) []byte {
	obj, _ := sjson.SetBytes(x.last, "status", "failed")
	errObj := append([]byte(`{"code":`), jsonwire.AppendString(nil, responses.ErrorCode(e))...)
	errObj = append(append(errObj, `,"message":`...), jsonwire.AppendString(nil, e.PublicMessage())...)
	obj, _ = sjson.SetRawBytes(obj, "error", append(errObj, '}'))
	b := []byte(`{"type":"response.failed","sequence_number":`)
	b = strconv.AppendInt(b, x.seq+1, 10)
	b = append(b, `,"response":`...)
	b = append(b, obj...)
	return append(b, '}')
}

// errorEvent is the `error` event of OpenAI's reference.
func (x *responsesRelay) errorEvent(e *llm.Error) []byte {
	b := []byte(`{"type":"error","code":`)
	b = jsonwire.AppendString(b, e.OpenAICode())
	b = append(b, `,"message":`...)
	b = jsonwire.AppendString(b, e.PublicMessage())
	b = append(b, `,"param":null,"sequence_number":`...)
	b = strconv.AppendInt(b, x.seq+1, 10)
	return append(b, '}')
}

// responsesEventText calls fn with the text a Responses event delivered:
// the delta of an output text, refusal, reasoning or function arguments
// event. A cut stream is billed for it (delivered.go).
func responsesEventText(data []byte, fn func(string)) {
	switch gjson.GetBytes(data, "type").Str {
	case "response.output_text.delta", "response.refusal.delta", "response.function_call_arguments.delta",
		"response.reasoning_text.delta", "response.reasoning_summary_text.delta", "response.custom_tool_call_input.delta":
		if d := gjson.GetBytes(data, "delta"); d.Type == gjson.String {
			fn(d.Str)
		}
	}
}
