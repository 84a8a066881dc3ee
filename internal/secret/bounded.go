package secret

import (
	"fmt"
	"io"
	"net/http"
)

// maxReplyBytes bounds a reply of a secret service (Vault, Secrets
// Manager, Key Vault, and the credential endpoints their SDKs call): a
// secret is at most maxFileBytes, and its envelope is small. A service
// that answers more, or without end, fails the fetch rather than filling
// the gateway's memory.
const maxReplyBytes = 2 << 20

// errReplyTooLarge is returned while reading a reply past maxReplyBytes.
var errReplyTooLarge = fmt.Errorf("the reply is larger than %d bytes", maxReplyBytes)

// boundedClient returns a copy of c (or of a default client) whose replies
// are bounded to maxReplyBytes.
func boundedClient(c *http.Client) *http.Client {
	out := &http.Client{}
	if c != nil {
		*out = *c
	}
	next := out.Transport
	if next == nil {
		next = http.DefaultTransport.(*http.Transport).Clone()
	}
	out.Transport = boundedTransport{next: next, max: maxReplyBytes}
	return out
}

// boundedTransport refuses a reply whose declared length is over max and
// ends the body of one that runs past it with errReplyTooLarge.
type boundedTransport struct {
	next http.RoundTripper
	max  int64
}

func (t boundedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > t.max {
		resp.Body.Close()
		return nil, errReplyTooLarge
	}
	resp.Body = &boundedBody{rc: resp.Body, left: t.max}
	return resp, nil
}

type boundedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One more byte tells a body of exactly max from a longer one.
		var one [1]byte
		if n, err := b.rc.Read(one[:]); n > 0 {
			return 0, errReplyTooLarge
		} else if err != nil {
			return 0, err
		}
		return 0, nil
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *boundedBody) Close() error { return b.rc.Close() }

// boundedDoer bounds the replies of an HTTP client known only by its Do
// method, as the AWS SDK's clients are.
type boundedDoer struct {
	next interface {
		Do(*http.Request) (*http.Response, error)
	}
}

func (d boundedDoer) Do(req *http.Request) (*http.Response, error) {
	return boundedTransport{next: doerTransport(d), max: maxReplyBytes}.RoundTrip(req)
}

type doerTransport struct {
	next interface {
		Do(*http.Request) (*http.Response, error)
	}
}

func (t doerTransport) RoundTrip(req *http.Request) (*http.Response, error) { return t.next.Do(req) }
