package server

import (
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/pipeline"
	"github.com/llmgw/llmgw/internal/protocol/responses"
)

// turn is one POST /v1/responses as the state sees it: what the client
// asked of storage, the turn's own input items, and the request the
// translated path decoded.
type turn struct {
	// store is the request's store flag (true when absent).
	store bool
	// previous is the response the request continues, "" when none.
	previous string
	// input is the turn's input items, normalized to an array (what
	// input_items lists), without the history the gateway added.
	input []byte
	// req is the decoded request, set when a stage or the upstream needed
	// the canonical form (the translated path).
	req *responses.Request
	// created is when the request arrived, the created_at of a response
	// the gateway makes.
	created time.Time
}

// responsesFields are the kinds of the top-level fields of a create
// response request the gateway checks before forwarding it, so that the
// fast path never sends a malformed request and state is read from fields
// of the right kind.
var responsesFields = []fieldKind{
	{"input", kString | kArray | kNull},
	{"instructions", kString | kNull},
	{"store", kBool | kNull},
	{"previous_response_id", kString | kNull},
	{"include", kArray | kNull},
	{"tools", kArray | kNull},
	{"tool_choice", kString | kObject | kNull},
	{"text", kObject | kNull},
	{"reasoning", kObject | kNull},
	{"metadata", kObject | kNull},
	{"temperature", kNumber | kNull},
	{"top_p", kNumber | kNull},
	{"max_output_tokens", kInteger | kNull},
	{"parallel_tool_calls", kBool | kNull},
	{"truncation", kString | kNull},
	{"background", kBool | kNull},
}

// responsesCall reads what routing and the state need from a create
// response body without a full decode: model, stream, store,
// previous_response_id, input. The canonical request is decoded only if
// a stage or the upstream needs it; the decoded request is kept in t.
func responsesCall(body []byte) (*pipeline.Call, *turn, error) {
	t := &turn{store: true, created: time.Now()}
	call, root, err := newCall(body, responses.Protocol, t.decode)
	if err != nil {
		return nil, nil, err
	}
	fields := make(map[string]gjson.Result, len(responsesFields))
	root.ForEach(func(k, v gjson.Result) bool {
		fields[k.Str] = v
		return true
	})
	for _, f := range responsesFields {
		if v, ok := fields[f.name]; ok && !kindOf(v, f.kinds) {
			return nil, nil, llm.InvalidRequest(f.name, "invalid type for '%s': expected %s", f.name, describe(f.kinds))
		}
	}
	if fields["background"].Type == gjson.True {
		return nil, nil, llm.InvalidRequest("background", "background responses are not supported by this gateway; send background false")
	}
	if v, ok := fields["conversation"]; ok && v.Type != gjson.Null {
		return nil, nil, llm.InvalidRequest("conversation", "conversations are not supported by this gateway; continue a response with previous_response_id")
	}
	for i, inc := range fields["include"].Array() {
		if inc.Type != gjson.String {
			p := "include[" + strconv.Itoa(i) + "]"
			return nil, nil, llm.InvalidRequest(p, "invalid type for '%s': expected a string", p)
		}
	}
	if v := fields["store"]; v.Type == gjson.False {
		t.store = false
	}
	if v := fields["previous_response_id"]; v.Type == gjson.String {
		if v.Str == "" || len(v.Str) > maxResponseID {
			return nil, nil, llm.InvalidRequest("previous_response_id", "previous_response_id must be a response id")
		}
		t.previous = v.Str
	}
	if t.input, err = normalizeInput(fields["input"]); err != nil {
		return nil, nil, err
	}
	return call, t, nil
}

// maxResponseID bounds the response ids the gateway looks up or stores.
const maxResponseID = 200

// decode is the call's decoder: the Responses translation, whose request
// the turn keeps for the response object it encodes.
func (t *turn) decode(body []byte) (*llm.ChatRequest, error) {
	req, err := responses.DecodeRequest(body)
	if err != nil {
		return nil, err
	}
	t.req = req
	return req.Chat, nil
}

// handleResponses serves POST /v1/responses: OpenAI's Responses API to any
// configured model, forwarded as it is to an OpenAI upstream (after the
// gateway expanded any previous response into its input) and translated
// for any other. A response created with store true is kept for the
// caller's tenant (responses_state.go).
func (s *Server) handleResponses(w http.ResponseWriter, r *http.Request) {
	ri := infoFrom(r.Context())
	ri.protocol = responses.Protocol
	body, err := s.readBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	call, t, err := responsesCall(body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ri.model, ri.stream = call.Model, call.Stream
	if err := s.prepareTurn(r, call, t); err != nil {
		s.writeError(w, r, err)
		return
	}
	stream, cancel, err := s.invoke(w, r, call)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer cancel()
	defer stream.Close()
	if call.Stream {
		s.writeResponsesStream(w, r, call, t, stream)
		return
	}
	s.writeResponsesObject(w, r, call, t, stream)
}

// writeResponsesObject folds the stream into one response object and
// writes it: the upstream's own when it speaks the Responses API, else the
// translation's. The response is stored, when asked, before the client
// has it, so that the client's next turn finds it.
func (s *Server) writeResponsesObject(w http.ResponseWriter, r *http.Request, call *pipeline.Call, t *turn, stream llm.Stream) {
	var acc llm.Accumulator
	var raw []byte
	n := 0
	for {
		c, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		n++
		if c.Raw != nil && c.RawProtocol == responses.Protocol {
			raw = c.Raw
			continue
		}
		acc.Add(c)
	}
	body, err := t.echoPrevious(raw)
	if raw == nil || n != 1 {
		resp := acc.Response()
		if u := stream.Usage(); !u.IsZero() {
			resp.Usage = &u
		}
		meta := t.meta(call)
		meta.CompletedAt = time.Now().Unix()
		if body, err = responses.EncodeResponse(resp, meta); err == nil {
			body, err = t.echoPrevious(body)
		}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.storeTurn(r, call, t, body)
	s.setCost(w, r, call, stream.Usage())
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	writeJSON(w, http.StatusOK, body)
}

// meta is the identity of a response the gateway makes from a translated
// answer.
func (t *turn) meta(call *pipeline.Call) *responses.Meta {
	if t.req == nil {
		_, _ = call.Decoded()
	}
	return &responses.Meta{ID: "resp_" + newRequestID() + newRequestID()[:16], CreatedAt: t.created.Unix(), Request: t.req}
}

// echoPrevious sets the previous_response_id of a response object to the
// one the client sent: the upstream was sent the history instead, and
// answered null.
func (t *turn) echoPrevious(obj []byte) ([]byte, error) {
	if t.previous == "" || obj == nil {
		return obj, nil
	}
	b, err := sjson.SetBytes(obj, "previous_response_id", t.previous)
	if err != nil {
		return nil, llm.Wrap(llm.KindUpstream, err, "the upstream sent a malformed response")
	}
	return b, nil
}
