package bedrock

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/llmgw/llmgw/internal/llm"
)

// Timing of credentials.
const (
	// fetchTimeout bounds one credentials request (STS, the instance
	// metadata service, a process), which runs detached from the requests
	// waiting on it.
	fetchTimeout = 30 * time.Second
	// expirySkew: credentials this close to their expiry are not used to
	// sign any more, so that a signature does not expire in flight.
	expirySkew = 30 * time.Second
	// refreshAhead is how long before expiry credentials are refreshed in
	// the background; credentials that live less than twice as long are
	// refreshed halfway through their life.
	refreshAhead = 5 * time.Minute
	// retryGap is the least time between two background refreshes after
	// one failed or brought the same credentials back.
	retryGap = 10 * time.Second
)

// refresher keeps the credentials requests are signed with. A request
// takes the current ones without waiting; when they are due for refresh,
// one credentials request starts in the background while the current ones
// are still used. Requests wait only when there are no valid credentials,
// and then all wait on the same credentials request.
//
// The SDK's aws.CredentialsCache does not do this: with an ExpiryWindow
// its credentials count as expired that much earlier, and the request that
// finds them so fetches new ones on its own path while every other request
// waits for it. It is unwrapped (Invalidate, then Retrieve) so that each
// background refresh reaches the source.
type refresher struct {
	src      aws.CredentialsProvider
	now      func() time.Time
	name     string
	sanitize func(string) string

	cur atomic.Pointer[creds]

	mu       sync.Mutex
	inflight *fetch
	notUntil time.Time
	lastErr  error
}

// creds are credentials and when to refresh them, on the refresher's
// clock.
type creds struct {
	v                aws.Credentials
	expires, refresh time.Time
	canExpire        bool
}

// fetch is one credentials request in flight.
type fetch struct {
	done chan struct{}
	err  error
}

func newRefresher(src aws.CredentialsProvider, now func() time.Time) *refresher {
	return &refresher{src: src, now: now, sanitize: func(s string) string { return s }}
}

// Retrieve implements aws.CredentialsProvider.
func (r *refresher) Retrieve(ctx context.Context) (aws.Credentials, error) {
	now := r.now()
	if c := r.cur.Load(); c != nil && (!c.canExpire || now.Before(c.expires.Add(-expirySkew))) {
		if c.canExpire && !now.Before(c.refresh) {
			_, _ = r.start(now, false)
		}
		return c.v, nil
	}
	f, err := r.start(now, true)
	if err != nil {
		return aws.Credentials{}, err
	}
	select {
	case <-f.done:
		if f.err != nil {
			return aws.Credentials{}, f.err
		}
		if c := r.cur.Load(); c != nil {
			return c.v, nil
		}
		return aws.Credentials{}, r.failure(errors.New("no credentials"))
	case <-ctx.Done():
		return aws.Credentials{}, llm.Wrap(llm.KindCanceled, ctx.Err(), "")
	}
}

// start starts a credentials request unless one is in flight, and returns
// the one in flight. A background refresh (wait false) is not started
// within retryGap of the last one that failed or brought nothing new; a
// request that has no credentials to sign with gets that failure instead.
func (r *refresher) start(now time.Time, wait bool) (*fetch, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.inflight != nil {
		return r.inflight, nil
	}
	if now.Before(r.notUntil) {
		if wait && r.lastErr != nil {
			return nil, r.lastErr
		}
		if !wait {
			return nil, nil
		}
	}
	f := &fetch{done: make(chan struct{})}
	r.inflight = f
	go r.run(f)
	return f, nil
}

// run makes one credentials request.
func (r *refresher) run(f *fetch) {
	ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
	defer cancel()
	if c, ok := r.src.(*aws.CredentialsCache); ok {
		c.Invalidate()
	}
	v, err := r.src.Retrieve(ctx)
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inflight = nil
	r.lastErr = nil
	old := r.cur.Load()
	switch {
	case err != nil:
		f.err = r.failure(err)
		r.lastErr, r.notUntil = f.err, now.Add(retryGap)
	case !v.HasKeys() || (v.CanExpire && !v.Expires.After(now)):
		f.err = r.failure(errors.New("the credentials source gave no valid credentials"))
		r.lastErr, r.notUntil = f.err, now.Add(retryGap)
	default:
		if old != nil && old.v.AccessKeyID == v.AccessKeyID && old.v.SessionToken == v.SessionToken {
			r.notUntil = now.Add(retryGap)
		}
		r.cur.Store(newCreds(v, now))
	}
	close(f.done)
}

// newCreds returns v, got at now, with its refresh time.
func newCreds(v aws.Credentials, now time.Time) *creds {
	c := &creds{v: v, canExpire: v.CanExpire}
	if !v.CanExpire {
		return c
	}
	life := v.Expires.Sub(now)
	c.expires = v.Expires
	if life > 2*refreshAhead {
		c.refresh = v.Expires.Add(-refreshAhead)
	} else {
		c.refresh = now.Add(life / 2)
	}
	return c
}

// failure is the error of a failed credentials request: the target's
// credentials do not work, which sends the request on to another target.
// The SDK's message is kept for the logs, redacted, never relayed.
func (r *refresher) failure(err error) error {
	return &llm.Error{Kind: llm.KindUpstream, Provider: r.name, UpstreamStatus: http.StatusUnauthorized,
		Message: "could not obtain AWS credentials for the upstream",
		Err:     errors.New("bedrock credentials: " + r.sanitize(err.Error()))}
}

// wait waits for the credentials request in flight, if any.
func (r *refresher) wait() {
	r.mu.Lock()
	f := r.inflight
	r.mu.Unlock()
	if f != nil {
		<-f.done
	}
}
