package openai

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/tidwall/sjson"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
	protocol "github.com/llmgw/llmgw/internal/protocol/openai"
	"github.com/llmgw/llmgw/internal/protocol/responses"
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

	// The fields below let an upstream that speaks OpenAI's wire format
	// behind another URL scheme and another authentication reuse the
	// adapter (Azure OpenAI, internal/provider/azure); an OpenAI provider
	// leaves them unset.

	// URL, when set, returns the URL of an operation for an upstream
	// model, in place of BaseURL plus the operation's path: op is
	// "/chat/completions" or "/embeddings", model the request's model. It
	// must build the URL from configuration and escape model, so that
	// nothing in a request chooses the host.
	URL func(op, model string) string
	// RequestHeader, when set, returns headers set on each request over
	// the static ones, such as a bearer token that is refreshed
	// (provider.UpstreamConfig.RequestHeader).
	RequestHeader func(ctx context.Context) http.Header
	// Secrets are more credentials redacted from what the upstream sends
	// back, with APIKey and the header values.
	Secrets []string
}

// Provider is an upstream speaking the OpenAI API. It implements
// provider.Provider, provider.Embedder and provider.Forwarder.
type Provider struct {
	name     string
	base     string // the API root, BaseURL
	chatURL  string
	embedURL string
	// responsesURL is BaseURL + "/responses" for type openai, whose
	// Responses bodies Forward takes (responses.go); empty for the others.
	responsesURL string
	// url, when set, replaces chatURL and embedURL (Config.URL).
	url func(op, model string) string
	up  *provider.Upstream
	// completionTokens: send the output cap as max_completion_tokens, the
	// only form OpenAI's reasoning models accept; other OpenAI-compatible
	// servers may know only max_tokens.
	completionTokens bool
}

var (
	_ provider.Provider  = (*Provider)(nil)
	_ provider.Embedder  = (*Provider)(nil)
	_ provider.Forwarder = (*Provider)(nil)

	_ provider.EndpointForwarder = (*Provider)(nil)
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
	base, err := provider.ParseBaseURL(c.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("openai: provider %s: %w", c.Name, err)
	}
	header, secrets := provider.StaticHeader(c.Headers)
	if c.APIKey != "" {
		header.Set("Authorization", "Bearer "+c.APIKey)
		secrets = append(secrets, c.APIKey)
	}
	secrets = append(secrets, c.Secrets...)
	p := &Provider{
		name:     c.Name,
		base:     base,
		chatURL:  base + "/chat/completions",
		embedURL: base + "/embeddings",
		url:      c.URL,
		up: provider.NewUpstream(provider.UpstreamConfig{
			Name: c.Name, Client: c.HTTPClient, Header: header, Secrets: secrets,
			ParseError:       protocol.DecodeErrorMessage,
			ParseErrorFields: protocol.DecodeErrorFields, Protocol: protocol.Protocol, StreamIdleTimeout: c.StreamIdleTimeout,
			RequestHeader: c.RequestHeader,
		}),
		completionTokens: c.Type == TypeOpenAI,
	}
	if c.Type == TypeOpenAI && c.URL == nil {
		p.responsesURL = base + "/responses"
	}
	return p, nil
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
	if p.completionTokens && req.MaxTokens != nil && req.MaxCompletionTokens == nil {
		r := *req
		r.MaxCompletionTokens, r.MaxTokens = req.MaxTokens, nil
		req = &r
	}
	// Extended thinking asked of an OpenAI reasoning model becomes its
	// reasoning_effort; any other model would refuse the field, and other
	// OpenAI-compatible servers differ in what they take.
	reasoning := p.completionTokens && protocol.ReasoningModel(req.Model)
	if reasoning && req.ReasoningEffort == "" {
		if effort := protocol.ReasoningEffortFor(req.Thinking); effort != "" {
			r := *req
			r.ReasoningEffort = effort
			req = &r
		}
	}
	// Fields of another protocol with no equivalent here (thinking toward
	// a model without reasoning, among them) are refused or left out, and
	// the ones left out reported to the attempt.
	rep := llm.ParamReportFrom(ctx)
	dropped, err := protocol.CheckParams(req, reasoning, rep.Refuse())
	if err != nil {
		return nil, err
	}
	rep.Drop(dropped...)
	body, err := protocol.EncodeChatRequest(req)
	if err != nil {
		return nil, err
	}
	chatURL := p.chatURLFor(req.Model)
	if req.Stream {
		return p.openStream(ctx, chatURL, body, false)
	}
	b, err := p.up.PostRead(ctx, chatURL, body, maxResponseBody)
	if err != nil {
		return nil, err
	}
	if err := p.checkAnswer(b, "choices", malformedChat); err != nil {
		return nil, err
	}
	c, err := protocol.DecodeChatResponse(b)
	if err != nil {
		return nil, p.decodeError(err, malformedChat)
	}
	return provider.NewUnary(c), nil
}

// ForwardsProtocol implements provider.EndpointForwarder: the other
// endpoints of OpenAI's API whose bodies Forward takes.
func (p *Provider) ForwardsProtocol(pr string) bool {
	switch pr {
	case protocol.CompletionsProtocol:
		return true
	case responses.Protocol:
		// Only an upstream of type openai serves the Responses API
		// (responses.go).
		return p.responsesURL != ""
	}
	return false
}

// Forward implements provider.Forwarder and provider.EndpointForwarder.
func (p *Provider) Forward(ctx context.Context, f *provider.Forward) (llm.Stream, error) {
	switch {
	case f.Protocol == protocol.CompletionsProtocol:
		return p.forwardCompletions(ctx, f)
	case f.Protocol == responses.Protocol && p.responsesURL != "":
		return p.forwardResponses(ctx, f)
	}
	body, err := forwardBody(f)
	if err != nil {
		return nil, llm.Wrap(llm.KindInvalidRequest, err, "the request body is not a JSON object")
	}
	chatURL := p.chatURLFor(f.Model)
	if f.Stream {
		return p.openStream(ctx, chatURL, body, true)
	}
	b, err := p.up.PostRead(ctx, chatURL, body, maxResponseBody)
	if err != nil {
		return nil, err
	}
	// The body goes to the client as it came: it must be a chat
	// completion, not an error, an event stream or junk passed off as one.
	if err := p.checkAnswer(b, "choices", malformedChat); err != nil {
		return nil, err
	}
	c := &llm.Chunk{Raw: b, RawProtocol: protocol.Protocol}
	if u, ok := protocol.ScanUsage(b); ok {
		c.Usage = &u
	}
	return provider.NewUnary(c), nil
}

// chatURLFor returns the chat completions URL for an upstream model.
func (p *Provider) chatURLFor(model string) string {
	if p.url != nil {
		return p.url("/chat/completions", model)
	}
	return p.chatURL
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
	embedURL := p.embedURL
	if p.url != nil {
		embedURL = p.url("/embeddings", req.Model)
	}
	b, err := p.up.PostRead(ctx, embedURL, body, maxEmbedBody)
	if err != nil {
		return nil, err
	}
	if err := p.checkAnswer(b, "data", malformedEmbed); err != nil {
		return nil, err
	}
	r, err := protocol.DecodeEmbedResponse(b)
	if err != nil {
		return nil, p.decodeError(err, malformedEmbed)
	}
	r.Raw, r.RawProtocol = b, protocol.Protocol
	return r, nil
}

// Public messages of answers that are not what the API promises.
const (
	malformedChat  = "the upstream sent a malformed response"
	malformedEmbed = "the upstream sent a malformed embeddings response"
)

// checkAnswer checks that b, the body of a 200 answer, is one JSON object
// (see jsonwire.CheckAnswer) with an array member named list, the answer's
// "choices" or "data", and no "error" member. An error object is the
// upstream's error, returned as such with its message sanitized, whatever
// status it came with: some servers and proxies answer 200 with one. Any
// other fault is a KindUpstream error with the public message msg. It reads
// b once and allocates nothing when b is sound.
func (p *Provider) checkAnswer(b []byte, list, msg string) error {
	var hasList, hasError bool
	err := jsonwire.CheckAnswer(b, func(name []byte, value int) {
		switch string(name) {
		case list:
			hasList = b[value] == '['
		case "error":
			hasError = b[value] == '{' || b[value] == '"'
		}
	})
	switch {
	case err != nil:
		return p.up.Malformed(err, msg)
	case hasError:
		return p.errorObject(b)
	case !hasList:
		return p.up.Malformed(fmt.Errorf("openai: answer is not an object with a %q array", list), msg)
	}
	return nil
}

// errorObject is the error of a 200 body that holds an error object. Its
// message, sanitized, is relayed as that of an error event in a stream is.
func (p *Provider) errorObject(b []byte) error {
	msg, code := protocol.DecodeErrorMessage(b)
	return &llm.Error{Kind: llm.KindUpstream, Provider: p.name, UpstreamStatus: http.StatusOK,
		Message: p.up.Sanitize(msg), Err: fmt.Errorf("openai: upstream error object in a 200 answer (code %q)", code)}
}

// readAll is provider.ReadAll.
var readAll = provider.ReadAll

// decodeError wraps a failure to decode an upstream answer. An error the
// upstream reported in a 200 body is returned as such, its message
// sanitized like that of an error status.
func (p *Provider) decodeError(err error, msg string) error {
	return p.up.DecodeError(err, msg, func(k llm.Kind) bool { return k == llm.KindUpstream })
}
