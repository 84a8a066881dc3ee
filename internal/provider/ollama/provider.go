package ollama

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
	"github.com/llmgw/llmgw/internal/provider"
)

// Type is the provider type served by this adapter.
const Type = "ollama"

// DefaultBaseURL is where a local Ollama server listens.
const DefaultBaseURL = "http://127.0.0.1:11434"

const (
	// maxResponseBody caps a non-streamed chat answer.
	maxResponseBody = 32 << 20
	// maxEmbedBody caps an embeddings answer.
	maxEmbedBody = 128 << 20
	// maxLine caps one line of a stream: a line holds one token, or whole
	// tool calls.
	maxLine = 4 << 20
)

// Config configures a Provider.
type Config struct {
	// Name is the provider's configured name.
	Name string
	// BaseURL is the server's root, DefaultBaseURL when empty; requests go
	// to BaseURL + "/api/chat" and BaseURL + "/api/embed".
	BaseURL string
	// APIKey, when set, is sent as a bearer token (Ollama behind a proxy
	// that checks one); Ollama itself takes none.
	APIKey string
	// Headers are extra static headers sent with every request.
	Headers map[string]string
	// HTTPClient is the upstream client; nil means provider.NewHTTPClient
	// with default options.
	HTTPClient *http.Client
	// StreamIdleTimeout is the longest wait between two stream lines before
	// the stream is aborted; 0 means no limit.
	StreamIdleTimeout time.Duration
}

// Provider is an upstream speaking Ollama's native API. It implements
// provider.Provider and provider.Embedder.
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
	return &Provider{name: c.Name, chatURL: base + "/api/chat", embedURL: base + "/api/embed", up: up}, nil
}

// Name implements provider.Provider.
func (p *Provider) Name() string { return p.name }

// Sanitize returns msg with the provider's credentials and configured
// header values redacted, as in the errors it returns: for the logs.
func (p *Provider) Sanitize(msg string) string { return p.up.Sanitize(msg) }

// Chat implements provider.Provider.
func (p *Provider) Chat(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error) {
	rep := llm.ParamReportFrom(ctx)
	mode := thinkAsAsked
	body, dropped, err := encodeChat(req, rep.Refuse(), mode)
	if err != nil {
		return nil, err
	}
	rep.Drop(dropped...)
	s, b, err := p.post(ctx, req, body)
	for range 2 {
		// A model that thinks without levels refuses a level: it goes
		// again with think true. A model that does not think refuses
		// think: it goes again without, which is reported as dropped,
		// as it is toward any other upstream's model without
		// reasoning.
		next := thinkRetry(err, mode)
		if next == mode || (next == thinkOff && rep.Refuse()) {
			break
		}
		mode = next
		if body, _, err = encodeChat(req, false, mode); err != nil {
			return nil, err
		}
		if mode == thinkOff {
			rep.Drop(thinkField(req))
		}
		s, b, err = p.post(ctx, req, body)
	}
	switch {
	case err != nil:
		return nil, err
	case s != nil:
		return s, nil
	}
	if err := p.checkAnswer(b, "message", malformedChat); err != nil {
		return nil, err
	}
	var w wireResponse
	if err := decodeLine(b, &w); err != nil {
		return nil, p.up.Malformed(err, malformedChat)
	}
	if !w.Done {
		return nil, p.up.Malformed(errors.New("ollama: answer not done"), malformedChat)
	}
	c, err := p.unary(&w)
	if err != nil {
		return nil, err
	}
	return provider.NewUnary(c), nil
}

// post sends a chat request: the stream when req asks for one, otherwise
// the answer's body.
func (p *Provider) post(ctx context.Context, req *llm.ChatRequest, body []byte) (*stream, []byte, error) {
	if req.Stream {
		s := &stream{p: p}
		if err := s.OpenNDJSON(ctx, p.up, p.chatURL, body, maxLine); err != nil {
			return nil, nil, err
		}
		return s, nil, nil
	}
	b, err := p.up.PostRead(ctx, p.chatURL, body, maxResponseBody)
	return nil, b, err
}

// thinkRetry returns how to send think again after err: off after
// Ollama's refusal of think for a model without thinking (a 400,
// "\"<model>\" does not support thinking"), on after its refusal of a
// level for a model without levels (a 400, "think value \"low\" is not
// supported for this model"), and mode itself for any other outcome.
func thinkRetry(err error, mode thinkMode) thinkMode {
	e := llm.AsError(err)
	if e == nil || e.UpstreamStatus != http.StatusBadRequest {
		return mode
	}
	switch {
	case strings.Contains(e.Message, "does not support thinking"):
		return thinkOff
	case mode == thinkAsAsked && strings.Contains(e.Message, "think value") && strings.Contains(e.Message, "not supported"):
		return thinkOn
	}
	return mode
}

// thinkField names the field of req that think came from.
func thinkField(req *llm.ChatRequest) string {
	switch {
	case len(req.Thinking) > 0:
		return "thinking"
	case req.ReasoningEffort != "":
		return "reasoning_effort"
	}
	return "think"
}

// Public messages of answers that are not what the API promises.
const (
	malformedChat   = "the upstream sent a malformed response"
	malformedEmbed  = "the upstream sent a malformed embeddings response"
	malformedStream = "the upstream sent a malformed stream event"
)

// checkAnswer checks that b, the body of a 200 answer, is one JSON object
// with an object or array member named want and no "error" member (what
// Ollama answers a failure with): the error is then returned as the
// upstream's, its message sanitized.
func (p *Provider) checkAnswer(b []byte, want, msg string) error {
	var has, hasError bool
	err := jsonwire.CheckAnswer(b, func(name []byte, value int) {
		switch string(name) {
		case want:
			has = b[value] == '{' || b[value] == '['
		case "error":
			hasError = b[value] != 'n'
		}
	})
	switch {
	case err != nil:
		return p.up.Malformed(err, msg)
	case hasError:
		return p.upstreamError(b)
	case !has:
		return p.up.Malformed(fmt.Errorf("ollama: answer has no %q", want), msg)
	}
	return nil
}

// upstreamError is the error of an answer or stream line holding an
// "error" member: the upstream failed, and says why.
func (p *Provider) upstreamError(b []byte) error {
	m, _ := decodeErrorMessage(b)
	return &llm.Error{Kind: llm.KindUpstream, Provider: p.name, UpstreamStatus: http.StatusOK,
		Message: p.up.Sanitize(m), Err: errors.New("ollama: upstream error in a 200 answer")}
}

// decodeErrorMessage reads Ollama's error body, {"error":"message"}; an
// OpenAI-shaped {"error":{"message":...}} from a proxy in front is read
// too.
func decodeErrorMessage(body []byte) (message, code string) {
	if !gjson.ValidBytes(body) {
		return "", ""
	}
	e := gjson.GetBytes(body, "error")
	if e.IsObject() {
		return e.Get("message").Str, e.Get("code").Str
	}
	return e.Str, ""
}
