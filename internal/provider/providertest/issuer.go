package providertest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// issuer is the token bookkeeping the fake token endpoints share: the
// tokens issued, numbered from 1 after a prefix, the scopes asked, and
// failures or holds on demand.
type issuer struct {
	prefix string

	mu sync.Mutex
	// expiresIn is the lifetime of the tokens issued, in seconds.
	expiresIn int
	issued    []string
	fail      int           // status of the next token answers; 0: succeed
	hold      chan struct{} // when set, token requests wait for it
	scopes    []string
}

func newIssuer(prefix string, expiresIn int) *issuer {
	return &issuer{prefix: prefix, expiresIn: expiresIn}
}

// Issued returns the tokens issued so far, in order.
func (e *issuer) Issued() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.issued...)
}

// Scopes returns the scope asked by each token request.
func (e *issuer) Scopes() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.scopes...)
}

// Valid reports whether tok was issued.
func (e *issuer) Valid(tok string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Contains(e.issued, tok)
}

// Fail makes token requests answer status; 0 makes them succeed again.
func (e *issuer) Fail(status int) {
	e.mu.Lock()
	e.fail = status
	e.mu.Unlock()
}

// Hold makes token requests wait until the returned channel is closed.
func (e *issuer) Hold() chan struct{} {
	c := make(chan struct{})
	e.mu.Lock()
	e.hold = c
	e.mu.Unlock()
	return c
}

// wait holds a token request while told to, and returns the status it is
// to fail with (0: none); ok is false when the client went away.
func (e *issuer) wait(r *http.Request) (fail int, ok bool) {
	e.mu.Lock()
	hold, fail := e.hold, e.fail
	e.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			return 0, false
		}
	}
	return fail, true
}

// issue records a new token for scope and returns it with its lifetime in
// seconds.
func (e *issuer) issue(scope string) (string, int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	tok := fmt.Sprintf("%s%d", e.prefix, len(e.issued)+1)
	e.issued = append(e.issued, tok)
	e.scopes = append(e.scopes, strings.TrimSpace(scope))
	return tok, e.expiresIn
}
