package azure

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/llmgw/llmgw/internal/llm"
)

// Scope is the OAuth scope of Azure OpenAI tokens.
const Scope = "https://cognitiveservices.azure.com/.default"

// Entra is a Microsoft Entra ID application that authenticates with a
// client secret (the client credentials flow).
type Entra struct {
	TenantID, ClientID, ClientSecret string
	// AuthorityHost is the Entra authority, such as
	// https://login.microsoftonline.us/ for Azure Government; "" is the
	// public cloud's, https://login.microsoftonline.com/.
	AuthorityHost string
}

// Timing of tokens.
const (
	// fetchTimeout bounds one token request, which runs detached from the
	// requests waiting on it.
	fetchTimeout = 30 * time.Second
	// expirySkew: a token this close to its expiry is not sent any more.
	expirySkew = 30 * time.Second
	// refreshAhead is how long before expiry a token is refreshed in the
	// background, the margin the Azure SDK keeps too; a token that lives
	// less than twice as long is refreshed halfway through its life.
	refreshAhead = 5 * time.Minute
	// retryGap is the least time between two token requests after one
	// failed or brought no new token.
	retryGap = 10 * time.Second
)

// tokenGetter is what tokenSource needs of an azcore credential.
type tokenGetter interface {
	GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error)
}

// tokenSource keeps a bearer token for the upstream. A request reads the
// current one without waiting; when it is due for refresh, one token
// request starts in the background while the current token is still sent.
// Requests wait only when there is no valid token, and then all wait on
// the same token request.
type tokenSource struct {
	cred     tokenGetter
	now      func() time.Time
	name     string
	sanitize func(string) string

	cur atomic.Pointer[token]

	mu       sync.Mutex
	inflight *fetch
	notUntil time.Time // no background request before then
	lastErr  error     // of the last failed request, till notUntil
}

// token is a bearer token and the header that carries it, shared
// read-only by every request sending it.
type token struct {
	value            string
	header           http.Header
	expires, refresh time.Time
}

// fetch is one token request in flight.
type fetch struct {
	done chan struct{}
	err  error
}

func newTokenSource(e *Entra, client *http.Client) (*tokenSource, error) {
	if e.TenantID == "" || e.ClientID == "" || e.ClientSecret == "" {
		return nil, errors.New("entra needs a tenant id, a client id and a client secret")
	}
	opts := &azidentity.ClientSecretCredentialOptions{}
	if e.AuthorityHost != "" {
		opts.Cloud = cloud.Configuration{ActiveDirectoryAuthorityHost: e.AuthorityHost}
		// A sovereign or private authority is not in the public cloud's
		// instance metadata.
		opts.DisableInstanceDiscovery = true
	}
	if client != nil {
		opts.Transport = client
	}
	cred, err := azidentity.NewClientSecretCredential(e.TenantID, e.ClientID, e.ClientSecret, opts)
	if err != nil {
		// The SDK's message names the ids, never the secret.
		return nil, fmt.Errorf("entra credential: %w", err)
	}
	return &tokenSource{cred: cred, now: time.Now, sanitize: func(s string) string { return s }}, nil
}

// current returns the token being sent, or "".
func (s *tokenSource) current() string {
	if t := s.cur.Load(); t != nil {
		return t.value
	}
	return ""
}

// header implements openai.Config.RequestHeader: the Authorization header
// of the current token. ready has been called first.
func (s *tokenSource) header(context.Context) http.Header {
	if t := s.cur.Load(); t != nil {
		return t.header
	}
	return nil
}

// ready returns once a valid token is at hand, starting a background
// refresh when the token is due for one. It waits for a token request
// only when there is no valid token.
func (s *tokenSource) ready(ctx context.Context) error {
	now := s.now()
	if t := s.cur.Load(); t != nil && now.Before(t.expires.Add(-expirySkew)) {
		if !now.Before(t.refresh) {
			s.start(now, false)
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
// retryGap of the last request that failed or brought nothing new; a
// request that has no token to send gets that request's error instead.
func (s *tokenSource) start(now time.Time, wait bool) (*fetch, error) {
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
	f := &fetch{done: make(chan struct{})}
	s.inflight = f
	go s.run(f)
	return f, nil
}

// run makes one token request.
func (s *tokenSource) run(f *fetch) {
	ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
	defer cancel()
	at, err := s.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{Scope}})
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inflight = nil
	s.lastErr = nil
	old := s.cur.Load()
	switch {
	case err != nil:
		f.err = s.failure(err)
		s.lastErr, s.notUntil = f.err, now.Add(retryGap)
	case at.Token == "" || time.Until(at.ExpiresOn) <= 0:
		f.err = s.failure(errors.New("the token endpoint answered no valid token"))
		s.lastErr, s.notUntil = f.err, now.Add(retryGap)
	default:
		if old != nil && old.value == at.Token {
			s.notUntil = now.Add(retryGap)
		}
		s.cur.Store(newToken(at, now))
	}
	close(f.done)
}

// newToken returns the token of at, got at now, with its refresh time:
// the SDK's suggestion when it makes one, else refreshAhead before
// expiry, or halfway for a short-lived token. The SDK's times are on the
// wall clock; they are kept as lifetimes from now on the source's clock.
func newToken(at azcore.AccessToken, now time.Time) *token {
	life := time.Until(at.ExpiresOn)
	t := &token{value: at.Token, expires: now.Add(life),
		header: http.Header{"Authorization": {"Bearer " + at.Token}}}
	switch {
	case !at.RefreshOn.IsZero() && at.RefreshOn.Before(at.ExpiresOn):
		t.refresh = now.Add(time.Until(at.RefreshOn))
	case life > 2*refreshAhead:
		t.refresh = at.ExpiresOn.Add(-refreshAhead)
	default:
		t.refresh = now.Add(life / 2)
	}
	return t
}

// failure is the error of a failed token request: the target's
// credentials do not work, which sends the request on to another target.
// The SDK's message, which quotes the token endpoint's answer, is kept
// for the logs with the client secret redacted, never relayed.
func (s *tokenSource) failure(err error) error {
	return &llm.Error{Kind: llm.KindUpstream, Provider: s.name, UpstreamStatus: http.StatusUnauthorized,
		Message: "could not obtain a Microsoft Entra token for the upstream",
		Err:     errors.New("entra: " + s.sanitize(err.Error()))}
}

// wait waits for the token request in flight, if any.
func (s *tokenSource) wait() {
	s.mu.Lock()
	f := s.inflight
	s.mu.Unlock()
	if f != nil {
		<-f.done
	}
}
