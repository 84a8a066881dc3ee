package admin

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/llmgw/llmgw/internal/auth"
	"github.com/llmgw/llmgw/internal/budget"
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/router"
	"github.com/llmgw/llmgw/internal/store"
)

// ErrorWriter writes err as the response to r, in the server's error shape.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, err error)

// Token is a named global admin token from the configuration.
type Token struct {
	// Name is the actor the audit log records: "admin_token" for
	// server.admin_token, "token:<name>" for a server.admin_tokens entry.
	Name     string
	Token    string
	ReadOnly bool
}

// Keys resolves a presented store key to the key it is, so that the
// admin keys of tenants (role tenant_admin or read_only) can call the API.
type Keys interface {
	// Resolve returns the key whose secret is plaintext, whether usable
	// or not; store.ErrNotFound when there is none.
	Resolve(ctx context.Context, plaintext string) (store.Key, error)
}

// Backend is the process state the admin API works on: it outlives
// configuration snapshots, which only add their tokens and router.
type Backend struct {
	// Store holds tenants, teams and keys; nil serves only the routing
	// routes.
	Store store.Store
	// Keys resolves admin keys; nil accepts only the configured tokens.
	Keys Keys
	// Hasher computes the keyed hash new and rotated keys are stored by.
	// Required with Store.
	Hasher *auth.Hasher
	// Audit records every change and answers the audit routes. Required
	// with Store. A change it cannot record is answered 503.
	Audit Auditor
	// Budgets answers what budgets have spent, for the key, team and
	// tenant reads; nil shows budgets without their spending.
	Budgets budget.Budgeter
	// Logger reports failures the caller cannot be told of; nil logs
	// nothing.
	Logger *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Configs reports and reloads the running configuration (GET
	// /admin/v1/config, POST /admin/v1/config/reload); nil answers them
	// 404.
	Configs Configs
}

// Options configure the admin API of one configuration snapshot.
type Options struct {
	// Token is server.admin_token, the global admin token named
	// "admin_token"; empty adds none.
	Token string
	// Tokens are the named global admin tokens (server.admin_tokens).
	Tokens []Token
	// Certs are the global admins of verified client certificates
	// (server.tls.admin_identities).
	Certs []CertAdmin
	// Router is the snapshot's router, whose targets are reported.
	Router *router.Router
	// WriteError writes errors; nil writes a bare status.
	WriteError ErrorWriter
	// Backend is the process state.
	Backend Backend
}

// API serves /admin/v1/*. It is safe for concurrent use.
type API struct {
	tokens   []token
	certs    map[string]caller // by certificate subject
	enabled  bool
	router   *router.Router
	writeErr ErrorWriter
	mux      *http.ServeMux
	b        Backend
}

// New returns the admin API for o; a Backend with a Store and without
// Hasher or Audit is a wiring mistake, and panics. The API exists when a global token is
// configured or a store is there to hold admin keys; without either, every
// admin route answers 404.
func New(o Options) *API {
	if o.Backend.Store != nil && (o.Backend.Hasher == nil || o.Backend.Audit == nil) {
		panic("admin: a Backend with a Store needs its Hasher and Audit")
	}
	a := &API{router: o.Router, writeErr: o.WriteError, b: o.Backend}
	if o.Token != "" {
		a.tokens = append(a.tokens, newToken(Token{Name: "admin_token", Token: o.Token}))
	}
	for _, t := range o.Tokens {
		if t.Token != "" {
			t.Name = "token:" + t.Name
			a.tokens = append(a.tokens, newToken(t))
		}
	}
	for _, c := range o.Certs {
		if a.certs == nil {
			a.certs = make(map[string]caller, len(o.Certs))
		}
		a.certs[c.Subject] = caller{actor: "cert:" + c.Name, global: true, readOnly: c.ReadOnly}
	}
	a.enabled = len(a.tokens) > 0 || len(a.certs) > 0 || a.b.Store != nil
	if a.b.Now == nil {
		a.b.Now = time.Now
	}
	if a.b.Logger == nil {
		a.b.Logger = slog.New(slog.DiscardHandler)
	}
	if a.writeErr == nil {
		a.writeErr = func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, llm.AsError(err).PublicMessage(), llm.AsError(err).Status())
		}
	}
	a.mux = http.NewServeMux()
	for _, rt := range a.routes() {
		a.mux.Handle(rt.Method+" "+rt.Pattern, a.guard(rt))
	}
	return a
}

// ServeHTTP implements http.Handler: 404 when the API is disabled, 401
// without a valid admin credential, 403 for one whose role does not
// cover the route, then the route.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.Serve(w, r, a.writeErr) }

// Serve is ServeHTTP with the errors written by writeErr: the server's error
// writer, when the API was built before the server.
func (a *API) Serve(w http.ResponseWriter, r *http.Request, writeErr ErrorWriter) {
	if !a.enabled {
		writeErr(w, r, &llm.Error{Kind: llm.KindNoRoute, Message: "no route for " + llm.Clip(r.Method) + " " + llm.Clip(r.URL.Path)})
		return
	}
	// The routes write their errors with writeErr too.
	ctx := context.WithValue(r.Context(), errorWriterKey{}, writeErr)
	r = r.WithContext(context.WithValue(ctx, responseKey{}, w))
	if _, pattern := a.mux.Handler(r); pattern == "" {
		writeErr(w, r, &llm.Error{Kind: llm.KindNoRoute, Message: "no route for " + llm.Clip(r.Method) + " " + llm.Clip(r.URL.EscapedPath())})
		return
	}
	a.mux.ServeHTTP(w, r)
}

// errorWriterKey is the context key of the ErrorWriter Serve was given.
type errorWriterKey struct{}

// fail writes err with the error writer Serve was given, else the API's.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	if we, ok := r.Context().Value(errorWriterKey{}).(ErrorWriter); ok && we != nil {
		we(w, r, err)
		return
	}
	a.writeErr(w, r, err)
}

// writeJSON answers v as JSON with status.
func (a *API) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		a.fail(w, r, llm.Wrap(llm.KindInternal, err, ""))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// targets is the body of GET /admin/v1/targets.
type targets struct {
	Models []router.ModelStatus `json:"models"`
}

func (a *API) handleTargets(w http.ResponseWriter, r *http.Request, _ *caller) {
	var ms []router.ModelStatus
	if a.router != nil {
		ms = a.router.Status()
	}
	if ms == nil {
		ms = []router.ModelStatus{}
	}
	a.writeJSON(w, r, http.StatusOK, targets{Models: ms})
}
