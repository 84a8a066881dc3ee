package auth

import (
	"context"
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

// Directory holds keys created at run time (in the store), beside the
// static keys of the configuration. It is implemented by
// identity.Directory; auth does not depend on it.
type Directory interface {
	// HasKeys reports whether the directory holds any key: then callers
	// must authenticate.
	HasKeys() bool
	// Principal returns the principal of key; nil and no error when key is
	// not a usable key of the directory; an error (an *llm.Error) when the
	// directory could not tell, or refuses a key it knows.
	Principal(ctx context.Context, key string) (*Principal, error)
}

// Required reports whether callers must authenticate: once a static key or
// a JWT issuer is configured, or the directory (nil: none) holds a key.
func Required(keys *Keys, tokens *JWT, dir Directory) bool {
	return (keys != nil && keys.Len() > 0) || tokens.Len() > 0 || (dir != nil && dir.HasKeys())
}

// Authenticate resolves the request's principal: Anonymous when no key
// nor JWT issuer exists (local use); else the static key's principal, the
// directory's, or, for a credential shaped like a JWT, the verified
// token's; or a 401 error. The directory may refuse with its own error
// (a 503 when it cannot tell, a 403 for a key that may not use the data
// plane).
func Authenticate(r *http.Request, keys *Keys, tokens *JWT, dir Directory) (*Principal, error) {
	if !Required(keys, tokens, dir) {
		return Anonymous, nil
	}
	key := KeyFromRequest(r)
	if p := keys.Lookup(key); p != nil {
		return p, nil
	}
	if dir != nil {
		p, err := dir.Principal(r.Context(), key)
		if err != nil || p != nil {
			return p, err
		}
	}
	if tokens.Len() > 0 && LooksLikeJWT(key) {
		return tokens.Verify(r.Context(), key)
	}
	return nil, llm.NewError(llm.KindAuthentication, "missing or invalid API key")
}
