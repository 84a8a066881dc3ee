package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/llmgw/llmgw/internal/auth"
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/store"
)

// token is a global admin token, kept hashed.
type token struct {
	actor    string
	sum      [sha256.Size]byte
	readOnly bool
}

func newToken(t Token) token {
	return token{actor: t.Name, sum: sha256.Sum256([]byte(t.Token)), readOnly: t.ReadOnly}
}

// caller is an authenticated admin: a global token, or a tenant's admin
// key.
type caller struct {
	// actor names the caller in the audit log: "admin_token",
	// "token:<name>" or "key:<id>".
	actor    string
	global   bool
	readOnly bool
	// key is the tenant admin key, when the caller is one.
	key store.Key
}

// tenant returns the ID of the only tenant the caller may see, "" for a
// global admin.
func (c *caller) tenant() string {
	if c.global {
		return ""
	}
	return c.key.TenantID
}

// sees reports whether the caller may see objects of tenantID.
func (c *caller) sees(tenantID string) bool {
	return c.global || c.key.TenantID == tenantID
}

var (
	errUnauthenticated = &llm.Error{Kind: llm.KindAuthentication, Message: "missing or invalid admin credential: send Authorization: Bearer <admin token or admin key>"}
	errNoRole          = &llm.Error{Kind: llm.KindForbidden, Message: "this key has no admin role"}
	errReadOnly        = &llm.Error{Kind: llm.KindForbidden, Message: "this credential is read-only"}
	errGlobalOnly      = &llm.Error{Kind: llm.KindForbidden, Message: "this route is for global admins only"}
	errNoStore         = &llm.Error{Kind: llm.KindMissing, Message: "no store is configured: tenants, teams, keys and the audit log are not available"}
)

// may reports whether the caller's role allows the route.
func (c *caller) may(rt Route) error {
	switch {
	case rt.Global && !c.global:
		return errGlobalOnly
	case rt.Write() && c.readOnly:
		return errReadOnly
	}
	return nil
}

// authenticate finds the caller of r: a global token (compared hashed, in
// constant time, against every token), else a usable store key with an
// admin role. A failure is recorded, aggregated, in the audit log.
func (a *API) authenticate(r *http.Request) (*caller, error) {
	if c := a.certCaller(r); c != nil {
		return c, nil
	}
	tok, ok := bearer(r)
	if !ok {
		a.authFailure(r, tok)
		return nil, errUnauthenticated
	}
	sum := sha256.Sum256([]byte(tok))
	var found *token
	for i := range a.tokens {
		if subtle.ConstantTimeCompare(sum[:], a.tokens[i].sum[:]) == 1 {
			found = &a.tokens[i]
		}
	}
	if found != nil {
		return &caller{actor: found.actor, global: true, readOnly: found.readOnly}, nil
	}
	if a.b.Keys == nil {
		a.authFailure(r, tok)
		return nil, errUnauthenticated
	}
	k, err := a.b.Keys.Resolve(r.Context(), tok)
	switch {
	case errors.Is(err, store.ErrNotFound):
		a.authFailure(r, tok)
		return nil, errUnauthenticated
	case err != nil:
		return nil, a.storeError(err, "key")
	case !k.Usable(a.b.Now()):
		a.authFailure(r, tok)
		return nil, errUnauthenticated
	case k.Role == store.RoleNone:
		return nil, errNoRole
	}
	return &caller{actor: "key:" + k.ID, key: k, readOnly: k.Role != store.RoleTenantAdmin}, nil
}

// CertAdmin is a global admin authenticated by a verified client
// certificate.
type CertAdmin struct {
	// Subject is the certificate's subject (pkix.Name.String).
	Subject string
	// Name names the admin in the audit log, as "cert:<name>".
	Name     string
	ReadOnly bool
}

// certCaller returns the admin of r's verified client certificate, when r
// carries no Authorization header (a request that does authenticates by
// it) and the certificate's subject is mapped; nil otherwise.
func (a *API) certCaller(r *http.Request) *caller {
	if len(a.certs) == 0 || r.Header.Get("Authorization") != "" || r.TLS == nil ||
		len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return nil
	}
	if c, ok := a.certs[r.TLS.VerifiedChains[0][0].Subject.String()]; ok {
		return &c
	}
	return nil
}

// bearer returns the bearer token of r; false when there is none.
func bearer(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return tok, false
	}
	return tok, true
}

// authFailure records a failed authentication: only the source and what
// of the credential is safe to show.
func (a *API) authFailure(r *http.Request, tok string) {
	if a.b.Audit != nil {
		a.b.Audit.AuthFailure(source(r), auth.DisplayPrefix(tok))
	}
}

// source is the client's address without its port.
func source(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// now is the API's clock, to the microsecond the store keeps.
func (a *API) now() time.Time { return store.Micro(a.b.Now()) }
