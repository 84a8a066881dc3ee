package provider

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/llmgw/llmgw/internal/llm"
)

// userAgent is the User-Agent of every upstream request.
const userAgent = "llmgw"

// Upstream is the transport an adapter uses to reach its upstream API: it
// posts request bodies with the adapter's static headers, maps failures to
// *llm.Error and reads bounded answers. The headers, including the
// upstream's credentials, are the adapter's; Upstream only sends them. It is
// safe for concurrent use.
type Upstream struct {
	name   string
	client *http.Client
	// jsonHeader, sseHeader and ndjsonHeader are the static headers plus
	// Accept, built once and shared read-only by every request: http.Client
	// and its Transport never modify a request's Header (a redirect or a
	// cookie jar works on a copy), so cloning it per request would only
	// allocate.
	jsonHeader, sseHeader, ndjsonHeader http.Header
	secrets                             []string
	red                                 redactor
	parse                               ErrorParser
	idle                                time.Duration
	extra                               func(context.Context) http.Header
}

// UpstreamConfig configures an Upstream.
type UpstreamConfig struct {
	// Name is the provider's configured name, put in every error.
	Name string
	// Client is the upstream client; nil means NewHTTPClient with default
	// options.
	Client *http.Client
	// Header is sent with every request (Accept is added per request kind);
	// it is cloned, not kept.
	Header http.Header
	// Secrets are redacted from every upstream message relayed, and from
	// every answer body and stream event (those of MinBodySecret bytes or
	// more).
	Secrets []string
	// ParseError extracts the upstream's message and code from an error
	// body; see ErrorFromResponse.
	ParseError func(body []byte) (message, code string)
	// ParseErrorFields extracts the error type, code and param of an error
	// body, relayed to a client when the upstream refused its request;
	// nil: none are.
	ParseErrorFields func(body []byte) (typ, code, param string)
	// Protocol is the wire protocol of the upstream's error bodies
	// ("openai", "anthropic"): a client speaking it gets the relayed type
	// and code as they came.
	Protocol string
	// StreamIdleTimeout is the longest wait between two stream events
	// before a stream is aborted; 0 means no limit.
	StreamIdleTimeout time.Duration
	// RequestHeader, when set, returns headers to set on one request
	// (from what the client sent, see InboundFrom), over the static ones;
	// nil or empty: none.
	RequestHeader func(ctx context.Context) http.Header
}

// NewUpstream returns an Upstream for c.
func NewUpstream(c UpstreamConfig) *Upstream {
	u := &Upstream{
		name:       c.Name,
		client:     c.Client,
		jsonHeader: c.Header.Clone(),
		sseHeader:  c.Header.Clone(),
		secrets:    c.Secrets,
		red:        newRedactor(c.Secrets),
		parse:      ErrorParser{Protocol: c.Protocol, Message: c.ParseError, Fields: c.ParseErrorFields},
		idle:       c.StreamIdleTimeout,
		extra:      c.RequestHeader,
	}
	if u.client == nil {
		u.client = NewHTTPClient(ClientOptions{})
	}
	if u.jsonHeader == nil {
		u.jsonHeader, u.sseHeader = http.Header{}, http.Header{}
	}
	u.ndjsonHeader = u.jsonHeader.Clone()
	u.jsonHeader.Set("Accept", "application/json")
	u.sseHeader.Set("Accept", "text/event-stream")
	u.ndjsonHeader.Set("Accept", "application/x-ndjson")
	return u
}

// StaticHeader returns the headers every upstream request carries before
// the adapter adds its own (credentials, a version): extra, then a JSON
// Content-Type, the gateway's User-Agent and its hop id (HopHeader). It
// also returns the values of extra, which may hold credentials and so are
// to be redacted.
func StaticHeader(extra map[string]string) (http.Header, []string) {
	h := make(http.Header, len(extra)+4)
	var secrets []string
	for k, v := range extra {
		h.Set(k, v)
		secrets = append(secrets, v)
	}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", userAgent)
	h.Set(HopHeader, instanceID)
	return h, secrets
}

// ParseBaseURL checks that s is an absolute http or https URL with no query,
// fragment or user info, and returns it without trailing slashes.
func ParseBaseURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("invalid base URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("base URL %q is not an absolute http(s) URL", s)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("base URL %q may not have a query, fragment or user info", s)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// Name returns the provider's configured name.
func (u *Upstream) Name() string { return u.name }

// Sanitize is the package's Sanitize with the upstream's secrets.
func (u *Upstream) Sanitize(msg string) string { return Sanitize(msg, u.secrets...) }

// ResponseError is ErrorFromResponse with the upstream's name, error parser
// and secrets.
func (u *Upstream) ResponseError(resp *http.Response) error {
	return errorFromResponse(u.name, resp, u.parse, u.secrets)
}

// Post sends body to url, asking for an event stream when stream is set,
// and returns a 2xx response, whose headroom it reports; any other answer
// or a transport failure is returned as an *llm.Error.
func (u *Upstream) Post(ctx context.Context, url string, body []byte, stream bool) (*http.Response, error) {
	h := u.jsonHeader
	if stream {
		h = u.sseHeader
	}
	return u.post(ctx, url, body, h)
}

func (u *Upstream) post(ctx context.Context, url string, body []byte, h http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, llm.Wrap(llm.KindInternal, err, "")
	}
	req.Header = h
	req.Header = requestHeader(ctx, req.Header, u.extra)
	resp, err := u.client.Do(req)
	if err != nil {
		return nil, TransportError(u.name, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, u.ResponseError(resp)
	}
	ReportHeadroom(ctx, resp.Header)
	return resp, nil
}

// PostRead posts body and reads a response body of at most limit bytes,
// with the upstream's secrets redacted (see Redact). An event stream is no
// answer to a request that asked for none: it is an error, unread.
func (u *Upstream) PostRead(ctx context.Context, url string, body []byte, limit int64) ([]byte, error) {
	resp, err := u.Post(ctx, url, body, false)
	if err != nil {
		return nil, err
	}
	return u.readAnswer(resp, limit)
}

// readAnswer reads and closes the body of a 2xx answer to a request for
// JSON: at most limit bytes, with the upstream's secrets redacted. An event
// stream is no such answer: it is an error, unread.
func (u *Upstream) readAnswer(resp *http.Response, limit int64) ([]byte, error) {
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); mediaType(ct) == "text/event-stream" {
		return nil, &llm.Error{Kind: llm.KindUpstream, Provider: u.name, UpstreamStatus: resp.StatusCode,
			Message: "the upstream sent a malformed response", Err: fmt.Errorf("content type %q to a request for JSON", ct)}
	}
	b, err := ReadAll(io.LimitReader(resp.Body, limit+1), resp.ContentLength, limit)
	if err != nil {
		return nil, TransportError(u.name, err)
	}
	if int64(len(b)) > limit {
		return nil, &llm.Error{Kind: llm.KindUpstream, Provider: u.name, Message: "the upstream response is too large",
			Err: fmt.Errorf("response body over %d bytes", limit)}
	}
	return u.Redact(b), nil
}

// Redact returns b with every occurrence of the upstream's secrets (its
// credentials and configured header values, of MinBodySecret bytes or more)
// replaced by "[redacted]", as they are and as JSON escapes them: an
// upstream that echoes its request headers in an answer must not hand them
// to a client. It returns b itself when there is none, the common case,
// which costs a search of b per secret; otherwise a new slice.
func (u *Upstream) Redact(b []byte) []byte { return u.red.redact(b) }

// Malformed is the error of an answer that came with a success status and
// is not what the upstream's API promises: an upstream error with the
// public message msg, which a retry or another target may cure. err says
// what is wrong, for the logs.
func (u *Upstream) Malformed(err error, msg string) error {
	return &llm.Error{Kind: llm.KindUpstream, Provider: u.name, UpstreamStatus: http.StatusOK, Message: msg, Err: err}
}

// mediaType returns the lower-cased media type of a Content-Type value,
// without its parameters.
func mediaType(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.ToLower(strings.TrimSpace(ct))
}

// ReadAll is io.ReadAll with the buffer sized from a response's
// Content-Length (size) when it is known and within limit, so that a whole
// answer costs one allocation instead of a chain of growing ones.
func ReadAll(r io.Reader, size, limit int64) ([]byte, error) {
	if size < 0 || size > limit {
		return io.ReadAll(r)
	}
	b := make([]byte, 0, size+1) // +1: io.EOF is seen without growing
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // longer than announced: grow
		}
	}
}

// DecodeError wraps a failure to decode an upstream answer. An *llm.Error in
// err whose kind relay accepts is an error the upstream reported in a 200
// body or stream: it is returned with the provider's name filled in and its
// message sanitized like that of an error status. Anything else becomes a
// KindUpstream error with the public message msg.
func (u *Upstream) DecodeError(err error, msg string, relay func(llm.Kind) bool) error {
	var e *llm.Error
	if errors.As(err, &e) && relay(e.Kind) {
		if e.Provider == "" {
			e.Provider = u.name
		}
		e.Message = u.Sanitize(e.Message)
		return e
	}
	return &llm.Error{Kind: llm.KindUpstream, Provider: u.name, Message: msg, Err: err}
}
