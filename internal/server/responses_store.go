package server

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
	"github.com/llmgw/llmgw/internal/store"
)

// storedResponse returns the caller's tenant's stored response named by
// the path, or the error to answer: 404 in OpenAI's words for one that
// does not exist, expired, or is another tenant's (which is not told
// apart).
func (s *Server) storedResponse(r *http.Request) (store.StoredResponse, error) {
	id := r.PathValue("id")
	snap := s.current(r)
	if snap.Responses == nil || id == "" || len(id) > maxResponseID {
		return store.StoredResponse{}, responseNotFound(id)
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	rec, err := snap.Responses.Get(ctx, tenantScope(infoFrom(r.Context())), id, time.Now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return rec, responseNotFound(id)
	case err != nil:
		return rec, llm.Wrap(llm.KindUnavailable, err, "the gateway's store of responses did not answer; retry shortly")
	}
	return rec, nil
}

// responseNotFound is OpenAI's 404 for a response id it does not have.
func responseNotFound(id string) error {
	return &llm.Error{Kind: llm.KindMissing, Message: "Response with id '" + llm.Clip(id) + "' not found."}
}

// handleGetResponse serves GET /v1/responses/{id}: the stored response
// object, as its client was sent it. include is accepted and changes
// nothing: what a response holds was fixed when it was created. Streaming
// a stored response (stream=true) is not supported.
func (s *Server) handleGetResponse(w http.ResponseWriter, r *http.Request) {
	if v := r.URL.Query().Get("stream"); v == "true" {
		s.writeError(w, r, llm.InvalidRequest("stream", "this gateway does not stream stored responses; ask without stream"))
		return
	}
	rec, err := s.storedResponse(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rec.Response)
}

// handleDeleteResponse serves DELETE /v1/responses/{id}, answering
// OpenAI's {"id","object":"response","deleted":true}. Responses that
// continued the deleted one keep their own turns; a conversation followed
// back stops where it was.
func (s *Server) handleDeleteResponse(w http.ResponseWriter, r *http.Request) {
	rec, err := s.storedResponse(r)
	if err == nil {
		ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
		err = s.current(r).Responses.Delete(ctx, rec.TenantID, rec.ID)
		cancel()
		if errors.Is(err, store.ErrNotFound) {
			err = responseNotFound(rec.ID)
		} else if err != nil {
			err = llm.Wrap(llm.KindUnavailable, err, "the gateway's store of responses did not answer; retry shortly")
		}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	b := append([]byte(`{"id":`), jsonwire.AppendString(nil, rec.ID)...)
	writeJSON(w, http.StatusOK, append(b, `,"object":"response","deleted":true}`...))
}

// handleInputItems serves GET /v1/responses/{id}/input_items: the turn's
// input items as OpenAI lists them, {"object":"list","data","first_id",
// "last_id","has_more"}, with limit (1 to 100, default 20), order (asc or
// desc, the default) and after (an item id) as its reference has them.
func (s *Server) handleInputItems(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 20
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			s.writeError(w, r, llm.InvalidRequest("limit", "limit must be an integer from 1 to 100"))
			return
		}
		limit = n
	}
	order := q.Get("order")
	if order != "" && order != "asc" && order != "desc" {
		s.writeError(w, r, llm.InvalidRequest("order", "order must be asc or desc"))
		return
	}
	rec, err := s.storedResponse(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	items := gjson.ParseBytes(rec.Input).Array()
	if order != "asc" {
		for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
			items[i], items[j] = items[j], items[i]
		}
	}
	if after := q.Get("after"); after != "" {
		i := 0
		for i < len(items) && items[i].Get("id").Str != after {
			i++
		}
		if i == len(items) {
			s.writeError(w, r, llm.InvalidRequest("after", "no input item '%s' in response '%s'", llm.Clip(after), llm.Clip(rec.ID)))
			return
		}
		items = items[i+1:]
	}
	more := len(items) > limit
	if more {
		items = items[:limit]
	}
	writeJSON(w, http.StatusOK, itemList(items, more))
}

// itemList is OpenAI's list of items.
func itemList(items []gjson.Result, more bool) []byte {
	b := []byte(`{"object":"list","data":[`)
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, it.Raw...)
	}
	first, last := "", ""
	if len(items) > 0 {
		first, last = items[0].Get("id").Str, items[len(items)-1].Get("id").Str
	}
	b = append(b, `],"first_id":`...)
	b = jsonwire.AppendString(b, first)
	b = append(b, `,"last_id":`...)
	b = jsonwire.AppendString(b, last)
	b = append(b, `,"has_more":`...)
	b = strconv.AppendBool(b, more)
	return append(b, '}')
}
