package cohere

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
	protocol "github.com/llmgw/llmgw/internal/protocol/openai"
	"github.com/llmgw/llmgw/internal/provider"
)

// Type is the provider type served by this adapter.
const Type = "cohere"

// DefaultBaseURL is Cohere's API root, as its SDKs take it.
const DefaultBaseURL = "https://api.cohere.com"

const (
	// maxResponseBody caps a non-streamed chat body.
	maxResponseBody = 32 << 20
	// maxEmbedBody caps an embed body.
	maxEmbedBody = 128 << 20
	// maxEmbedTexts is the most texts Cohere embeds in one call.
	maxEmbedTexts = 96
)

// DefaultInputType is the input_type of an embed request whose client
// named none: Cohere requires one, and OpenAI's protocol has no such field.
// Embeddings for queries are asked for with "input_type":"search_query" in
// the request body.
const DefaultInputType = "search_document"

// Config configures a Provider.
type Config struct {
	// Name is the provider's configured name.
	Name string
	// BaseURL is the API root, DefaultBaseURL when empty; requests go to
	// BaseURL + "/v2/chat" and BaseURL + "/v2/embed".
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

// Provider is an upstream speaking Cohere's v2 API. It implements
// provider.Provider and provider.Embedder; no client speaks Cohere's
// protocol to the gateway, so it is no provider.Forwarder.
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
		Headers: c.Headers, HTTPClient: c.HTTPClient, StreamIdleTimeout: c.StreamIdleTimeout}, provider.UpstreamConfig{ParseError: decodeErrorMessage})
	if err != nil {
		return nil, err
	}
	return &Provider{name: c.Name, chatURL: base + "/v2/chat", embedURL: base + "/v2/embed", up: up}, nil
}

// Name implements provider.Provider.
func (p *Provider) Name() string { return p.name }

// Sanitize returns msg with the provider's credentials and configured
// header values redacted, as in the errors it returns: for the logs.
func (p *Provider) Sanitize(msg string) string { return p.up.Sanitize(msg) }

// Chat implements provider.Provider.
func (p *Provider) Chat(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error) {
	rep := llm.ParamReportFrom(ctx)
	// Fields of an Anthropic request with no equivalent in OpenAI's
	// protocol have none in Cohere's either.
	dropped, err := protocol.CheckParams(req, false, rep.Refuse())
	if err != nil {
		return nil, err
	}
	body, more, err := encode(req, rep.Refuse())
	if err != nil {
		return nil, err
	}
	rep.Drop(append(dropped, more...)...)
	if req.Stream {
		s := &stream{p: p, model: req.Model, stops: req.Stop}
		if err := s.Open(ctx, p.up, p.chatURL, body); err != nil {
			return nil, err
		}
		return s, nil
	}
	b, err := p.up.PostRead(ctx, p.chatURL, body, maxResponseBody)
	if err != nil {
		return nil, err
	}
	if err := p.checkAnswer(b, "message", '{', malformedChat); err != nil {
		return nil, err
	}
	c, err := decodeResponse(b, req.Model, req.Stop)
	if err != nil {
		return nil, p.decodeError(err, malformedChat)
	}
	return provider.NewUnary(c), nil
}

// Public messages of answers that are not what the API promises.
const (
	malformedChat   = "the upstream sent a malformed response"
	malformedEmbed  = "the upstream sent a malformed embeddings response"
	malformedStream = "the upstream sent a malformed stream event"
)

// checkAnswer checks that b, the body of a 200 answer, is one JSON object
// with a member named member of the kind open ('{' or '[') and no error:
// a body holding only a message is Cohere's error shape, returned as the
// upstream's error, its message sanitized.
func (p *Provider) checkAnswer(b []byte, member string, open byte, msg string) error {
	var has, hasMessage bool
	err := jsonwire.CheckAnswer(b, func(name []byte, value int) {
		// A chat answer's message is an object, an error's a string.
		if string(name) == member {
			has = b[value] == open
		}
		if string(name) == "message" {
			hasMessage = b[value] == '"'
		}
	})
	switch {
	case err != nil:
		return p.up.Malformed(err, msg)
	case !has && hasMessage:
		m, _ := decodeErrorMessage(b)
		return &llm.Error{Kind: llm.KindUpstream, Provider: p.name, UpstreamStatus: http.StatusOK,
			Message: p.up.Sanitize(m), Err: errors.New("cohere: upstream error object in a 200 answer")}
	case !has:
		return p.up.Malformed(fmt.Errorf("cohere: answer is not an object with a %q member", member), msg)
	}
	return nil
}

// decodeError wraps a failure to decode an upstream answer; an error the
// upstream reported (a finish reason ERROR or TIMEOUT) is returned as such.
func (p *Provider) decodeError(err error, msg string) error {
	return p.up.DecodeError(err, msg, func(k llm.Kind) bool {
		return k == llm.KindUpstream || k == llm.KindUpstreamTimeout
	})
}

// wireEmbedRequest is Cohere's V2EmbedRequest.
type wireEmbedRequest struct {
	Model           string          `json:"model"`
	Texts           []string        `json:"texts"`
	InputType       json.RawMessage `json:"input_type"`
	EmbeddingTypes  []string        `json:"embedding_types"`
	OutputDimension *int            `json:"output_dimension,omitempty"`
	Truncate        json.RawMessage `json:"truncate,omitempty"`
}

// Embed implements provider.Embedder over POST /v2/embed. The input is
// texts (a string or strings; token ids have no equivalent); input_type is
// the client's "input_type" member, DefaultInputType when absent, and
// "truncate" passes too; dimensions is output_dimension; the encoding
// format picks the embedding type, float or base64; user is left out.
func (p *Provider) Embed(ctx context.Context, req *llm.EmbedRequest) (*llm.EmbedResponse, error) {
	rep := llm.ParamReportFrom(ctx)
	w := wireEmbedRequest{Model: req.Model, OutputDimension: req.Dimensions,
		InputType: json.RawMessage(`"` + DefaultInputType + `"`), EmbeddingTypes: []string{"float"}}
	in := gjson.ParseBytes(req.Input)
	switch {
	case in.Type == gjson.String:
		w.Texts = []string{in.Str}
	case in.IsArray():
		for _, t := range in.Array() {
			if t.Type != gjson.String {
				return nil, llm.InvalidRequest("input", "input: the upstream of this model embeds text only, not token ids")
			}
			w.Texts = append(w.Texts, t.Str)
		}
	}
	if len(w.Texts) == 0 || len(w.Texts) > maxEmbedTexts {
		return nil, llm.InvalidRequest("input", "input: the upstream of this model embeds 1 to %d texts per call", maxEmbedTexts)
	}
	switch req.EncodingFormat {
	case "", "float":
	case "base64":
		w.EmbeddingTypes = []string{"base64"}
	default:
		return nil, llm.InvalidRequest("encoding_format", "encoding_format: %q has no equivalent at the upstream of this model", llm.Clip(req.EncodingFormat))
	}
	if t, ok := req.Extra["input_type"]; ok {
		w.InputType = t
	}
	if t, ok := req.Extra["truncate"]; ok {
		w.Truncate = t
	}
	if req.User != "" {
		if rep.Refuse() {
			return nil, llm.InvalidRequest("user", "user: the upstream of this model has no equivalent for this field")
		}
		rep.Drop("user")
	}
	body, err := json.Marshal(&w)
	if err != nil {
		return nil, llm.Wrap(llm.KindInvalidRequest, err, "the request cannot be encoded for the upstream")
	}
	b, err := p.up.PostRead(ctx, p.embedURL, body, maxEmbedBody)
	if err != nil {
		return nil, err
	}
	if err := p.checkAnswer(b, "embeddings", '{', malformedEmbed); err != nil {
		return nil, err
	}
	vecs := gjson.GetBytes(b, "embeddings."+w.EmbeddingTypes[0])
	if !vecs.IsArray() || len(vecs.Array()) != len(w.Texts) {
		return nil, p.up.Malformed(fmt.Errorf("cohere: embeddings.%s does not hold %d vectors", w.EmbeddingTypes[0], len(w.Texts)), malformedEmbed)
	}
	out := &llm.EmbedResponse{Model: req.Model}
	for i, v := range vecs.Array() {
		out.Data = append(out.Data, llm.Embedding{Index: i, Embedding: json.RawMessage(v.Raw)})
	}
	n := int(gjson.GetBytes(b, "meta.billed_units.input_tokens").Int())
	out.Usage = llm.Usage{PromptTokens: n, TotalTokens: n}
	return out, nil
}
