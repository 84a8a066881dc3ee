package server

import (
	"net"
	"net/http"

	"github.com/llmgw/llmgw/internal/admin"
	"github.com/llmgw/llmgw/internal/auth"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/llm"
)

// route is one path the gateway serves and the method it accepts.
type route struct {
	method, path string
	handler      http.HandlerFunc
	// open routes need no key; every other one runs behind authed.
	open bool
}

// routeTable lists every route with the middleware it runs behind: /v1/*
// requires a key whenever keys exist, and the inference routes run at most
// once per Idempotency-Key (idempotent, after authentication).
func (s *Server) routeTable() []route {
	rs := []route{
		{"POST", "/v1/chat/completions", s.idempotent(s.handleChat), false},
		{"POST", "/v1/completions", s.idempotent(s.handleCompletions), false},
		{"POST", "/v1/messages", s.idempotent(s.handleMessages), false},
		{"POST", "/v1/messages/count_tokens", s.handleCountTokens, false},
		{"POST", "/v1/embeddings", s.idempotent(s.handleEmbeddings), false},
		{"POST", "/v1/responses", s.idempotent(s.handleResponses), false},
		{"GET", "/v1/responses/{id}", s.handleGetResponse, false},
		{"DELETE", "/v1/responses/{id}", s.handleDeleteResponse, false},
		{"GET", "/v1/responses/{id}/input_items", s.handleInputItems, false},
		{"GET", "/v1/models", s.handleModels, false},
		{"GET", "/v1/models/{id...}", s.handleModel, false},
		{"GET", "/healthz", s.handleHealthz, true},
		{"GET", "/readyz", s.handleReadyz, true},
		{"GET", "/startupz", s.handleStartupz, true},
		{"GET", "/metrics", s.handleMetrics, true},
	}
	// The admin API authenticates its callers itself.
	for _, rt := range admin.Routes() {
		rs = append(rs, route{rt.Method, rt.Pattern, s.handleAdmin, true})
	}
	return rs
}

// inference reports whether rt is an inference route, run within the
// replica's concurrency ceilings (overload.go); no other route (the probes,
// /metrics, the model and stored-response routes, the admin API) is ever
// queued or refused by them.
func (rt *route) inference() bool {
	switch rt.path {
	case "/v1/chat/completions", "/v1/completions", "/v1/messages", "/v1/messages/count_tokens", "/v1/embeddings", "/v1/responses":
		return rt.method == http.MethodPost
	}
	return false
}

// routes returns the gateway's handler.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	s.allow = make(map[string]string)
	for _, rt := range s.routeTable() {
		var h http.Handler = rt.handler
		if !rt.open {
			h = s.inbound(s.authed(rt.handler))
		}
		if rt.inference() {
			h = s.bounded(h)
		}
		h = s.routed(s.m.route(routeLabel(rt.path)), h)
		mux.Handle(rt.method+" "+rt.path, h)
		if allow := s.allow[rt.path]; allow != "" {
			s.allow[rt.path] = allow + ", " + rt.method
		} else {
			s.allow[rt.path] = rt.method
		}
	}
	mux.Handle("/", s.routed(s.m.route(routeOther), http.HandlerFunc(s.handleNotFound)))
	return s.edge(s.guardOrigin(mux))
}

// authed runs h with the caller's principal in the context, or answers 401
// before reading a byte of the body.
func (s *Server) authed(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		snap := s.current(r)
		p, err := authenticate(r, snap)
		if err != nil {
			if snap.AuthFailures != nil && llm.AsError(err).Kind == llm.KindAuthentication {
				snap.AuthFailures(remoteHost(r), auth.DisplayPrefix(auth.KeyFromRequest(r)))
			}
			cutBody(w, r)
			s.writeError(w, r, err)
			return
		}
		ri := infoFrom(r.Context())
		ri.key, ri.tenant, ri.tenantLabel = p.KeyName, p.Tenant, metricTenant(p)
		ri.keyID, ri.tenantID, ri.team = p.KeyID, p.TenantID, p.Team
		ri.principal.Set(p) // the context's slot, from the edge
		if pl := snap.Payloads; pl.Logs(p.Tenant) {
			ri.capturePayload(pl)
		}
		h(w, r)
	})
}

// handleNotFound answers every request no route matched: 405 with Allow for a
// known path asked with another method, 404 otherwise, in the error shape.
// The path is looked up as sent, escapes kept, as the mux matched it:
// "/v1/chat%2Fcompletions" is no route of the gateway, whatever it decodes
// to.
func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	if allow, ok := s.allow[path]; ok {
		w.Header().Set("Allow", allow)
		s.writeError(w, r, &llm.Error{Kind: llm.KindMethodNotAllowed, Message: path + " accepts " + allow})
		return
	}
	s.writeError(w, r, &llm.Error{Kind: llm.KindNoRoute, Message: "no route for " + llm.Clip(r.Method) + " " + llm.Clip(path)})
}

func (s *Server) handleHealthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, []byte(`{"status":"ok"}`))
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// remoteHost is the client's address without its port.
func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// authenticate resolves the request's principal: by its key when it
// carries one; else, with client identities configured, by its verified
// client certificate's subject (none or an unmapped one: 401); else as
// auth.Authenticate does.
func authenticate(r *http.Request, snap *gateway.Snapshot) (*auth.Principal, error) {
	if snap.ClientCerts.Len() > 0 && auth.KeyFromRequest(r) == "" {
		if p := snap.ClientCerts.Lookup(r.TLS); p != nil {
			return p, nil
		}
		return nil, llm.NewError(llm.KindAuthentication, "missing or invalid API key, and no client certificate mapped to a caller")
	}
	return auth.Authenticate(r, snap.Keys, snap.JWT, snap.Directory)
}
