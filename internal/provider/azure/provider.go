package azure

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/provider"
	"github.com/llmgw/llmgw/internal/provider/openai"
)

// Type is the provider type served by this package.
const Type = "azure_openai"

// DefaultAPIVersion is the api-version sent to the deployments surface when
// none is configured: the latest generally available version of Azure
// OpenAI's data plane inference API dated versions.
const DefaultAPIVersion = "2024-10-21"

// APIVersionV1 is the api_version that selects the v1 surface,
// {endpoint}/openai/v1/..., which takes no api-version parameter and the
// deployment as the body's model.
const APIVersionV1 = "v1"

// Config configures a Provider.
type Config struct {
	// Name is the provider's configured name.
	Name string
	// BaseURL is the resource endpoint, such as
	// https://my-resource.openai.azure.com, without /openai.
	BaseURL string
	// APIVersion is the api-version query parameter of the deployments
	// surface; "" is DefaultAPIVersion, and APIVersionV1 selects the v1
	// surface instead.
	APIVersion string
	// APIKey is sent in the api-key header. Exactly one of APIKey and
	// Entra is set.
	APIKey string
	// Entra, when set, authenticates with Microsoft Entra ID tokens
	// obtained with the client credentials flow.
	Entra *Entra
	// Headers are extra static headers sent with every request.
	Headers map[string]string
	// HTTPClient is the upstream client, also used to reach the token
	// endpoint; nil means provider.NewHTTPClient with default options.
	HTTPClient *http.Client
	// StreamIdleTimeout is the longest wait between two stream events
	// before the stream is aborted; 0 means no limit.
	StreamIdleTimeout time.Duration
}

// Provider is an Azure OpenAI resource. It implements provider.Provider,
// provider.Embedder and provider.Forwarder; not provider.ModelLister, since
// what a request names is a deployment, which no data plane list reports.
type Provider struct {
	// oa is the OpenAI adapter doing the work; a named field, not an
	// embedded one, so that its ListModels is not offered.
	oa     *openai.Provider
	models string           // the model list's URL (check.go)
	tokens *provider.Tokens // nil with an API key
	entra  *entraSource     // nil with an API key
}

var (
	_ provider.Provider  = (*Provider)(nil)
	_ provider.Embedder  = (*Provider)(nil)
	_ provider.Forwarder = (*Provider)(nil)
)

// New returns a Provider for c.
func New(c Config) (*Provider, error) {
	if c.Name == "" {
		return nil, errors.New("azure: provider name is empty")
	}
	base, err := provider.ParseBaseURL(c.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("azure: provider %s: %w", c.Name, err)
	}
	if (c.APIKey == "") == (c.Entra == nil) {
		return nil, fmt.Errorf("azure: provider %s: set exactly one of an API key and Entra credentials", c.Name)
	}
	version := c.APIVersion
	if version == "" {
		version = DefaultAPIVersion
	}
	headers := make(map[string]string, len(c.Headers)+1)
	for k, v := range c.Headers {
		headers[k] = v
	}
	oc := openai.Config{
		Name: c.Name, Type: openai.TypeOpenAICompatible, BaseURL: base,
		HTTPClient: c.HTTPClient, StreamIdleTimeout: c.StreamIdleTimeout,
		URL: urlFunc(base, version),
	}
	p := &Provider{models: modelsURL(base, version)}
	if c.APIKey != "" {
		headers["api-key"] = c.APIKey
	} else {
		es, err := newEntraSource(c.Entra, c.HTTPClient)
		if err != nil {
			return nil, fmt.Errorf("azure: provider %s: %w", c.Name, err)
		}
		p.entra = es
		// The SDK's message quotes the token endpoint's answer: kept for
		// the logs with the client secret redacted.
		p.tokens = provider.NewTokens(provider.TokensConfig{
			Name: c.Name, Fetch: func(ctx context.Context) (provider.Token, error) { return p.entra.fetch(ctx) },
			Failure: "could not obtain a Microsoft Entra token for the upstream", Cause: "entra",
			Sanitize: func(s string) string { return p.oa.Sanitize(s) },
		})
		oc.RequestHeader = p.tokens.Header
		oc.Secrets = []string{c.Entra.ClientSecret}
	}
	oc.Headers = headers
	op, err := openai.New(oc)
	if err != nil {
		return nil, fmt.Errorf("azure: %w", err)
	}
	p.oa = op
	return p, nil
}

// Name implements provider.Provider.
func (p *Provider) Name() string { return p.oa.Name() }

// Protocol implements provider.Forwarder: Azure OpenAI speaks OpenAI's.
func (p *Provider) Protocol() string { return p.oa.Protocol() }

// Sanitize returns msg with the provider's credentials and configured
// header values redacted, as in the errors it returns: for the logs.
func (p *Provider) Sanitize(msg string) string {
	msg = p.oa.Sanitize(msg)
	if p.tokens != nil {
		if tok := p.tokens.Current(); tok != "" {
			msg = provider.Sanitize(msg, tok)
		}
	}
	return msg
}

// urlFunc returns the URL of an operation for a deployment. On the
// deployments surface the deployment is a path segment, escaped, so that no
// model name reaches another path or host; on the v1 surface the path is
// fixed and the deployment goes as the body's model.
func urlFunc(base, version string) func(op, model string) string {
	if version == APIVersionV1 {
		prefix := base + "/openai/v1"
		return func(op, _ string) string { return prefix + op }
	}
	prefix := base + "/openai/deployments/"
	query := "?api-version=" + url.QueryEscape(version)
	return func(op, model string) string {
		return prefix + url.PathEscape(model) + op + query
	}
}

// Chat implements provider.Provider.
func (p *Provider) Chat(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error) {
	if err := p.authorize(ctx); err != nil {
		return nil, err
	}
	s, err := p.oa.Chat(ctx, req)
	if err != nil {
		return nil, p.scrub(err)
	}
	if req.Stream {
		s = &filterStream{Stream: s}
	}
	return s, nil
}

// ForwardsProtocol implements provider.EndpointForwarder: Azure OpenAI
// serves the other endpoints of OpenAI's API that its OpenAI adapter
// forwards (legacy completions: .../completions beside .../chat/completions).
func (p *Provider) ForwardsProtocol(pr string) bool { return p.oa.ForwardsProtocol(pr) }

// Forward implements provider.Forwarder.
func (p *Provider) Forward(ctx context.Context, f *provider.Forward) (llm.Stream, error) {
	if err := p.authorize(ctx); err != nil {
		return nil, err
	}
	s, err := p.oa.Forward(ctx, f)
	if err != nil {
		return nil, p.scrub(err)
	}
	if f.Stream {
		s = &filterStream{Stream: s}
	}
	return s, nil
}

// Embed implements provider.Embedder.
func (p *Provider) Embed(ctx context.Context, req *llm.EmbedRequest) (*llm.EmbedResponse, error) {
	if err := p.authorize(ctx); err != nil {
		return nil, err
	}
	r, err := p.oa.Embed(ctx, req)
	return r, p.scrub(err)
}

// authorize makes sure a token is at hand when Entra authenticates: it
// waits only when there is no valid token (the first request, or after
// the token endpoint failed for longer than a token lives).
func (p *Provider) authorize(ctx context.Context) error {
	if p.tokens == nil {
		return nil
	}
	return p.tokens.Ready(ctx)
}

// scrub removes the current bearer token from an error's public message,
// in case an upstream echoed the request's headers into its error.
func (p *Provider) scrub(err error) error {
	if p.tokens == nil {
		return err
	}
	return p.tokens.Scrub(err)
}
