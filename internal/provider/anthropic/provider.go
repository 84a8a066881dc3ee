package anthropic

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/llmgw/llmgw/internal/llm"
	protocol "github.com/llmgw/llmgw/internal/protocol/anthropic"
	"github.com/llmgw/llmgw/internal/provider"
)

// Type is the provider type served by this adapter.
const Type = "anthropic"

// DefaultBaseURL is Anthropic's API root.
const DefaultBaseURL = "https://api.anthropic.com"

const (
	// maxResponseBody caps a non-streamed message body.
	maxResponseBody = 32 << 20
	// maxCountBody caps a count_tokens answer.
	maxCountBody = 1 << 20
)

// Config configures a Provider.
type Config struct {
	// Name is the provider's configured name.
	Name string
	// BaseURL is the API root; default https://api.anthropic.com. Requests
	// go to BaseURL + "/v1/messages" and BaseURL + "/v1/messages/count_tokens".
	BaseURL string
	// APIKey is sent in the x-api-key header; none when empty.
	APIKey string
	// Version is the anthropic-version header; default protocol.Version.
	Version string
	// Headers are extra static headers sent with every request (an
	// anthropic-beta flag, say).
	Headers map[string]string
	// HTTPClient is the upstream client; nil means provider.NewHTTPClient
	// with default options.
	HTTPClient *http.Client
	// StreamIdleTimeout is the longest wait between two stream events before
	// the stream is aborted; 0 means no limit.
	StreamIdleTimeout time.Duration
}

// Provider is an upstream speaking Anthropic's Messages API. It implements
// provider.Provider, provider.Forwarder and provider.TokenCounter.
type Provider struct {
	name       string
	messageURL string
	countURL   string
	header     http.Header
	up         *provider.Upstream
}

var (
	_ provider.Provider     = (*Provider)(nil)
	_ provider.Forwarder    = (*Provider)(nil)
	_ provider.TokenCounter = (*Provider)(nil)
)

// New returns a Provider for c.
func New(c Config) (*Provider, error) {
	if c.Name == "" {
		return nil, errors.New("anthropic: provider name is empty")
	}
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	base, err := provider.ParseBaseURL(c.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("anthropic: provider %s: %w", c.Name, err)
	}
	if c.Version == "" {
		c.Version = protocol.Version
	}
	header, secrets := provider.StaticHeader(c.Headers)
	header.Set("anthropic-version", c.Version)
	if c.APIKey != "" {
		header.Set("x-api-key", c.APIKey)
		secrets = append(secrets, c.APIKey)
	}
	p := &Provider{
		name:       c.Name,
		messageURL: base + "/v1/messages",
		countURL:   base + "/v1/messages/count_tokens",
		header:     header,
		up: provider.NewUpstream(provider.UpstreamConfig{
			Name: c.Name, Client: c.HTTPClient, Header: header, Secrets: secrets,
			ParseError: protocol.DecodeErrorMessage, StreamIdleTimeout: c.StreamIdleTimeout,
		}),
	}
	return p, nil
}

// Name implements provider.Provider.
func (p *Provider) Name() string { return p.name }

// Protocol implements provider.Forwarder.
func (p *Provider) Protocol() string { return protocol.Protocol }

// Chat implements provider.Provider.
func (p *Provider) Chat(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error) {
	body, err := protocol.EncodeMessagesRequest(req)
	if err != nil {
		return nil, err
	}
	if req.Stream {
		return p.openStream(ctx, body, false)
	}
	b, err := p.up.PostRead(ctx, p.messageURL, body, maxResponseBody)
	if err != nil {
		return nil, err
	}
	if isErrorPayload(b) {
		return nil, p.eventError(b)
	}
	c, err := protocol.DecodeMessagesResponse(b)
	if err != nil {
		return nil, p.decodeError(err, "the upstream sent a malformed response")
	}
	return provider.NewUnary(c), nil
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
	b, err := p.up.PostRead(ctx, p.messageURL, body, maxResponseBody)
	if err != nil {
		return nil, err
	}
	if isErrorPayload(b) {
		return nil, p.eventError(b)
	}
	if !gjson.ValidBytes(b) {
		return nil, &llm.Error{Kind: llm.KindUpstream, Provider: p.name,
			Message: "the upstream sent a malformed response", Err: errors.New("response body is not JSON")}
	}
	c := &llm.Chunk{Raw: b, RawProtocol: protocol.Protocol}
	if u, ok := protocol.ScanUsage("", b); ok {
		c.Usage = &u
	}
	return provider.NewUnary(c), nil
}

// forwardBody returns a copy of f.Body with the model replaced, max_tokens
// defaulted when absent (Anthropic requires it) and, for a stream, stream
// set; f.Body itself is never written to.
func forwardBody(f *provider.Forward) ([]byte, error) {
	// sjson may write into spare capacity of its input: give it its own copy.
	body := make([]byte, len(f.Body), len(f.Body)+len(f.Model)+64)
	copy(body, f.Body)
	if !gjson.ValidBytes(body) || !gjson.ParseBytes(body).IsObject() {
		return nil, errors.New("body is not a JSON object")
	}
	body, err := sjson.SetBytes(body, "model", f.Model)
	if err != nil {
		return nil, err
	}
	if !gjson.GetBytes(body, "max_tokens").Exists() {
		if body, err = sjson.SetBytes(body, "max_tokens", protocol.DefaultMaxTokens); err != nil {
			return nil, err
		}
	}
	if f.Stream {
		if body, err = sjson.SetBytes(body, "stream", true); err != nil {
			return nil, err
		}
	}
	return body, nil
}

// CountTokens implements provider.TokenCounter with the upstream's
// count_tokens endpoint.
func (p *Provider) CountTokens(ctx context.Context, req *llm.ChatRequest) (int, error) {
	body, err := protocol.EncodeCountTokensRequest(req)
	if err != nil {
		return 0, err
	}
	b, err := p.up.PostRead(ctx, p.countURL, body, maxCountBody)
	if err != nil {
		return 0, err
	}
	n := gjson.GetBytes(b, "input_tokens")
	if n.Type != gjson.Number {
		return 0, &llm.Error{Kind: llm.KindUpstream, Provider: p.name,
			Message: "the upstream sent a malformed count_tokens response", Err: errors.New("no input_tokens")}
	}
	return int(n.Int()), nil
}

// decodeError wraps a failure to decode an upstream answer.
func (p *Provider) decodeError(err error, msg string) error {
	return p.up.DecodeError(err, msg, func(k llm.Kind) bool { return k != llm.KindInternal })
}
