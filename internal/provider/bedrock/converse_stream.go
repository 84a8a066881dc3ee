package bedrock

import (
	"context"
	"encoding/base64"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"

	"github.com/llmgw/llmgw/internal/llm"
)

// converseStream is an llm.Stream over ConverseStream: messageStart,
// contentBlockStart (a tool call's id and name), contentBlockDelta (text,
// a tool call's input as JSON fragments, reasoning text, its signature or
// redacted reasoning), contentBlockStop, messageStop (the stop reason) and
// metadata (the usage), in that order. The finish reason is held until
// the usage arrives, so that the last chunk carries both. An exception
// event ends the stream with that exception as the upstream's error; a
// stream that ends before the metadata event is cut short, an error: the
// answer may be whole at messageStop, but its usage is not known.
type converseStream struct {
	eventStream
	events  <-chan types.ConverseStreamOutput
	model   string
	id      string
	created int64
	started bool
	calls   map[int32]int // content block index -> tool call index
	stopped bool
	finish  llm.FinishReason
	sent    bool // the last chunk has gone
}

// converseStream opens a ConverseStream for in.
func (p *Provider) converseStream(ctx context.Context, req *llm.ChatRequest, in *bedrockruntime.ConverseInput) (llm.Stream, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	out, err := p.client.ConverseStream(ctx, &bedrockruntime.ConverseStreamInput{
		ModelId: in.ModelId, Messages: in.Messages, System: in.System, InferenceConfig: in.InferenceConfig,
		ToolConfig: in.ToolConfig, AdditionalModelRequestFields: in.AdditionalModelRequestFields,
		OutputConfig: in.OutputConfig, RequestMetadata: in.RequestMetadata,
	}, ownCodec)
	if err != nil {
		cancel(errStreamClosed)
		return nil, p.apiError(err)
	}
	es := out.GetStream()
	s := &converseStream{events: es.Events(), model: req.Model, id: newID(), created: created(), calls: map[int32]int{}}
	s.stop, s.failed = es.Close, es.Err
	s.open(p, ctx, cancel)
	return s, nil
}

// Recv implements llm.Stream.
func (s *converseStream) Recv() (*llm.Chunk, error) {
	for {
		if s.err != nil {
			return nil, s.err
		}
		if s.sent {
			return nil, s.ended(true)
		}
		ev, ok := next(&s.eventStream, s.events)
		if !ok {
			// The metadata event, which carries the usage, is the
			// last: a stream without it is cut short.
			return nil, s.ended(false)
		}
		c, err := s.decode(ev)
		if err != nil {
			return nil, s.fail(err)
		}
		if c != nil {
			return c, nil
		}
	}
}

// chunk returns a chunk with the delta m.
func (s *converseStream) chunk(m llm.Message) *llm.Chunk {
	if !s.started {
		m.Role = llm.RoleAssistant
		s.started = true
	}
	return &llm.Chunk{ID: s.id, Model: s.model, Created: s.created, Choices: []llm.Choice{{Message: m}}}
}

// last returns the chunk with the finish reason (and the usage, when it
// came).
func (s *converseStream) last() *llm.Chunk {
	c := s.chunk(llm.Message{})
	c.Choices[0].FinishReason = s.finish
	if u := s.Usage(); !u.IsZero() {
		c.Usage = &u
	}
	return c
}

// redact returns text with the provider's secrets redacted.
func (s *converseStream) redact(text string) string {
	return string(s.p.up.Redact([]byte(text)))
}

// decode turns one event into a chunk, or nil for an event with nothing
// for the client.
func (s *converseStream) decode(ev types.ConverseStreamOutput) (*llm.Chunk, error) {
	switch e := ev.(type) {
	case *types.ConverseStreamOutputMemberMessageStart:
		return s.chunk(llm.Message{}), nil
	case *types.ConverseStreamOutputMemberContentBlockStart:
		tu, ok := e.Value.Start.(*types.ContentBlockStartMemberToolUse)
		if !ok {
			return nil, nil
		}
		i := len(s.calls)
		s.calls[aws.ToInt32(e.Value.ContentBlockIndex)] = i
		return s.chunk(llm.Message{ToolCalls: []llm.ToolCall{{Index: i, ID: aws.ToString(tu.Value.ToolUseId),
			Type: "function", Name: aws.ToString(tu.Value.Name)}}}), nil
	case *types.ConverseStreamOutputMemberContentBlockDelta:
		return s.delta(&e.Value), nil
	case *types.ConverseStreamOutputMemberMessageStop:
		fr, err := s.p.finish(e.Value.StopReason)
		if err != nil {
			return nil, err
		}
		s.stopped, s.finish = true, fr
		return nil, nil
	case *types.ConverseStreamOutputMemberMetadata:
		if e.Value.Usage != nil {
			s.setUsage(usage(e.Value.Usage))
		}
		if !s.stopped {
			return nil, nil
		}
		s.sent = true
		return s.last(), nil
	}
	return nil, nil
}

// delta returns the chunk of a content block delta, nil for one of a
// kind the canonical model does not carry (citations, images).
func (s *converseStream) delta(e *types.ContentBlockDeltaEvent) *llm.Chunk {
	switch d := e.Delta.(type) {
	case *types.ContentBlockDeltaMemberText:
		return s.chunk(llm.Message{Content: []llm.Part{llm.TextPart(s.redact(d.Value))}})
	case *types.ContentBlockDeltaMemberToolUse:
		i, ok := s.calls[aws.ToInt32(e.ContentBlockIndex)]
		if !ok {
			return nil
		}
		return s.chunk(llm.Message{ToolCalls: []llm.ToolCall{{Index: i, Arguments: s.redact(aws.ToString(d.Value.Input))}}})
	case *types.ContentBlockDeltaMemberReasoningContent:
		switch r := d.Value.(type) {
		case *types.ReasoningContentBlockDeltaMemberText:
			return s.chunk(llm.Message{Content: []llm.Part{{Type: llm.PartThinking, Text: s.redact(r.Value)}}})
		case *types.ReasoningContentBlockDeltaMemberSignature:
			return s.chunk(llm.Message{Content: []llm.Part{{Type: llm.PartThinking, Signature: r.Value}}})
		case *types.ReasoningContentBlockDeltaMemberRedactedContent:
			return s.chunk(llm.Message{Content: []llm.Part{{Type: llm.PartRedactedThinking, Data: base64.StdEncoding.EncodeToString(r.Value)}}})
		}
	}
	return nil
}
