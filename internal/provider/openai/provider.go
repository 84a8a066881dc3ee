package openai

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

	"github.com/tidwall/sjson"

	"github.com/llmgw/llmgw/internal/llm"
	protocol "github.com/llmgw/llmgw/internal/protocol/openai"
	"github.com/llmgw/llmgw/internal/provider"
)

// Provider types served by this adapter.
const (
	TypeOpenAI           = "openai"
	TypeOpenAICompatible = "openai_compatible"
	TypeVLLM             = "vllm"
)

const (
	// maxResponseBody caps a non-streamed chat completion body.
	maxResponseBody = 32 << 20
	// maxEmbedBody caps an embeddings body: a large batch of wide vectors is
	// far bigger than any chat answer.
	maxEmbedBody = 128 << 20
	userAgent    = "llmgw"
)

// Config configures a Provider.
type Config struct {
	// Name is the provider's configured name.
	Name string
	// Type is openai, openai_compatible or vllm.
	Type string
	// BaseURL is the API root, such as https://api.openai.com/v1; requests
	// go to BaseURL + "/chat/completions" and BaseURL + "/embeddings".
	BaseURL string
	// APIKey is sent as a bearer token; no Authorization header when empty.
	APIKey string
	// Headers are extra static headers sent with every request.
	Headers map[string]string
	// HTTPClient is the upstream client; nil means provider.NewHTTPClient
	// with default options.
	HTTPClient *http.Client
	// StreamIdleTimeout is the longest wait between two stream events before
	// the stream is aborted; 0 means no limit.
	StreamIdleTimeout time.Duration
}

// Provider is an upstream speaking the OpenAI API. It implements
// provider.Provider, provider.Embedder and provider.Forwarder.
type Provider struct {
	name     string
	chatURL  string
	embedURL string
	header   http.Header
	// jsonHeader and sseHeader are header plus Accept, built once and
	// shared read-only by every request: http.Client and its Transport
	// never modify a request's Header (a redirect or a cookie jar works on
	// a copy), so cloning it per request would only allocate.
	jsonHeader, sseHeader http.Header
	client                *http.Client
	idle                  time.Duration
	secrets               []string
	// completionTokens: send the output cap as max_completion_tokens, the
	// only form OpenAI's reasoning models accept; other OpenAI-compatible
	// servers may know only max_tokens.
	completionTokens bool
}

var (
	_ provider.Provider  = (*Provider)(nil)
	_ provider.Embedder  = (*Provider)(nil)
	_ provider.Forwarder = (*Provider)(nil)
)

// New returns a Provider for c. BaseURL must be an absolute http or https URL.
func New(c Config) (*Provider, error) {
	if c.Name == "" {
		return nil, errors.New("openai: provider name is empty")
	}
	switch c.Type {
	case TypeOpenAI, TypeOpenAICompatible, TypeVLLM:
	default:
		return nil, fmt.Errorf("openai: provider %s: unsupported type %q", c.Name, c.Type)
	}
	base, err := parseBaseURL(c.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("openai: provider %s: %w", c.Name, err)
	}
	p := &Provider{
		name:     c.Name,
		chatURL:  base + "/chat/completions",
		embedURL: base + "/embeddings",
		header:   make(http.Header, len(c.Headers)+4),
		client:   c.HTTPClient,
		idle:     c.StreamIdleTimeout,

		completionTokens: c.Type == TypeOpenAI,
	}
	if p.client == nil {
		p.client = provider.NewHTTPClient(provider.ClientOptions{})
	}
	for k, v := range c.Headers {
		p.header.Set(k, v)
		p.secrets = append(p.secrets, v)
	}
	p.header.Set("Content-Type", "application/json")
	p.header.Set("User-Agent", userAgent)
	if c.APIKey != "" {
		p.header.Set("Authorization", "Bearer "+c.APIKey)
		p.secrets = append(p.secrets, c.APIKey)
	}
	p.jsonHeader, p.sseHeader = p.header.Clone(), p.header.Clone()
	p.jsonHeader.Set("Accept", "application/json")
	p.sseHeader.Set("Accept", "text/event-stream")
	return p, nil
}

func parseBaseURL(s string) (string, error) {
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

// Name implements provider.Provider.
func (p *Provider) Name() string { return p.name }

// Protocol implements provider.Forwarder.
func (p *Provider) Protocol() string { return protocol.Protocol }

// Chat implements provider.Provider.
func (p *Provider) Chat(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error) {
	if p.completionTokens && req.MaxTokens != nil && req.MaxCompletionTokens == nil {
		r := *req
		r.MaxCompletionTokens, r.MaxTokens = req.MaxTokens, nil
		req = &r
	}
	body, err := protocol.EncodeChatRequest(req)
	if err != nil {
		return nil, err
	}
	if req.Stream {
		return p.openStream(ctx, body, false)
	}
	b, err := p.postRead(ctx, p.chatURL, body, maxResponseBody)
	if err != nil {
		return nil, err
	}
	c, err := protocol.DecodeChatResponse(b)
	if err != nil {
		return nil, p.decodeError(err, "the upstream sent a malformed response")
	}
	return newUnary(c), nil
}

// Forward implements provider.Forwarder.
func (p *Provider) Forward(ctx context.Context, f *provider.Forward) (llm.Stream, error) {
	body, err := forwardBody(f)
	if err != nil {
		return nil, llm.Wrap(llm.KindInvalidRequest, err, "the request body is not a JSON object")
	}
	if f.Stream {
		return p.openStream(ctx, body, true)
	}
	b, err := p.postRead(ctx, p.chatURL, body, maxResponseBody)
	if err != nil {
		return nil, err
	}
	if isErrorPayload(b) {
		_, err := protocol.DecodeChatResponse(b)
		return nil, p.decodeError(err, "the upstream sent a malformed response")
	}
	c := &llm.Chunk{Raw: b, RawProtocol: protocol.Protocol}
	if u, ok := protocol.ScanUsage(b); ok {
		c.Usage = &u
	}
	return newUnary(c), nil
}

// forwardBody returns a copy of f.Body with the model replaced and, for a
// stream, usage requested; f.Body itself is never written to.
func forwardBody(f *provider.Forward) ([]byte, error) {
	// sjson may write into spare capacity of its input: give it its own copy.
	body := make([]byte, len(f.Body), len(f.Body)+len(f.Model)+64)
	copy(body, f.Body)
	body, err := sjson.SetBytes(body, "model", f.Model)
	if err != nil {
		return nil, err
	}
	if f.Stream {
		if body, err = sjson.SetBytes(body, "stream", true); err != nil {
			return nil, err
		}
		if body, err = sjson.SetBytes(body, "stream_options.include_usage", true); err != nil {
			return nil, err
		}
	}
	return body, nil
}

// Embed implements provider.Embedder.
func (p *Provider) Embed(ctx context.Context, req *llm.EmbedRequest) (*llm.EmbedResponse, error) {
	body, err := protocol.EncodeEmbedRequest(req)
	if err != nil {
		return nil, err
	}
	b, err := p.postRead(ctx, p.embedURL, body, maxEmbedBody)
	if err != nil {
		return nil, err
	}
	r, err := protocol.DecodeEmbedResponse(b)
	if err != nil {
		return nil, p.decodeError(err, "the upstream sent a malformed embeddings response")
	}
	r.Raw, r.RawProtocol = b, protocol.Protocol
	return r, nil
}

// post sends body to url and returns a 2xx response; any other answer or a
// transport failure is returned as an *llm.Error.
func (p *Provider) post(ctx context.Context, url string, body []byte, stream bool) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, llm.Wrap(llm.KindInternal, err, "")
	}
	req.Header = p.jsonHeader
	if stream {
		req.Header = p.sseHeader
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, provider.TransportError(p.name, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, provider.ErrorFromResponse(p.name, resp, protocol.DecodeErrorMessage, p.secrets...)
	}
	provider.ReportHeadroom(ctx, resp.Header)
	return resp, nil
}

// postRead posts body and reads a response body of at most limit bytes.
func (p *Provider) postRead(ctx context.Context, url string, body []byte, limit int64) ([]byte, error) {
	resp, err := p.post(ctx, url, body, false)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := readAll(io.LimitReader(resp.Body, limit+1), resp.ContentLength, limit)
	if err != nil {
		return nil, provider.TransportError(p.name, err)
	}
	if int64(len(b)) > limit {
		return nil, &llm.Error{Kind: llm.KindUpstream, Provider: p.name, Message: "the upstream response is too large",
			Err: fmt.Errorf("response body over %d bytes", limit)}
	}
	return b, nil
}

// readAll is io.ReadAll with the buffer sized from the response's
// Content-Length when it is known and within limit, so that a whole answer
// costs one allocation instead of a chain of growing ones.
func readAll(r io.Reader, size, limit int64) ([]byte, error) {
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

// decodeError wraps a failure to decode an upstream answer. An error the
// upstream reported in a 200 body is returned as such, its message
// sanitized like that of an error status.
func (p *Provider) decodeError(err error, msg string) error {
	var e *llm.Error
	if errors.As(err, &e) && e.Kind == llm.KindUpstream {
		if e.Provider == "" {
			e.Provider = p.name
		}
		e.Message = provider.Sanitize(e.Message, p.secrets...)
		return e
	}
	return &llm.Error{Kind: llm.KindUpstream, Provider: p.name, Message: msg, Err: err}
}
