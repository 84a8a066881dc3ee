package server

import (
	"net/http"

	"github.com/llmgw/llmgw/internal/auth"
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/openai"
)

// routes returns the gateway's handler. Every route is listed here with the
// middleware it runs behind: /v1/* requires a key whenever keys exist.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /v1/chat/completions", s.authed(s.handleChat))
	mux.Handle("POST /v1/embeddings", s.authed(s.handleEmbeddings))
	mux.Handle("GET /v1/models", s.authed(s.handleModels))
	mux.HandleFunc("GET /healthz", s.handleHealthz)
	mux.HandleFunc("GET /readyz", s.handleReadyz)
	mux.HandleFunc("/", s.handleNotFound)
	return s.edge(mux)
}

// authed runs h with the caller's principal in the context, or answers 401.
func (s *Server) authed(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := auth.Authenticate(r, s.snap.Load().Keys)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		ri := infoFrom(r.Context())
		ri.key, ri.tenant = p.KeyName, p.Tenant
		h(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
	})
}

func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, r, &llm.Error{Kind: llm.KindNotFound, Message: "no route for " + r.Method + " " + r.URL.Path})
}

func (s *Server) handleHealthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, []byte(`{"status":"ok"}`))
}

// handleReadyz answers 200 once a configuration is loaded and while the
// server is not draining, so load balancers stop sending during a drain.
func (s *Server) handleReadyz(w http.ResponseWriter, _ *http.Request) {
	if s.snap.Load() == nil || s.draining.Load() {
		writeJSON(w, http.StatusServiceUnavailable, []byte(`{"status":"unavailable"}`))
		return
	}
	writeJSON(w, http.StatusOK, []byte(`{"status":"ok"}`))
}

// handleModels lists the exact model names the caller's key may use.
func (s *Server) handleModels(w http.ResponseWriter, r *http.Request) {
	snap := s.snap.Load()
	p := auth.FromContext(r.Context())
	names := snap.Router.Names()
	models := make([]openai.Model, 0, len(names))
	for _, n := range names {
		if p.Allows(n) {
			models = append(models, openai.Model{ID: n, OwnedBy: "llmgw", Created: snap.Created})
		}
	}
	body, err := openai.EncodeModelList(models)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
