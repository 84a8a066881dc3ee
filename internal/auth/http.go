package auth

import (
	"net/http"
	"strings"

	"github.com/llmgw/llmgw/internal/llm"
)

// KeyFromRequest returns the key the request presents: the bearer token of
// the Authorization header, else the x-api-key header.
func KeyFromRequest(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
			return strings.TrimSpace(h[7:])
		}
		return ""
	}
	return strings.TrimSpace(r.Header.Get("x-api-key"))
}

// Required reports whether callers must authenticate: once a static key or
// a JWT issuer is configured.
func Required(keys *Keys, tokens *JWT) bool {
	return (keys != nil && keys.Len() > 0) || tokens.Len() > 0
}

// Authenticate resolves the request's principal: Anonymous when neither keys
// nor JWT issuers are configured (local use); else the static key's
// principal, or, for a credential shaped like a JWT, the verified token's;
// or a 401 error.
func Authenticate(r *http.Request, keys *Keys, tokens *JWT) (*Principal, error) {
	if !Required(keys, tokens) {
		return Anonymous, nil
	}
	key := KeyFromRequest(r)
	if p := keys.Lookup(key); p != nil {
		return p, nil
	}
	if tokens.Len() > 0 && LooksLikeJWT(key) {
		return tokens.Verify(r.Context(), key)
	}
	return nil, llm.NewError(llm.KindAuthentication, "missing or invalid API key")
}
