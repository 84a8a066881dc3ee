package anthropic

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/llmgw/llmgw/internal/llm"
	protocol "github.com/llmgw/llmgw/internal/protocol/anthropic"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
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
	// Version is the anthropic-version header; default protocol.Version,
	// or else the client's own (see Inbound). Set, here or in Headers, it
	// wins over the client's.
	Version string
	// Headers are extra static headers sent with every request (an
	// anthropic-beta flag, say). A configured anthropic-beta list is
	// joined by the betas an Anthropic client asks for (see
	// provider.Inbound).
	Headers map[string]string
	// HTTPClient is the upstream client; nil means provider.NewHTTPClient
	// with default options.
	HTTPClient *http.Client
	// StreamIdleTimeout is the longest wait between two stream events before
	// the stream is aborted; 0 means no limit.
	StreamIdleTimeout time.Duration

	// A cloud serving the Messages API under its own URLs and
	// authentication (Claude on Vertex AI) reuses the adapter through the
	// three fields below.

	// URL, when set, returns the URL of operation op for model in place
	// of BaseURL + "/v1/messages" or "/v1/messages/count_tokens". It must
	// build the URL from configuration and escape model.
	URL func(model string, op Op) string
	// Body, when set, rewrites the body of operation op before it is
	// sent; it may write into body, which is the adapter's own.
	Body func(body []byte, op Op) ([]byte, error)
	// RequestHeader, when set, returns headers set on each request over
	// the static ones and the client's, such as a refreshed bearer token.
	RequestHeader func(ctx context.Context) http.Header
}

// Op is an operation of the Messages API.
type Op int

// Operations.
const (
	// OpMessage is a message not streamed.
	OpMessage Op = iota
	// OpStream is a message streamed.
	OpStream
	// OpCount is a token count.
	OpCount
)

// Provider is an upstream speaking Anthropic's Messages API. It implements
// provider.Provider, provider.Forwarder and provider.TokenCounter.
type Provider struct {
	name       string
	messageURL string
	countURL   string
	header     http.Header
	up         *provider.Upstream
	// betas is the configured anthropic-beta list; version is set when
	// anthropic-version is configured, which then wins over a client's.
	betas   string
	version bool
	// url, body and extra are Config.URL, Body and RequestHeader.
	url   func(model string, op Op) string
	body  func(body []byte, op Op) ([]byte, error)
	extra func(ctx context.Context) http.Header
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
	explicitVersion := c.Version != ""
	if !explicitVersion {
		c.Version = protocol.Version
	}
	header, secrets := provider.StaticHeader(c.Headers)
	versionSet := header.Get("anthropic-version") != ""
	if !versionSet {
		header.Set("anthropic-version", c.Version)
	}
	if c.APIKey != "" {
		header.Set("x-api-key", c.APIKey)
		secrets = append(secrets, c.APIKey)
	}
	p := &Provider{
		name:       c.Name,
		messageURL: base + "/v1/messages",
		countURL:   base + "/v1/messages/count_tokens",
		header:     header,
		betas:      header.Get("anthropic-beta"),
		version:    versionSet || explicitVersion,
		url:        c.URL,
		body:       c.Body,
		extra:      c.RequestHeader,
	}
	requestHeader := p.clientHeader
	if p.extra != nil {
		requestHeader = p.mergedHeader
	}
	p.up = provider.NewUpstream(provider.UpstreamConfig{
		Name: c.Name, Client: c.HTTPClient, Header: header, Secrets: secrets,
		ParseError: protocol.DecodeErrorMessage, ParseErrorFields: protocol.DecodeErrorFields, Protocol: protocol.Protocol,
		StreamIdleTimeout: c.StreamIdleTimeout, RequestHeader: requestHeader,
	})
	return p, nil
}

// endpoint returns the URL of op for model.
func (p *Provider) endpoint(model string, op Op) string {
	switch {
	case p.url != nil:
		return p.url(model, op)
	case op == OpCount:
		return p.countURL
	}
	return p.messageURL
}

// prepare returns the body of op as the upstream takes it.
func (p *Provider) prepare(body []byte, op Op) ([]byte, error) {
	if p.body == nil {
		return body, nil
	}
	return p.body(body, op)
}

// mergedHeader is clientHeader with the configured RequestHeader's
// headers over it.
func (p *Provider) mergedHeader(ctx context.Context) http.Header {
	h, extra := p.clientHeader(ctx), p.extra(ctx)
	if len(h) == 0 {
		return extra
	}
	for k, v := range extra {
		h[k] = v
	}
	return h
}

// clientHeader returns the anthropic-beta and anthropic-version headers of
// one request from what an Anthropic client sent (provider.InboundFrom):
// its betas joined to the configured ones, and its version unless one is
// configured. nil when the client sent neither, or nothing changes.
func (p *Provider) clientHeader(ctx context.Context) http.Header {
	in := provider.InboundFrom(ctx)
	if in == nil || (in.AnthropicBeta == "" && in.AnthropicVersion == "") {
		return nil
	}
	var h http.Header
	if betas := provider.MergeBetas(p.betas, in.AnthropicBeta); betas != p.betas {
		h = http.Header{"Anthropic-Beta": {betas}}
	}
	if in.AnthropicVersion != "" && !p.version {
		if h == nil {
			h = http.Header{}
		}
		h["Anthropic-Version"] = []string{in.AnthropicVersion}
	}
	return h
}

// Name implements provider.Provider.
func (p *Provider) Name() string { return p.name }

// Sanitize returns msg with the provider's credentials and configured
// header values redacted, as in the errors it returns: for the logs.
func (p *Provider) Sanitize(msg string) string { return p.up.Sanitize(msg) }

// Protocol implements provider.Forwarder.
func (p *Provider) Protocol() string { return protocol.Protocol }

// Chat implements provider.Provider.
func (p *Provider) Chat(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error) {
	// Fields of another protocol with no equivalent here are refused or
	// left out, and the ones left out reported to the attempt.
	rep := llm.ParamReportFrom(ctx)
	dropped, err := protocol.CheckParams(req, rep.Refuse())
	if err != nil {
		return nil, err
	}
	rep.Drop(dropped...)
	body, err := protocol.EncodeMessagesRequest(req)
	if err != nil {
		return nil, err
	}
	op := opOf(req.Stream)
	if body, err = p.prepare(body, op); err != nil {
		return nil, fmt.Errorf("anthropic: prepare request: %w", err)
	}
	if req.Stream {
		return p.openStream(ctx, p.endpoint(req.Model, op), body, false)
	}
	b, err := p.up.PostRead(ctx, p.endpoint(req.Model, op), body, maxResponseBody)
	if err != nil {
		return nil, err
	}
	if err := p.checkMessage(b); err != nil {
		return nil, err
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
	op := opOf(f.Stream)
	if body, err = p.prepare(body, op); err != nil {
		return nil, llm.Wrap(llm.KindInvalidRequest, err, "the request body is not a JSON object")
	}
	if f.Stream {
		return p.openStream(ctx, p.endpoint(f.Model, op), body, true)
	}
	b, err := p.up.PostRead(ctx, p.endpoint(f.Model, op), body, maxResponseBody)
	if err != nil {
		return nil, err
	}
	// The body goes to the client as it came: it must be a message, not
	// an error, an event stream or junk passed off as one.
	if err := p.checkMessage(b); err != nil {
		return nil, err
	}
	c := &llm.Chunk{Raw: b, RawProtocol: protocol.Protocol}
	if u, ok := protocol.ScanUsage("", b); ok {
		c.Usage = &u
	}
	return provider.NewUnary(c), nil
}

// opOf returns the operation of a message request.
func opOf(stream bool) Op {
	if stream {
		return OpStream
	}
	return OpMessage
}

// forwardBody returns a copy of f.Body with the model replaced, max_tokens
// defaulted when absent (Anthropic requires it) and, for a stream, stream
// set; f.Body itself is never written to.
func forwardBody(f *provider.Forward) ([]byte, error) {
	// sjson may write into spare capacity of its input: give it its own copy.
	body := make([]byte, len(f.Body), len(f.Body)+len(f.Model)+64)
	copy(body, f.Body)
	// The client's body passed jsonwire.CheckBody when it arrived: only its
	// kind is left to see.
	if i := skipSpace(body); i >= len(body) || body[i] != '{' {
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
	if body, err = p.prepare(body, OpCount); err != nil {
		return 0, fmt.Errorf("anthropic: prepare request: %w", err)
	}
	b, err := p.up.PostRead(ctx, p.endpoint(req.Model, OpCount), body, maxCountBody)
	if err != nil {
		return 0, err
	}
	if isErrorPayload(b) {
		return 0, p.eventError(b)
	}
	n := gjson.GetBytes(b, "input_tokens")
	if n.Type != gjson.Number {
		return 0, &llm.Error{Kind: llm.KindUpstream, Provider: p.name,
			Message: "the upstream sent a malformed count_tokens response", Err: errors.New("no input_tokens")}
	}
	return int(n.Int()), nil
}

// malformed is the public message of a body that is not a message.
const malformed = "the upstream sent a malformed response"

// checkMessage checks that b, the body of a 200 answer, is one JSON object
// (see jsonwire.CheckAnswer) with a "content" array and no "type" but
// "message". An error object ("type":"error") is the upstream's error,
// classified by its type as the same error with its status would be. Any
// other fault is a KindUpstream error. It reads b once and allocates
// nothing when b is sound.
func (p *Provider) checkMessage(b []byte) error {
	var content, isError, otherType bool
	err := jsonwire.CheckAnswer(b, func(name []byte, value int) {
		switch string(name) {
		case "content":
			content = b[value] == '['
		case "type":
			isError = bytes.HasPrefix(b[value:], []byte(`"error"`))
			otherType = !isError && !bytes.HasPrefix(b[value:], []byte(`"message"`))
		}
	})
	switch {
	case err != nil:
		return p.up.Malformed(err, malformed)
	case isError:
		return p.eventError(b)
	case otherType || !content:
		return p.up.Malformed(errors.New(`anthropic: answer is not an object of type "message" with a "content" array`), malformed)
	}
	return nil
}

// skipSpace returns the offset of the first byte of b that is not JSON
// white space, len(b) when there is none.
func skipSpace(b []byte) int {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// decodeError wraps a failure to decode an upstream answer.
func (p *Provider) decodeError(err error, msg string) error {
	return p.up.DecodeError(err, msg, func(k llm.Kind) bool { return k != llm.KindInternal })
}
