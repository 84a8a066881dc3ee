package vertex

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/tidwall/sjson"

	"github.com/llmgw/llmgw/internal/llm"
	protocol "github.com/llmgw/llmgw/internal/protocol/anthropic"
	"github.com/llmgw/llmgw/internal/provider"
	"github.com/llmgw/llmgw/internal/provider/anthropic"
	"github.com/llmgw/llmgw/internal/provider/gemini"
)

// Type is the provider type served by this package.
const Type = "vertex"

// AnthropicVersion is the anthropic_version a Claude request on Vertex AI
// carries in its body, in place of Anthropic's anthropic-version header.
const AnthropicVersion = "vertex-2023-10-16"

// DefaultLocation is the location used when none is configured, as the
// Google Gen AI SDK does.
const DefaultLocation = "global"

// Config configures a Provider.
type Config struct {
	// Name is the provider's configured name.
	Name string
	// Project is the Google Cloud project id. Required.
	Project string
	// Location is the region ("us-central1"), multi-region ("us", "eu")
	// or "global"; DefaultLocation when empty.
	Location string
	// Credentials is a credentials file's JSON, a service account key or
	// gcloud's user credentials; empty: Application Default Credentials.
	Credentials []byte
	// BaseURL, when set, replaces https://{host} of the location (a
	// Private Service Connect endpoint); requests go to BaseURL +
	// "/v1/projects/...".
	BaseURL string
	// Headers are extra static headers sent with every request.
	Headers map[string]string
	// HTTPClient is the upstream client, also used to reach the token
	// endpoint; nil means provider.NewHTTPClient with default options.
	HTTPClient *http.Client
	// StreamIdleTimeout is the longest wait between two stream events
	// before the stream is aborted; 0 means no limit.
	StreamIdleTimeout time.Duration
}

// Provider is a Google Cloud project's Vertex AI in one location. It
// implements provider.Provider, provider.Embedder, provider.Forwarder
// (for Claude models: see ForwardsModel) and provider.TokenCounter.
type Provider struct {
	name   string
	tokens *provider.Tokens
	google *gemini.Provider    // publishers/google/models/{model}
	tuned  *gemini.Provider    // endpoints/{id}
	claude *anthropic.Provider // publishers/anthropic/models/{model}
}

var (
	_ provider.Provider       = (*Provider)(nil)
	_ provider.Embedder       = (*Provider)(nil)
	_ provider.ModelForwarder = (*Provider)(nil)
	_ provider.TokenCounter   = (*Provider)(nil)
)

var (
	// validLocation: a location is part of the host name.
	validLocation = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)
	// validProject: project ids, domain-scoped ones included
	// ("example.com:my-project").
	validProject = regexp.MustCompile(`^[a-z0-9][a-z0-9.:-]{0,126}$`)
)

// Host returns the API host of location: aiplatform.googleapis.com for
// global, aiplatform.{us,eu}.rep.googleapis.com for the multi-regions and
// {location}-aiplatform.googleapis.com for a region.
func Host(location string) string {
	switch location {
	case "global":
		return "aiplatform.googleapis.com"
	case "us", "eu":
		return "aiplatform." + location + ".rep.googleapis.com"
	}
	return location + "-aiplatform.googleapis.com"
}

// ValidProject reports whether s can be a project id.
func ValidProject(s string) bool { return validProject.MatchString(s) }

// ValidLocation reports whether s can be a location.
func ValidLocation(s string) bool { return validLocation.MatchString(s) }

// New returns a Provider for c. It holds no token yet: the first request
// waits for one.
func New(c Config) (*Provider, error) {
	if c.Name == "" {
		return nil, errors.New("vertex: provider name is empty")
	}
	if c.Location == "" {
		c.Location = DefaultLocation
	}
	if !ValidProject(c.Project) || !ValidLocation(c.Location) {
		return nil, fmt.Errorf("vertex: provider %s: invalid project or location", c.Name)
	}
	base := "https://" + Host(c.Location)
	if c.BaseURL != "" {
		b, err := provider.ParseBaseURL(c.BaseURL)
		if err != nil {
			return nil, fmt.Errorf("vertex: provider %s: %w", c.Name, err)
		}
		base = b
	}
	if c.HTTPClient == nil {
		c.HTTPClient = provider.NewHTTPClient(provider.ClientOptions{})
	}
	src, err := newGoogleSource(c.Credentials, c.HTTPClient)
	if err != nil {
		return nil, fmt.Errorf("vertex: provider %s: %w", c.Name, err)
	}
	p := &Provider{name: c.Name}
	p.tokens = provider.NewTokens(provider.TokensConfig{
		Name: c.Name, Fetch: src.fetch, Cause: "google",
		Failure: "could not obtain a Google Cloud access token for the upstream",
	})
	root := base + "/v1/projects/" + url.PathEscape(c.Project) + "/locations/" + url.PathEscape(c.Location)
	gc := gemini.Config{Name: c.Name, BaseURL: base, Headers: c.Headers, HTTPClient: c.HTTPClient,
		StreamIdleTimeout: c.StreamIdleTimeout, RequestHeader: p.tokens.Header, PredictEmbeddings: true}
	gc.ModelsURL = root + "/publishers/google/models"
	if p.google, err = gemini.New(gc); err != nil {
		return nil, fmt.Errorf("vertex: %w", err)
	}
	gc.ModelsURL = root + "/endpoints"
	if p.tuned, err = gemini.New(gc); err != nil {
		return nil, fmt.Errorf("vertex: %w", err)
	}
	claude := root + "/publishers/anthropic/models/"
	p.claude, err = anthropic.New(anthropic.Config{Name: c.Name, BaseURL: base, Headers: c.Headers,
		HTTPClient: c.HTTPClient, StreamIdleTimeout: c.StreamIdleTimeout, RequestHeader: p.tokens.Header,
		URL: func(model string, op anthropic.Op) string {
			switch op {
			case anthropic.OpStream:
				return claude + url.PathEscape(model) + ":streamRawPredict"
			case anthropic.OpCount:
				return claude + "count-tokens:rawPredict"
			}
			return claude + url.PathEscape(model) + ":rawPredict"
		},
		Body: claudeBody,
	})
	if err != nil {
		return nil, fmt.Errorf("vertex: %w", err)
	}
	return p, nil
}

// claudeBody makes a Messages request body Vertex AI's: anthropic_version
// set to AnthropicVersion and, but in a token count, no model (the URL
// names it).
func claudeBody(body []byte, op anthropic.Op) ([]byte, error) {
	body, err := sjson.SetBytes(body, "anthropic_version", AnthropicVersion)
	if err != nil || op == anthropic.OpCount {
		return body, err
	}
	return sjson.DeleteBytes(body, "model")
}

// publisher of the models the adapter routes.
type publisher int

const (
	publisherGoogle publisher = iota
	publisherTuned
	publisherAnthropic
)

// route returns the publisher serving model and the model id to send: a
// model whose id starts with "claude" is Anthropic's (Vertex AI's Claude
// ids, such as claude-sonnet-4@20250514); "endpoints/{id}" is a tuned
// model's endpoint, sent as {id}; any other id is Google's.
func route(model string) (publisher, string) {
	if id, ok := strings.CutPrefix(model, "endpoints/"); ok {
		return publisherTuned, id
	}
	if strings.HasPrefix(model, "claude") {
		return publisherAnthropic, model
	}
	return publisherGoogle, model
}

// Name implements provider.Provider.
func (p *Provider) Name() string { return p.name }

// Sanitize returns msg with the provider's configured header values and
// current access token redacted, as in the errors it returns: for the
// logs.
func (p *Provider) Sanitize(msg string) string {
	msg = p.google.Sanitize(msg)
	if tok := p.tokens.Current(); tok != "" {
		msg = provider.Sanitize(msg, tok)
	}
	return msg
}

// Chat implements provider.Provider.
func (p *Provider) Chat(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error) {
	if err := p.tokens.Ready(ctx); err != nil {
		return nil, err
	}
	pub, model := route(req.Model)
	var s llm.Stream
	var err error
	switch pub {
	case publisherAnthropic:
		s, err = p.claude.Chat(ctx, req)
	case publisherTuned:
		up := *req
		up.Model = model
		s, err = p.tuned.Chat(ctx, &up)
	default:
		s, err = p.google.Chat(ctx, req)
	}
	return s, p.tokens.Scrub(err)
}

// Protocol implements provider.Forwarder: the Claude models speak
// Anthropic's Messages API.
func (p *Provider) Protocol() string { return protocol.Protocol }

// ForwardsModel implements provider.ModelForwarder: only Claude models
// take an Anthropic client's body.
func (p *Provider) ForwardsModel(model string) bool {
	pub, _ := route(model)
	return pub == publisherAnthropic
}

// Forward implements provider.Forwarder for Claude models: the client's
// body goes with the model removed and anthropic_version set.
func (p *Provider) Forward(ctx context.Context, f *provider.Forward) (llm.Stream, error) {
	if !p.ForwardsModel(f.Model) {
		return nil, llm.NewError(llm.KindInternal, "vertex: model %q is not served in Anthropic's protocol", llm.Clip(f.Model))
	}
	if err := p.tokens.Ready(ctx); err != nil {
		return nil, err
	}
	s, err := p.claude.Forward(ctx, f)
	return s, p.tokens.Scrub(err)
}

// Embed implements provider.Embedder with Google's text embedding models
// (see gemini.Config.PredictEmbeddings).
func (p *Provider) Embed(ctx context.Context, req *llm.EmbedRequest) (*llm.EmbedResponse, error) {
	pub, model := route(req.Model)
	if pub == publisherAnthropic {
		return nil, llm.InvalidRequest("model", "model %q does not support embeddings", llm.Clip(req.Model))
	}
	if err := p.tokens.Ready(ctx); err != nil {
		return nil, err
	}
	var r *llm.EmbedResponse
	var err error
	if pub == publisherTuned {
		up := *req
		up.Model = model
		r, err = p.tuned.Embed(ctx, &up)
	} else {
		r, err = p.google.Embed(ctx, req)
	}
	return r, p.tokens.Scrub(err)
}

// CountTokens implements provider.TokenCounter: Claude models count with
// count-tokens:rawPredict; for the others the count is the gateway's
// estimate.
func (p *Provider) CountTokens(ctx context.Context, req *llm.ChatRequest) (int, error) {
	if !p.ForwardsModel(req.Model) {
		return protocol.EstimateTokens(req), nil
	}
	if err := p.tokens.Ready(ctx); err != nil {
		return 0, err
	}
	n, err := p.claude.CountTokens(ctx, req)
	return n, p.tokens.Scrub(err)
}
