package openai

import (
	"context"
	"fmt"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
	protocol "github.com/llmgw/llmgw/internal/protocol/openai"
	"github.com/llmgw/llmgw/internal/provider"
)

// completionsOp is the path of legacy text completions under the API root.
const completionsOp = "/completions"

// malformedCompletion is the public message of a legacy completion answer
// that is not one.
const malformedCompletion = "the upstream sent a malformed completion"

// forwardCompletions forwards a legacy completion request body
// (protocol.CompletionsProtocol) to the upstream's /completions, as Forward
// does a chat body: model replaced and, for a stream, usage always asked
// for. A non-streamed answer must be a text_completion with a choices
// array; an error object in a 200 is the upstream's error. Chunks carry
// the upstream's bytes, with RawProtocol CompletionsProtocol, and the
// usage they report.
func (p *Provider) forwardCompletions(ctx context.Context, f *provider.Forward) (llm.Stream, error) {
	body, err := forwardBody(f)
	if err != nil {
		return nil, llm.Wrap(llm.KindInvalidRequest, err, "the request body is not a JSON object")
	}
	url := p.base + completionsOp
	if p.url != nil {
		url = p.url(completionsOp, f.Model)
	}
	if f.Stream {
		s := &stream{p: p, raw: true, rawProtocol: protocol.CompletionsProtocol}
		if err := s.Open(ctx, p.up, url, body); err != nil {
			return nil, err
		}
		return s, nil
	}
	b, err := p.up.PostRead(ctx, url, body, maxResponseBody)
	if err != nil {
		return nil, err
	}
	if err := p.checkCompletion(b); err != nil {
		return nil, err
	}
	c := &llm.Chunk{Raw: b, RawProtocol: protocol.CompletionsProtocol}
	if u, ok := protocol.ScanUsage(b); ok {
		c.Usage = &u
	}
	return provider.NewUnary(c), nil
}

// checkCompletion checks that b, the body of a 200 answer, is a legacy
// completion: one JSON object (see jsonwire.CheckAnswer) with a choices
// array, object "text_completion" and no error member, as checkAnswer
// does a chat completion, in one walk of b. An error object is the
// upstream's error.
func (p *Provider) checkCompletion(b []byte) error {
	var hasList, hasError, isCompletion bool
	want := `"` + protocol.CompletionObject + `"`
	err := jsonwire.CheckAnswer(b, func(name []byte, value int) {
		switch string(name) {
		case "choices":
			hasList = b[value] == '['
		case "error":
			hasError = b[value] == '{' || b[value] == '"'
		case "object":
			isCompletion = len(b)-value >= len(want) && string(b[value:value+len(want)]) == want
		}
	})
	switch {
	case err != nil:
		return p.up.Malformed(err, malformedCompletion)
	case hasError:
		return p.errorObject(b)
	case !hasList || !isCompletion:
		return p.up.Malformed(fmt.Errorf("openai: answer is not a %s object with a choices array", protocol.CompletionObject), malformedCompletion)
	}
	return nil
}
