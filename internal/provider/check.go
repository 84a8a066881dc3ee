package provider

import (
	"context"
	"io"
	"net/http"

	"github.com/llmgw/llmgw/internal/llm"
)

// Checker is implemented by providers whose upstream has a cheap request
// that says whether it is up and takes the provider's credentials (most
// often its model list), for the gateway's active health checks.
type Checker interface {
	// Check sends that request once and returns nil when the upstream
	// answered it with success; the caller bounds the time with ctx.
	Check(ctx context.Context) error
}

// probeBody is the most of a check's answer that is read: the rest is
// left unread and its connection closed.
const probeBody = 64 << 10

// Probe sends a GET to url with the upstream's headers, for a health
// check: nil for a 2xx answer, whose body is read (at most probeBody bytes)
// and dropped so that its connection is reused; any other answer or a
// transport failure is an *llm.Error, sanitized of the upstream's secrets
// as any other.
func (u *Upstream) Probe(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return llm.Wrap(llm.KindInternal, err, "")
	}
	req.Header = requestHeader(ctx, u.jsonHeader, u.extra)
	resp, err := u.client.Do(req)
	if err != nil {
		return TransportError(u.name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return u.ResponseError(resp)
	}
	if _, err := io.Copy(io.Discard, io.LimitReader(resp.Body, probeBody)); err != nil {
		return TransportError(u.name, err)
	}
	return nil
}
