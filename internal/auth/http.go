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

// Authenticate resolves the request's principal: Anonymous when keys is nil
// or empty (no auth configured, local use), the key's principal otherwise, or
// a 401 error.
func Authenticate(r *http.Request, keys *Keys) (*Principal, error) {
	if keys == nil || keys.Len() == 0 {
		return Anonymous, nil
	}
	p := keys.Lookup(KeyFromRequest(r))
	if p == nil {
		return nil, llm.NewError(llm.KindAuthentication, "missing or invalid API key")
	}
	return p, nil
}
