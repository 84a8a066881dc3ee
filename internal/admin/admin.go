package admin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/router"
)

// ErrorWriter writes err as the response to r, in the server's error shape.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, err error)

// Options configure the admin API of one configuration snapshot.
type Options struct {
	// Token is the bearer token callers must present; empty disables the
	// API.
	Token string
	// Router is the snapshot's router, whose targets are reported.
	Router *router.Router
	// WriteError writes errors; nil writes a bare status.
	WriteError ErrorWriter
}

// API serves /admin/v1/*. It is safe for concurrent use.
type API struct {
	token    [sha256.Size]byte
	enabled  bool
	router   *router.Router
	writeErr ErrorWriter
	mux      *http.ServeMux
}

// New returns the admin API for o.
func New(o Options) *API {
	a := &API{enabled: o.Token != "", token: sha256.Sum256([]byte(o.Token)), router: o.Router, writeErr: o.WriteError}
	if a.writeErr == nil {
		a.writeErr = func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, llm.AsError(err).PublicMessage(), llm.AsError(err).Status())
		}
	}
	a.mux = http.NewServeMux()
	a.mux.HandleFunc("GET /admin/v1/targets", a.handleTargets)
	a.mux.HandleFunc("POST /admin/v1/targets/reset", a.handleReset)
	return a
}

// ServeHTTP implements http.Handler: 404 when the API is disabled, 401
// without the right bearer token, then the route.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.Serve(w, r, a.writeErr) }

// Serve is ServeHTTP with the errors written by writeErr: the server's error
// writer, when the API was built before the server.
func (a *API) Serve(w http.ResponseWriter, r *http.Request, writeErr ErrorWriter) {
	if !a.enabled {
		writeErr(w, r, &llm.Error{Kind: llm.KindNoRoute, Message: "no route for " + llm.Clip(r.Method) + " " + llm.Clip(r.URL.Path)})
		return
	}
	if !a.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="llmgw admin"`)
		writeErr(w, r, &llm.Error{Kind: llm.KindAuthentication, Message: "missing or invalid admin token"})
		return
	}
	// The routes write their errors with writeErr too.
	a.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), errorWriterKey{}, writeErr)))
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

// authorized compares the bearer token with the admin token in constant
// time; hashing both first makes the comparison independent of length too.
func (a *API) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	return subtle.ConstantTimeCompare(got[:], a.token[:]) == 1
}

// targets is the body of GET /admin/v1/targets.
type targets struct {
	Models []router.ModelStatus `json:"models"`
}

func (a *API) handleTargets(w http.ResponseWriter, r *http.Request) {
	var ms []router.ModelStatus
	if a.router != nil {
		ms = a.router.Status()
	}
	if ms == nil {
		ms = []router.ModelStatus{}
	}
	body, err := json.Marshal(targets{Models: ms})
	if err != nil {
		a.fail(w, r, llm.Wrap(llm.KindInternal, err, ""))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(body)
}
