package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/llmgw/llmgw/internal/auth"
	"github.com/llmgw/llmgw/internal/catalog"
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/anthropic"
	"github.com/llmgw/llmgw/internal/protocol/openai"
	"github.com/llmgw/llmgw/internal/provider"
)

// Anthropic's List Models page sizes: 20 unless asked, 1 to 1000.
const (
	defaultModelPage = 20
	maxModelPage     = 1000
)

// isAnthropicModels reports whether r is an Anthropic client's request on
// the model routes: Anthropic's SDKs always send anthropic-version, and
// OpenAI's never do. Its answers and errors take Anthropic's shapes.
func isAnthropicModels(r *http.Request) bool {
	p := r.URL.Path
	return (p == "/v1/models" || len(p) > len("/v1/models/") && p[:len("/v1/models/")] == "/v1/models/") &&
		r.Header.Get("anthropic-version") != ""
}

// listing is what the caller of r may list, from the request's snapshot.
func (s *Server) listing(r *http.Request) catalog.Listing {
	snap := s.current(r)
	l := catalog.Listing{Router: snap.Router, Created: time.Unix(snap.Created, 0)}
	if p := auth.FromContext(r.Context()); p != nil {
		l.Allows = p.Allows
	} else {
		l.Allows = func(string) bool { return false }
	}
	return l
}

// handleModels lists the models the caller's key may use (GET /v1/models):
// OpenAI's List models answer, or Anthropic's List Models page when an
// Anthropic client asks, paginated by its limit, after_id and before_id.
func (s *Server) handleModels(w http.ResponseWriter, r *http.Request) {
	anth := isAnthropicModels(r)
	var page pageQuery
	if anth {
		infoFrom(r.Context()).protocol = anthropic.Protocol
		var err error
		if page, err = parsePageQuery(r); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	entries := s.current(r).Models.List(r.Context(), s.listing(r))
	var body []byte
	var err error
	if anth {
		list, more := page.apply(entries)
		models := make([]anthropic.Model, len(list))
		for i, e := range list {
			models[i] = anthropicModel(e)
		}
		body, err = anthropic.EncodeModelPage(models, more)
	} else {
		models := make([]openai.Model, len(entries))
		for i, e := range entries {
			models[i] = openAIModel(e)
		}
		body, err = openai.EncodeModelList(models)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// handleModel answers one model (GET /v1/models/{id...}: ids hold slashes,
// "openai/gpt-4o"), in Anthropic's shape when an Anthropic client asks. A
// model the caller may not use is as unknown as one that does not exist.
func (s *Server) handleModel(w http.ResponseWriter, r *http.Request) {
	anth := isAnthropicModels(r)
	if anth {
		infoFrom(r.Context()).protocol = anthropic.Protocol
	}
	id := r.PathValue("id")
	e, ok := s.current(r).Models.Find(r.Context(), s.listing(r), id)
	if !ok {
		if len(id) > provider.MaxModelIDLen {
			// Not echoed: an id no model has is no reason to send
			// the client back a megabyte of its own path.
			s.writeError(w, r, llm.NewError(llm.KindNotFound, "model not found"))
			return
		}
		s.writeError(w, r, llm.NewError(llm.KindNotFound, "model %q not found", id))
		return
	}
	var body []byte
	var err error
	if anth {
		body, err = anthropic.EncodeModel(anthropicModel(e))
	} else {
		body, err = openai.EncodeModel(openAIModel(e))
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

func openAIModel(e catalog.Entry) openai.Model {
	return openai.Model{ID: e.ID, OwnedBy: e.OwnedBy, Created: e.Created.Unix()}
}

func anthropicModel(e catalog.Entry) anthropic.Model {
	return anthropic.Model{ID: e.ID, DisplayName: e.DisplayName, CreatedAt: e.Created}
}

// pageQuery is an Anthropic List Models page request.
type pageQuery struct {
	limit           int
	afterID, before string
}

// parsePageQuery reads limit (1 to 1000, default 20), after_id and
// before_id; a limit out of range or not a number, or both cursors at
// once, is a 400 naming the parameter.
func parsePageQuery(r *http.Request) (pageQuery, error) {
	q := r.URL.Query()
	p := pageQuery{limit: defaultModelPage, afterID: q.Get("after_id"), before: q.Get("before_id")}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxModelPage {
			return p, llm.InvalidRequest("limit", "limit must be an integer from 1 to %d", maxModelPage)
		}
		p.limit = n
	}
	if p.afterID != "" && p.before != "" {
		return p, llm.InvalidRequest("before_id", "after_id and before_id cannot be given together")
	}
	return p, nil
}

// apply returns the page of entries the query asks for and whether there
// are more in its direction: the limit entries right after after_id, or
// right before before_id, or the first ones. A cursor that is not in the
// list (unknown, or not the caller's to see) gives an empty page.
func (p pageQuery) apply(entries []catalog.Entry) ([]catalog.Entry, bool) {
	index := func(id string) int {
		for i, e := range entries {
			if e.ID == id {
				return i
			}
		}
		return -1
	}
	switch {
	case p.before != "":
		i := index(p.before)
		if i < 0 {
			return nil, false
		}
		start := max(0, i-p.limit)
		return entries[start:i], start > 0
	case p.afterID != "":
		i := index(p.afterID)
		if i < 0 {
			return nil, false
		}
		end := min(len(entries), i+1+p.limit)
		return entries[i+1 : end], end < len(entries)
	}
	end := min(len(entries), p.limit)
	return entries[:end], end < len(entries)
}
