package server

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/pipeline"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
	"github.com/llmgw/llmgw/internal/store"
)

// storeTimeout bounds each read or write of the stored responses.
const storeTimeout = 5 * time.Second

// normalizeInput returns a request's input as an array of items, each an
// object with a type: a string is one user message of one input_text
// part, a message item given as {role, content} gets its type "message".
// Absent or null input is no item.
func normalizeInput(in gjson.Result) ([]byte, error) {
	switch in.Type {
	case gjson.Null:
		return []byte("[]"), nil
	case gjson.String:
		b := append([]byte(`[{"type":"message","role":"user","content":[{"type":"input_text","text":`), jsonwire.AppendString(nil, in.Str)...)
		return append(b, "}]}]"...), nil
	}
	out := []byte{'['}
	var err error
	n := 0
	in.ForEach(func(_, it gjson.Result) bool {
		if !it.IsObject() {
			err = llm.InvalidRequest("input["+strconv.Itoa(n)+"]", "invalid type for 'input[%d]': expected an object", n)
			return false
		}
		item := []byte(it.Raw)
		if !it.Get("type").Exists() && it.Get("role").Exists() {
			item, _ = sjson.SetBytes(item, "type", "message")
		}
		if n > 0 {
			out = append(out, ',')
		}
		out = append(out, item...)
		n++
		return true
	})
	if err != nil {
		return nil, err
	}
	return append(out, ']'), nil
}

// tenantScope is the tenant a request's stored responses belong to: the
// tenant of its key (a static key's tenant is its configured name), ""
// for a gateway that needs no key.
func tenantScope(ri *reqInfo) string {
	if ri.tenantID != "" {
		return ri.tenantID
	}
	return ri.tenant
}

// prepareTurn applies the state to a create request before it is sent: a
// stored turn's input must fit responses.max_stored_bytes, and a request
// that continues a response gets that conversation's history as its input
// (see expand), so that whatever upstream serves it needs no state of its
// own.
func (s *Server) prepareTurn(r *http.Request, call *pipeline.Call, t *turn) error {
	snap := s.current(r)
	limit := snap.Config.Responses.MaxStoredBytes
	if t.store && snap.Responses != nil && int64(len(t.input)) > limit {
		return llm.InvalidRequest("store", "the input is larger than the %d bytes a stored response may hold (responses.max_stored_bytes); send store false", limit)
	}
	if t.previous == "" {
		return nil
	}
	if snap.Responses == nil {
		return previousNotFound(t.previous)
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	chain, err := snap.Responses.Chain(ctx, tenantScope(infoFrom(r.Context())), t.previous, time.Now(), store.MaxChain)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return previousNotFound(t.previous)
	case err != nil:
		return llm.Wrap(llm.KindUnavailable, err, "the gateway's store of responses did not answer; retry shortly")
	}
	body, err := expand(call.Body, chain, t.input)
	if err != nil {
		return err
	}
	if max := snap.Config.Server.MaxBodyBytes; int64(len(body)) > max {
		return llm.InvalidRequest("previous_response_id", "the conversation with its history is %d bytes, over the %d a request may have (server.max_body_bytes); start a new conversation", len(body), max)
	}
	call.Body = body
	return nil
}

// previousNotFound is OpenAI's answer to a previous_response_id that does
// not exist: 400, code previous_response_not_found.
func previousNotFound(id string) error {
	return &llm.Error{Kind: llm.KindInvalidRequest, Param: "previous_response_id",
		Message:      "Previous response with id '" + llm.Clip(id) + "' not found.",
		UpstreamType: "invalid_request_error", UpstreamCode: "previous_response_not_found", UpstreamProtocol: "openai"}
}

// expand returns body with previous_response_id removed and its input
// replaced by the conversation's history followed by the turn's own input
// items: each stored turn's input items, then its response's output items.
// The history is made independent of any upstream account: reasoning
// items are left out (their encrypted content can be read only by the
// organization that produced it, and a bare reasoning id only by the
// account that stored it), and the other items lose their id and status,
// which would refer to the upstream's own storage (an item_reference keeps
// its id, which is what it says). Instructions are not carried over, as
// in OpenAI's API.
func expand(body []byte, chain []store.StoredResponse, input []byte) ([]byte, error) {
	out := []byte{'['}
	add := func(items gjson.Result) {
		items.ForEach(func(_, it gjson.Result) bool {
			typ := it.Get("type").Str
			if typ == "reasoning" || !it.IsObject() {
				return true
			}
			item := []byte(it.Raw)
			if typ != "item_reference" {
				item, _ = sjson.DeleteBytes(item, "id")
				item, _ = sjson.DeleteBytes(item, "status")
			}
			if len(out) > 1 {
				out = append(out, ',')
			}
			out = append(out, item...)
			return true
		})
	}
	for i := range chain {
		add(gjson.ParseBytes(chain[i].Input))
		add(gjson.GetBytes(chain[i].Response, "output"))
	}
	gjson.ParseBytes(input).ForEach(func(_, it gjson.Result) bool {
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, it.Raw...)
		return true
	})
	out = append(out, ']')
	b := make([]byte, len(body), len(body)+len(out)+16)
	copy(b, body)
	b, err := sjson.SetRawBytes(b, "input", out)
	if err == nil {
		b, err = sjson.DeleteBytes(b, "previous_response_id")
	}
	if err != nil {
		return nil, llm.Wrap(llm.KindInvalidRequest, err, "the request body is not a JSON object")
	}
	return b, nil
}

// storeTurn keeps the response object obj for the caller's tenant when the
// request asked for it (store true) and the gateway has a store: its
// input items, each given an id when it has none, and the object as the
// client is sent it. A response over responses.max_stored_bytes, or whose
// id the store refuses, is not kept: the client still gets it, and a later
// read of it answers 404. A failure is logged, never the client's.
func (s *Server) storeTurn(r *http.Request, call *pipeline.Call, t *turn, obj []byte) {
	snap := s.current(r)
	if !t.store || snap.Responses == nil || obj == nil {
		return
	}
	id := gjson.GetBytes(obj, "id").Str
	input := withItemIDs(t.input)
	cfg := snap.Config.Responses
	if int64(len(input)+len(obj)) > cfg.MaxStoredBytes {
		s.log.Warn("response not stored: larger than responses.max_stored_bytes", "request_id", call.RequestID, "bytes", len(input)+len(obj))
		return
	}
	ri := infoFrom(r.Context())
	now := time.Now()
	rec := store.StoredResponse{ID: id, TenantID: tenantScope(ri), KeyID: ri.keyID, Model: ledgerText(call.Model), PreviousID: t.previous,
		CreatedAt: now, ExpiresAt: now.Add(cfg.Retention.Std()), Input: input, Response: obj}
	if rec.KeyID == "" {
		rec.KeyID = ri.key
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), storeTimeout)
	defer cancel()
	if err := snap.Responses.Put(ctx, rec); err != nil {
		s.log.Warn("response not stored", "request_id", call.RequestID, "err", llm.Clip(err.Error()))
	}
}

// withItemIDs returns the input items with an id given to each that has
// none ("msg_..." for a message, "item_..." otherwise), as OpenAI lists
// them.
func withItemIDs(input []byte) []byte {
	out := []byte{'['}
	gjson.ParseBytes(input).ForEach(func(_, it gjson.Result) bool {
		if len(out) > 1 {
			out = append(out, ',')
		}
		item := []byte(it.Raw)
		if id := it.Get("id"); id.Type != gjson.String || id.Str == "" {
			prefix := "item_"
			if it.Get("type").Str == "message" {
				prefix = "msg_"
			}
			item, _ = sjson.SetBytes(item, "id", prefix+newRequestID()+newRequestID()[:16])
		}
		out = append(out, item...)
		return true
	})
	return append(out, ']')
}
