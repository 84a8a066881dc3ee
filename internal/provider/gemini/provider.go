package gemini

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
	"github.com/llmgw/llmgw/internal/provider"
)

// Type is the provider type served by this adapter.
const Type = "gemini"

// DefaultBaseURL is the Gemini API's root; requests go to its /v1beta.
const DefaultBaseURL = "https://generativelanguage.googleapis.com"

// apiVersion is the version of the API the adapter speaks.
const apiVersion = "v1beta"

const (
	// maxResponseBody caps a non-streamed answer.
	maxResponseBody = 32 << 20
	// maxEmbedBody caps an embeddings answer.
	maxEmbedBody = 128 << 20
)

// Config configures a Provider.
type Config struct {
	// Name is the provider's configured name.
	Name string
	// BaseURL is the API's root, DefaultBaseURL when empty; requests go to
	// BaseURL + "/v1beta/models/{model}:{method}".
	BaseURL string
	// APIKey is sent in the x-goog-api-key header, never in the URL.
	APIKey string
	// Headers are extra static headers sent with every request.
	Headers map[string]string
	// HTTPClient is the upstream client; nil means provider.NewHTTPClient
	// with default options.
	HTTPClient *http.Client
	// StreamIdleTimeout is the longest wait between two stream events
	// before the stream is aborted; 0 means no limit.
	StreamIdleTimeout time.Duration

	// Another host serving the same GenerateContentRequest under other
	// URLs and another authentication (Vertex AI) reuses the adapter
	// through the three fields below.

	// ModelsURL, when set, is the URL of the models collection in place
	// of BaseURL + "/v1beta/models": a method's URL is ModelsURL + "/" +
	// model + ":" + method. It is built from configuration only.
	ModelsURL string
	// RequestHeader, when set, returns headers set on each request over
	// the static ones, such as a refreshed bearer token.
	RequestHeader func(ctx context.Context) http.Header
	// PredictEmbeddings sends embeddings to {model}:predict with
	// instances, Vertex AI's text embeddings API, instead of embedContent
	// and batchEmbedContents.
	PredictEmbeddings bool
}

// Provider is an upstream speaking the Gemini API. It implements
// provider.Provider and provider.Embedder.
type Provider struct {
	name string
	// models is the URL of the models collection; a method's URL is
	// models + "/" + model + ":" + method.
	models  string
	up      *provider.Upstream
	predict bool
}

var (
	_ provider.Provider = (*Provider)(nil)
	_ provider.Embedder = (*Provider)(nil)
)

// New returns a Provider for c. BaseURL must be an absolute http or https
// URL when set.
func New(c Config) (*Provider, error) {
	if c.Name == "" {
		return nil, errors.New("gemini: provider name is empty")
	}
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	base, err := provider.ParseBaseURL(c.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("gemini: provider %s: %w", c.Name, err)
	}
	header, secrets := provider.StaticHeader(c.Headers)
	if c.APIKey != "" {
		header.Set("x-goog-api-key", c.APIKey)
		secrets = append(secrets, c.APIKey)
	}
	models := base + "/" + apiVersion + "/models"
	if c.ModelsURL != "" {
		models = c.ModelsURL
	}
	return &Provider{
		name:   c.Name,
		models: models,
		up: provider.NewUpstream(provider.UpstreamConfig{
			Name: c.Name, Client: c.HTTPClient, Header: header, Secrets: secrets,
			ParseError: decodeErrorMessage, Protocol: Type, StreamIdleTimeout: c.StreamIdleTimeout,
			RequestHeader: c.RequestHeader,
		}),
		predict: c.PredictEmbeddings,
	}, nil
}

// Name implements provider.Provider.
func (p *Provider) Name() string { return p.name }

// Sanitize returns msg with the provider's credentials and configured
// header values redacted, as in the errors it returns: for the logs.
func (p *Provider) Sanitize(msg string) string { return p.up.Sanitize(msg) }

// methodURL returns the URL of method for model. A model given as
// "models/x" is x; its id is escaped, so that it cannot reach another
// path or carry a query.
func (p *Provider) methodURL(model, method string) string {
	model = strings.TrimPrefix(model, "models/")
	return p.models + "/" + url.PathEscape(model) + ":" + method
}

// Chat implements provider.Provider.
func (p *Provider) Chat(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error) {
	rep := llm.ParamReportFrom(ctx)
	body, dropped, err := encodeChat(req, rep.Refuse())
	if err != nil {
		return nil, err
	}
	rep.Drop(dropped...)
	if req.Stream {
		s := &stream{p: p, model: req.Model}
		if err := s.Open(ctx, p.up, p.methodURL(req.Model, "streamGenerateContent")+"?alt=sse", body); err != nil {
			return nil, err
		}
		return s, nil
	}
	b, err := p.up.PostRead(ctx, p.methodURL(req.Model, "generateContent"), body, maxResponseBody)
	if err != nil {
		return nil, err
	}
	if err := p.checkAnswer(b, malformedChat); err != nil {
		return nil, err
	}
	var w wireResponse
	if err := decode(b, &w); err != nil {
		return nil, p.up.Malformed(err, malformedChat)
	}
	c, err := p.unary(&w, req.Model)
	if err != nil {
		return nil, err
	}
	return provider.NewUnary(c), nil
}

// checkAnswer checks that b, the body of a 200 answer, is one JSON object
// with no "error" member: the error is then returned as the upstream's,
// its message sanitized.
func (p *Provider) checkAnswer(b []byte, msg string) error {
	var hasError bool
	err := jsonwire.CheckAnswer(b, func(name []byte, value int) {
		if string(name) == "error" {
			hasError = b[value] != 'n'
		}
	})
	switch {
	case err != nil:
		return p.up.Malformed(err, msg)
	case len(b) == 0 || b[0] != '{':
		return p.up.Malformed(errors.New("gemini: answer is not an object"), msg)
	case hasError:
		return p.upstreamError(b)
	}
	return nil
}

// upstreamError is the error of an answer or stream event holding an
// error object: the upstream failed, and says why.
func (p *Provider) upstreamError(b []byte) error {
	m, status := decodeErrorMessage(b)
	return &llm.Error{Kind: llm.KindUpstream, Provider: p.name, UpstreamStatus: http.StatusOK,
		Message: p.up.Sanitize(m), Err: fmt.Errorf("gemini: upstream error in a 200 answer (status %q)", llm.Clip(status))}
}
