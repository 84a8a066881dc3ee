package bedrock

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/llmgw/llmgw/internal/llm"
	protocol "github.com/llmgw/llmgw/internal/protocol/anthropic"
	"github.com/llmgw/llmgw/internal/provider"
)

// AnthropicVersion is the anthropic_version of every Messages body sent to
// Bedrock: the body member replaces the anthropic-version header of
// Anthropic's own API, and Bedrock knows this one value.
const AnthropicVersion = "bedrock-2023-05-31"

// Anthropic is a Provider with APIAnthropic, which also forwards the
// bodies of Anthropic clients nearly untouched: it implements
// provider.Forwarder.
type Anthropic struct{ *Provider }

var _ provider.Forwarder = Anthropic{}

// Protocol implements provider.Forwarder.
func (Anthropic) Protocol() string { return protocol.Protocol }

// Forward implements provider.Forwarder: the client's Messages body, made
// a Bedrock body (bedrockBody), to InvokeModel or
// InvokeModelWithResponseStream, whose answer goes back as it came.
func (a Anthropic) Forward(ctx context.Context, f *provider.Forward) (llm.Stream, error) {
	body, err := bedrockBody(ctx, f.Body)
	if err != nil {
		return nil, llm.Wrap(llm.KindInvalidRequest, err, "the request body is not a JSON object")
	}
	return a.invoke(ctx, f.Model, body, f.Stream, true)
}

// chatAnthropic sends req as an Anthropic Messages body.
func (p *Provider) chatAnthropic(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error) {
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
	if body, err = bedrockBody(ctx, body); err != nil {
		return nil, llm.Wrap(llm.KindInternal, err, "")
	}
	return p.invoke(ctx, req.Model, body, req.Stream, false)
}

// bedrockBody returns a copy of a Messages body made what Bedrock takes:
// no "model" (the model is in the URL), no "stream" (streaming is its own
// operation), anthropic_version "bedrock-2023-05-31", and the client's
// anthropic-beta list, which Bedrock reads from the body's anthropic_beta
// array rather than a header. max_tokens is required there as on
// Anthropic's API.
func bedrockBody(ctx context.Context, in []byte) ([]byte, error) {
	if i := bytes.IndexFunc(in, func(r rune) bool { return r != ' ' && r != '\t' && r != '\r' && r != '\n' }); i < 0 || in[i] != '{' {
		return nil, errors.New("body is not a JSON object")
	}
	body := make([]byte, len(in), len(in)+64)
	copy(body, in)
	var err error
	for _, k := range []string{"model", "stream"} {
		if body, err = sjson.DeleteBytes(body, k); err != nil {
			return nil, err
		}
	}
	if body, err = sjson.SetBytes(body, "anthropic_version", AnthropicVersion); err != nil {
		return nil, err
	}
	if !gjson.GetBytes(body, "max_tokens").Exists() {
		if body, err = sjson.SetBytes(body, "max_tokens", protocol.DefaultMaxTokens); err != nil {
			return nil, err
		}
	}
	if in := provider.InboundFrom(ctx); in != nil && in.AnthropicBeta != "" && !gjson.GetBytes(body, "anthropic_beta").Exists() {
		var betas []string
		for b := range strings.SplitSeq(in.AnthropicBeta, ",") {
			if b = strings.TrimSpace(b); b != "" {
				betas = append(betas, b)
			}
		}
		if body, err = sjson.SetBytes(body, "anthropic_beta", betas); err != nil {
			return nil, err
		}
	}
	return body, nil
}

// invoke sends a Messages body to model; raw: the answer's bytes go to
// the client as they came (Chunk.Raw), else they are decoded.
func (p *Provider) invoke(ctx context.Context, model string, body []byte, stream, raw bool) (llm.Stream, error) {
	if stream {
		return p.invokeStream(ctx, model, body, raw)
	}
	out, err := p.client.InvokeModel(ctx, &bedrockruntime.InvokeModelInput{ModelId: aws.String(model), Body: body,
		ContentType: aws.String("application/json"), Accept: aws.String("application/json")})
	if err != nil {
		return nil, p.apiError(err)
	}
	b := out.Body
	if typ := gjson.GetBytes(b, "type").String(); typ == "error" {
		return nil, p.anthropicError(b)
	} else if typ != "message" || !gjson.GetBytes(b, "content").IsArray() {
		return nil, p.up.Malformed(errors.New(`bedrock: answer is not an object of type "message" with a "content" array`), malformedChat)
	}
	if raw {
		c := &llm.Chunk{Raw: b, RawProtocol: protocol.Protocol}
		if u, ok := protocol.ScanUsage("", b); ok {
			c.Usage = &u
		}
		return provider.NewUnary(c), nil
	}
	c, err := protocol.DecodeMessagesResponse(b)
	if err != nil {
		return nil, p.up.DecodeError(err, malformedChat, func(k llm.Kind) bool { return k != llm.KindInternal })
	}
	return provider.NewUnary(c), nil
}

// anthropicStatus is the HTTP status each Anthropic error type comes with,
// for an error object in a 200 body or a stream chunk.
var anthropicStatus = map[string]int{
	"invalid_request_error": http.StatusBadRequest,
	"authentication_error":  http.StatusUnauthorized,
	"permission_error":      http.StatusForbidden,
	"not_found_error":       http.StatusNotFound,
	"request_too_large":     http.StatusRequestEntityTooLarge,
	"rate_limit_error":      http.StatusTooManyRequests,
	"api_error":             http.StatusInternalServerError,
	"timeout_error":         http.StatusGatewayTimeout,
	"overloaded_error":      529,
}

// anthropicError is the error of an Anthropic error object.
func (p *Provider) anthropicError(data []byte) error {
	status, ok := anthropicStatus[gjson.GetBytes(data, "error.type").String()]
	if !ok {
		status = http.StatusBadGateway
	}
	body, _ := sjsonMessage(gjson.GetBytes(data, "error.message").String(), gjson.GetBytes(data, "error.type").String())
	resp := &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body))}
	return p.up.ResponseError(resp)
}

// sjsonMessage writes an error body parseError reads.
func sjsonMessage(msg, typ string) ([]byte, error) {
	b, err := sjson.SetBytes([]byte(`{}`), "message", msg)
	if err != nil {
		return nil, err
	}
	return sjson.SetBytes(b, "__type", typ)
}

// anthropicStream is an llm.Stream over InvokeModelWithResponseStream with
// a Messages body: each chunk event's bytes (base64 on the wire, decoded by
// the SDK) are one Anthropic stream event, "type" inside; message_stop is
// the last. An exception event or an Anthropic error event ends the stream
// with that error.
type anthropicStream struct {
	eventStream
	events <-chan types.ResponseStream
	raw    bool
	dec    *protocol.StreamDecoder
	scan   protocol.UsageScanner
	done   bool
}

func (p *Provider) invokeStream(ctx context.Context, model string, body []byte, raw bool) (llm.Stream, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	out, err := p.client.InvokeModelWithResponseStream(ctx, &bedrockruntime.InvokeModelWithResponseStreamInput{
		ModelId: aws.String(model), Body: body, ContentType: aws.String("application/json"), Accept: aws.String("application/json")}, ownCodec)
	if err != nil {
		cancel(errStreamClosed)
		return nil, p.apiError(err)
	}
	es := out.GetStream()
	s := &anthropicStream{events: es.Events(), raw: raw}
	if !raw {
		s.dec = protocol.NewStreamDecoder()
	}
	s.stop, s.failed = es.Close, es.Err
	s.open(p, ctx, cancel)
	return s, nil
}

// Recv implements llm.Stream.
func (s *anthropicStream) Recv() (*llm.Chunk, error) {
	for {
		if s.err != nil {
			return nil, s.err
		}
		if s.done {
			return nil, s.ended(true)
		}
		ev, ok := next(&s.eventStream, s.events)
		if !ok {
			return nil, s.ended(false)
		}
		pc, ok := ev.(*types.ResponseStreamMemberChunk)
		if !ok {
			continue
		}
		data := s.p.up.Redact(pc.Value.Bytes)
		typ := gjson.GetBytes(data, "type").String()
		if typ == "error" {
			return nil, s.fail(s.p.anthropicError(data))
		}
		if typ == "message_stop" {
			s.done = true
		}
		c, err := s.decode(typ, data)
		if err != nil {
			return nil, s.fail(err)
		}
		if c != nil {
			return c, nil
		}
	}
}

// decode turns one event into a chunk, or nil for an event with nothing
// for the client in decoded mode.
func (s *anthropicStream) decode(typ string, data []byte) (*llm.Chunk, error) {
	if s.raw {
		c := &llm.Chunk{Raw: bytes.Clone(data), RawProtocol: protocol.Protocol}
		if u, ok := s.scan.Scan(typ, data); ok {
			s.setUsage(u)
			c.Usage = &u
		}
		return c, nil
	}
	c, err := s.dec.Decode(typ, data)
	if err == io.EOF {
		s.setUsage(s.dec.Usage())
		return nil, nil
	}
	if err != nil {
		return nil, s.p.up.DecodeError(err, malformedStream, func(k llm.Kind) bool { return k != llm.KindInternal })
	}
	if c != nil && c.Usage != nil {
		s.setUsage(*c.Usage)
	} else {
		s.setUsage(s.dec.Usage())
	}
	return c, nil
}
