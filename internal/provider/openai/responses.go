package openai

import (
	"context"
	"fmt"
	"net/http"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/responses"
	"github.com/llmgw/llmgw/internal/provider"
	"github.com/llmgw/llmgw/internal/sse"
)

// malformedResponse is the public message of a Responses answer that is not
// a response object.
const malformedResponse = "the upstream sent a malformed response"

// forwardResponses forwards a Responses API body to BaseURL + "/responses".
// A whole answer must be a response object (object "response", an output
// array) and not one whose status is failed; a stream is passed on event by
// event (responsesStream).
func (p *Provider) forwardResponses(ctx context.Context, f *provider.Forward) (llm.Stream, error) {
	body := make([]byte, len(f.Body), len(f.Body)+len(f.Model)+32)
	copy(body, f.Body)
	body, err := sjson.SetBytes(body, "model", f.Model)
	if err == nil && f.Stream {
		body, err = sjson.SetBytes(body, "stream", true)
	}
	if err != nil {
		return nil, llm.Wrap(llm.KindInvalidRequest, err, "the request body is not a JSON object")
	}
	if f.Stream {
		s := &responsesStream{p: p}
		if err := s.Open(ctx, p.up, p.responsesURL, body); err != nil {
			return nil, err
		}
		return s, nil
	}
	b, err := p.up.PostRead(ctx, p.responsesURL, body, maxResponseBody)
	if err != nil {
		return nil, err
	}
	if err := p.checkResponseObject(b); err != nil {
		return nil, err
	}
	c := &llm.Chunk{Raw: b, RawProtocol: responses.Protocol}
	if u, ok := ScanResponsesUsage(gjson.GetBytes(b, "usage")); ok {
		c.Usage = &u
	}
	return provider.NewUnary(c), nil
}

// checkResponseObject checks that b, a 200 body, is one sound JSON object
// that is a response object, and that the response did not fail: an error
// object or a failed response is the upstream's error, anything else a
// malformed answer.
func (p *Provider) checkResponseObject(b []byte) error {
	if err := p.checkAnswer(b, "output", malformedResponse); err != nil {
		if gjson.GetBytes(b, "object").Str == "response" && gjson.GetBytes(b, "error").IsObject() {
			return p.failedResponse(gjson.GetBytes(b, "error"), http.StatusOK)
		}
		return err
	}
	root := gjson.ParseBytes(b)
	if root.Get("object").Str != "response" {
		return p.up.Malformed(fmt.Errorf("openai: answer to /responses is not a response object"), malformedResponse)
	}
	if root.Get("status").Str == "failed" {
		return p.failedResponse(root.Get("error"), http.StatusOK)
	}
	return nil
}

// failedResponse is the error of a response that failed, or of an error
// event: its message, already redacted, and its code in the hidden cause.
func (p *Provider) failedResponse(e gjson.Result, status int) error {
	msg := e.Get("message").Str
	if msg == "" {
		msg = "the upstream failed to generate a response"
	}
	return &llm.Error{Kind: llm.KindUpstream, Provider: p.name, UpstreamStatus: status,
		Message: p.up.Sanitize(msg), Err: fmt.Errorf("openai: response failed (code %q)", e.Get("code").String())}
}

// ScanResponsesUsage reads a Responses usage object (input_tokens,
// output_tokens, total_tokens, input_tokens_details.cached_tokens,
// output_tokens_details.reasoning_tokens); ok is false when u is not an
// object.
func ScanResponsesUsage(u gjson.Result) (llm.Usage, bool) {
	if !u.IsObject() {
		return llm.Usage{}, false
	}
	var out llm.Usage
	u.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "input_tokens":
			out.PromptTokens = int(v.Int())
		case "output_tokens":
			out.CompletionTokens = int(v.Int())
		case "total_tokens":
			out.TotalTokens = int(v.Int())
		case "input_tokens_details":
			out.CachedTokens = int(v.Get("cached_tokens").Int())
		case "output_tokens_details":
			out.ReasoningTokens = int(v.Get("reasoning_tokens").Int())
		}
		return true
	})
	return out, true
}

// responsesStream is an llm.Stream over a Responses event stream. Each
// event's data is passed on as it came in a chunk's Raw (its type is the
// data's "type"); the usage of response.completed or response.incomplete
// is the stream's. After either, the stream has ended: the upstream sends
// no [DONE]. An error event or response.failed ends it with the upstream's
// error, as an error inside a chat stream does; so does a body that ends
// before a terminal event.
type responsesStream struct {
	provider.EventStream
	p     *Provider
	done  bool
	chunk llm.Chunk
	buf   []byte
	usage llm.Usage
}

// Recv implements llm.Stream.
func (s *responsesStream) Recv() (*llm.Chunk, error) {
	if s.done {
		return nil, s.End()
	}
	_, data, err := s.Next()
	if err != nil {
		return nil, err
	}
	if sse.IsDone(data) {
		return nil, s.Fail(s.p.up.Malformed(fmt.Errorf("openai: [DONE] before the response ended"), "upstream stream ended before completion"))
	}
	if !gjson.ValidBytes(data) {
		return nil, s.Fail(s.p.up.Malformed(fmt.Errorf("openai: stream event is not JSON"), "the upstream sent a malformed stream event"))
	}
	typ := gjson.GetBytes(data, "type")
	if typ.Type != gjson.String {
		return nil, s.Fail(s.p.up.Malformed(fmt.Errorf("openai: stream event has no type"), "the upstream sent a malformed stream event"))
	}
	s.buf = append(s.buf[:0], data...)
	c := &s.chunk
	*c = llm.Chunk{Raw: s.buf[:len(s.buf):len(s.buf)], RawProtocol: responses.Protocol}
	switch typ.Str {
	case "error":
		return nil, s.Fail(s.p.failedResponse(gjson.ParseBytes(data), http.StatusOK))
	case "response.failed":
		s.scanUsage(data)
		return nil, s.Fail(s.p.failedResponse(gjson.GetBytes(data, "response.error"), http.StatusOK))
	case "response.completed", "response.incomplete":
		s.done = true
		if s.scanUsage(data) {
			c.Usage = &s.usage
		}
	}
	return c, nil
}

// scanUsage records the usage of a terminal event's response.
func (s *responsesStream) scanUsage(data []byte) bool {
	u, ok := ScanResponsesUsage(gjson.GetBytes(data, "response.usage"))
	if ok {
		s.usage = u
		s.SetUsage(u)
	}
	return ok
}
