package provider

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmgw/llmgw/internal/llm"
)

// Token is a bearer token as an issuer answered it, its times on the wall
// clock.
type Token struct {
	// Value is the token sent as "Authorization: Bearer <Value>".
	Value string
	// Expires is when the token stops being accepted.
	Expires time.Time
	// Refresh, when set before Expires, is when the issuer suggests
	// getting the next token.
	Refresh time.Time
}

// TokensConfig configures Tokens.
type TokensConfig struct {
	// Name is the provider's configured name, put in every error.
	Name string
	// Fetch gets a new token from the issuer, never one it cached: it is
	// called only when a new token is wanted. Its context bounds the
	// request; it runs detached from the requests waiting on it.
	Fetch func(ctx context.Context) (Token, error)
	// Failure is the public message of a failed token request, such as
	// "could not obtain a Google Cloud access token for the upstream".
	Failure string
	// Cause names the issuer in the cause of a failure kept for the logs
	// ("entra", "google").
	Cause string
	// Sanitize, when set, redacts credentials from the issuer's messages
	// before they are kept as a failure's cause.
	Sanitize func(string) string
}

// Timing of tokens.
const (
	// tokenFetchTimeout bounds one token request.
	tokenFetchTimeout = 30 * time.Second
	// tokenExpirySkew: a token this close to its expiry is not sent any
	// more.
	tokenExpirySkew = 30 * time.Second
	// tokenRefreshAhead is how long before expiry a token is refreshed in
	// the background, the margin the Azure SDK keeps too; a token that
	// lives less than twice as long is refreshed halfway through its life.
	tokenRefreshAhead = 5 * time.Minute
	// tokenRetryGap is the least time between two token requests after one
	// failed or brought no new token.
	tokenRetryGap = 10 * time.Second
)

// Tokens keeps a bearer token for an upstream. A request reads the
// current one without waiting; when it is due for refresh, ahead of its
// expiry, one token request starts in the background while the current
// token is still sent. Requests wait only when there is no valid token,
// and then all wait on the same token request. It is safe for concurrent
// use.
type Tokens struct {
	c   TokensConfig
	now func() time.Time

	cur atomic.Pointer[heldToken]

	mu       sync.Mutex
	inflight *tokenFetch
	notUntil time.Time // no background request before then
	lastErr  error     // of the last failed request, till notUntil
}

// heldToken is a bearer token and the header that carries it, shared
// read-only by every request sending it, with its times on the clock of
// Tokens.
type heldToken struct {
	value            string
	header           http.Header
	expires, refresh time.Time
}

// tokenFetch is one token request in flight.
type tokenFetch struct {
	done chan struct{}
	err  error
}

// NewTokens returns Tokens for c, holding no token yet.
func NewTokens(c TokensConfig) *Tokens {
	if c.Sanitize == nil {
		c.Sanitize = func(s string) string { return s }
	}
	return &Tokens{c: c, now: time.Now}
}

// SetClock replaces the clock deciding when a token is due for refresh
// and when it expires: for tests.
func (s *Tokens) SetClock(now func() time.Time) { s.now = now }

// Current returns the token being sent, or "".
func (s *Tokens) Current() string {
	if t := s.cur.Load(); t != nil {
		return t.value
	}
	return ""
}

// Header returns the Authorization header of the current token, nil when
// there is none; it suits UpstreamConfig.RequestHeader once Ready has
// returned.
func (s *Tokens) Header(context.Context) http.Header {
	if t := s.cur.Load(); t != nil {
		return t.header
	}
	return nil
}

// Ready returns once a valid token is at hand, starting a background
// refresh when the token is due for one. It waits for a token request
// only when there is no valid token.
func (s *Tokens) Ready(ctx context.Context) error {
	now := s.now()
	if t := s.cur.Load(); t != nil && now.Before(t.expires.Add(-tokenExpirySkew)) {
		if !now.Before(t.refresh) {
			_, _ = s.start(now, false)
		}
		return nil
	}
	f, err := s.start(now, true)
	if err != nil {
		return err
	}
	select {
	case <-f.done:
		if f.err != nil {
			return f.err
		}
		if s.cur.Load() == nil {
			return s.failure(errors.New("no token"))
		}
		return nil
	case <-ctx.Done():
		return llm.Wrap(llm.KindCanceled, ctx.Err(), "")
	}
}

// start starts a token request unless one is in flight, and returns the
// one in flight. A background refresh (wait false) is not started within
// tokenRetryGap of the last request that failed or brought nothing new; a
// request that has no token to send gets that request's error instead.
func (s *Tokens) start(now time.Time, wait bool) (*tokenFetch, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inflight != nil {
		return s.inflight, nil
	}
	if now.Before(s.notUntil) {
		if wait && s.lastErr != nil {
			return nil, s.lastErr
		}
		if !wait {
			return nil, nil
		}
	}
	f := &tokenFetch{done: make(chan struct{})}
	s.inflight = f
	go s.run(f)
	return f, nil
}

// run makes one token request.
func (s *Tokens) run(f *tokenFetch) {
	ctx, cancel := context.WithTimeout(context.Background(), tokenFetchTimeout)
	defer cancel()
	tok, err := s.c.Fetch(ctx)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inflight = nil
	s.lastErr = nil
	old := s.cur.Load()
	switch {
	case err != nil:
		f.err = s.failure(err)
		s.lastErr, s.notUntil = f.err, now.Add(tokenRetryGap)
	case tok.Value == "" || time.Until(tok.Expires) <= 0:
		f.err = s.failure(errors.New("the token endpoint answered no valid token"))
		s.lastErr, s.notUntil = f.err, now.Add(tokenRetryGap)
	default:
		if old != nil && old.value == tok.Value {
			s.notUntil = now.Add(tokenRetryGap)
		}
		s.cur.Store(holdToken(tok, now))
	}
	close(f.done)
}

// holdToken returns tok, got at now, with its refresh time: the issuer's
// suggestion when it makes one, else tokenRefreshAhead before expiry, or
// halfway for a short-lived token. The issuer's times are on the wall
// clock; they are kept as lifetimes from now on the source's clock.
func holdToken(tok Token, now time.Time) *heldToken {
	life := time.Until(tok.Expires)
	t := &heldToken{value: tok.Value, expires: now.Add(life),
		header: http.Header{"Authorization": {"Bearer " + tok.Value}}}
	switch {
	case !tok.Refresh.IsZero() && tok.Refresh.Before(tok.Expires):
		t.refresh = now.Add(time.Until(tok.Refresh))
	case life > 2*tokenRefreshAhead:
		t.refresh = now.Add(life - tokenRefreshAhead)
	default:
		t.refresh = now.Add(life / 2)
	}
	return t
}

// failure is the error of a failed token request: the target's
// credentials do not work, which sends the request on to another target.
// The issuer's message is kept for the logs, sanitized, never relayed.
func (s *Tokens) failure(err error) error {
	return &llm.Error{Kind: llm.KindUpstream, Provider: s.c.Name, UpstreamStatus: http.StatusUnauthorized,
		Message: s.c.Failure, Err: errors.New(s.c.Cause + ": " + s.c.Sanitize(err.Error()))}
}

// Wait waits for the token request in flight, if any.
func (s *Tokens) Wait() {
	s.mu.Lock()
	f := s.inflight
	s.mu.Unlock()
	if f != nil {
		<-f.done
	}
}

// Scrub removes the current token from the public message of err, an
// *llm.Error, in case an upstream echoed the request's headers into its
// error; it returns err.
func (s *Tokens) Scrub(err error) error {
	var e *llm.Error
	if err != nil && errors.As(err, &e) {
		if tok := s.Current(); tok != "" {
			e.Message = Sanitize(e.Message, tok)
		}
	}
	return err
}
