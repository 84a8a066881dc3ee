package mistral

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/tidwall/sjson"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
	protocol "github.com/llmgw/llmgw/internal/protocol/openai"
	"github.com/llmgw/llmgw/internal/provider"
)

// Type is the provider type served by this adapter.
const Type = "mistral"

// DefaultBaseURL is La Plateforme's API root.
const DefaultBaseURL = "https://api.mistral.ai/v1"

const (
	// maxResponseBody caps a non-streamed chat completion body.
	maxResponseBody = 32 << 20
	// maxEmbedBody caps an embeddings body.
	maxEmbedBody = 128 << 20
)

// Config configures a Provider.
type Config struct {
	// Name is the provider's configured name.
	Name string
	// BaseURL is the API root, DefaultBaseURL when empty; requests go to
	// BaseURL + "/chat/completions" and BaseURL + "/embeddings".
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

// Provider is an upstream speaking Mistral's API. It implements
// provider.Provider and provider.Embedder. It is no provider.Forwarder: an
// OpenAI client's body is not what Mistral takes (see the package doc).
type Provider struct {
	name     string
	chatURL  string
	embedURL string
	up       *provider.Upstream
}

var (
	_ provider.Provider = (*Provider)(nil)
	_ provider.Embedder = (*Provider)(nil)
)

// New returns a Provider for c. BaseURL must be an absolute http or https
// URL when set.
func New(c Config) (*Provider, error) {
	base, up, err := provider.NewBearerUpstream(Type, DefaultBaseURL, provider.Bearer{Name: c.Name, BaseURL: c.BaseURL, APIKey: c.APIKey,
		Headers: c.Headers, HTTPClient: c.HTTPClient, StreamIdleTimeout: c.StreamIdleTimeout}, provider.UpstreamConfig{ParseError: decodeErrorMessage, ParseErrorFields: decodeErrorFields})
	if err != nil {
		return nil, err
	}
	return &Provider{name: c.Name, chatURL: base + "/chat/completions", embedURL: base + "/embeddings", up: up}, nil
}

// Name implements provider.Provider.
func (p *Provider) Name() string { return p.name }

// Sanitize returns msg with the provider's credentials and configured
// header values redacted, as in the errors it returns: for the logs.
func (p *Provider) Sanitize(msg string) string { return p.up.Sanitize(msg) }

// Chat implements provider.Provider.
func (p *Provider) Chat(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error) {
	rep := llm.ParamReportFrom(ctx)
	// Fields of an Anthropic request with no equivalent in Chat
	// Completions, thinking among them: Mistral takes no thinking setting
	// of that kind either.
	dropped, err := protocol.CheckParams(req, false, rep.Refuse())
	if err != nil {
		return nil, err
	}
	r, more, err := adapt(req, rep.Refuse())
	if err != nil {
		return nil, err
	}
	rep.Drop(append(dropped, more...)...)
	body, err := encode(r)
	if err != nil {
		return nil, err
	}
	if r.Stream {
		s := &stream{p: p}
		if err := s.Open(ctx, p.up, p.chatURL, body); err != nil {
			return nil, err
		}
		return s, nil
	}
	b, err := p.up.PostRead(ctx, p.chatURL, body, maxResponseBody)
	if err != nil {
		return nil, err
	}
	if err := p.checkAnswer(b, "choices", malformedChat); err != nil {
		return nil, err
	}
	if b, err = normalize(b, "message"); err != nil {
		return nil, p.decodeError(err, malformedChat)
	}
	c, err := protocol.DecodeChatResponse(b)
	if err != nil {
		return nil, p.decodeError(err, malformedChat)
	}
	return provider.NewUnary(c), nil
}

// Embed implements provider.Embedder. Mistral names OpenAI's dimensions
// output_dimension, and has no user.
func (p *Provider) Embed(ctx context.Context, req *llm.EmbedRequest) (*llm.EmbedResponse, error) {
	rep := llm.ParamReportFrom(ctx)
	r := *req
	if r.User != "" {
		if rep.Refuse() {
			return nil, llm.InvalidRequest("user", "user: the upstream of this model has no equivalent for this field")
		}
		r.User = ""
		rep.Drop("user")
	}
	dims := r.Dimensions
	r.Dimensions = nil
	body, err := protocol.EncodeEmbedRequest(&r)
	if err != nil {
		return nil, err
	}
	if dims != nil {
		if body, err = sjson.SetBytes(body, "output_dimension", *dims); err != nil {
			return nil, err
		}
	}
	b, err := p.up.PostRead(ctx, p.embedURL, body, maxEmbedBody)
	if err != nil {
		return nil, err
	}
	if err := p.checkAnswer(b, "data", malformedEmbed); err != nil {
		return nil, err
	}
	out, err := protocol.DecodeEmbedResponse(b)
	if err != nil {
		return nil, p.decodeError(err, malformedEmbed)
	}
	return out, nil
}

// Public messages of answers that are not what the API promises.
const (
	malformedChat   = "the upstream sent a malformed response"
	malformedEmbed  = "the upstream sent a malformed embeddings response"
	malformedStream = "the upstream sent a malformed stream event"
)

// checkAnswer checks that b, the body of a 200 answer, is one JSON object
// with an array member named list and is no error object (Mistral's
// {"object":"error",...}, or OpenAI's {"error":...} from a proxy in front):
// the error is then returned as the upstream's, its message sanitized.
func (p *Provider) checkAnswer(b []byte, list, msg string) error {
	var hasList, hasError, errorObject bool
	err := jsonwire.CheckAnswer(b, func(name []byte, value int) {
		switch string(name) {
		case list:
			hasList = b[value] == '['
		case "error":
			hasError = b[value] == '{' || b[value] == '"'
		case "object":
			errorObject = string(b[value:min(len(b), value+7)]) == `"error"`
		}
	})
	switch {
	case err != nil:
		return p.up.Malformed(err, msg)
	case hasError || errorObject:
		m, code := decodeErrorMessage(b)
		return &llm.Error{Kind: llm.KindUpstream, Provider: p.name, UpstreamStatus: http.StatusOK,
			Message: p.up.Sanitize(m), Err: fmt.Errorf("mistral: upstream error object in a 200 answer (code %q)", code)}
	case !hasList:
		return p.up.Malformed(fmt.Errorf("mistral: answer is not an object with a %q array", list), msg)
	}
	return nil
}

// decodeError wraps a failure to decode an upstream answer; an error the
// upstream reported in a 200 body is returned as such, sanitized.
func (p *Provider) decodeError(err error, msg string) error {
	return p.up.DecodeError(err, msg, func(k llm.Kind) bool { return k == llm.KindUpstream })
}
