package cohere

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/provider"
	"github.com/llmgw/llmgw/internal/sse"
)

// Cohere's stream event types (StreamedChatResponseV2).
const (
	evMessageStart  = "message-start"
	evContentStart  = "content-start"
	evContentDelta  = "content-delta"
	evToolPlanDelta = "tool-plan-delta"
	evToolCallStart = "tool-call-start"
	evToolCallDelta = "tool-call-delta"
	evMessageEnd    = "message-end"
	// content-end, tool-call-end, citation-start, citation-end and debug
	// carry nothing the canonical stream has.
)

// maxToolCalls bounds the tool calls of one answer, and so the memory a
// hostile stream can make the decoder hold.
const maxToolCalls = 1024

// stream is an llm.Stream over Cohere's text/event-stream answer: events
// named by an event: line and by the type member of their data, ended by
// message-end (a data: [DONE] may follow, and is not read). A stream that
// ends before message-end is an error, as is a message-end whose finish
// reason is ERROR or TIMEOUT.
type stream struct {
	provider.EventStream
	p     *Provider
	model string
	stops []string
	id    string
	// calls maps Cohere's index of a tool call to its canonical index, in
	// the order the calls started; started counts them, and current is
	// the call being streamed.
	calls   map[int64]int
	started int
	current int
}

// Recv implements llm.Stream.
func (s *stream) Recv() (*llm.Chunk, error) {
	for {
		ev, data, err := s.Next()
		if err != nil {
			return nil, err
		}
		if sse.IsDone(data) {
			return nil, s.Fail(s.p.up.Malformed(errors.New("cohere: [DONE] before message-end"), malformedStream))
		}
		if !gjson.ValidBytes(data) {
			return nil, s.Fail(s.p.up.Malformed(errors.New("cohere: stream event is not JSON"), malformedStream))
		}
		e := gjson.ParseBytes(data)
		typ := e.Get("type").Str
		if typ == "" && ev != nil {
			typ = ev.Type
		}
		c, err := s.decode(typ, e)
		if err != nil {
			return nil, s.Fail(s.p.decodeError(err, malformedStream))
		}
		if typ == evMessageEnd {
			_ = s.End()
		}
		if c != nil {
			return c, nil
		}
	}
}

// chunk returns a chunk of one choice holding m.
func (s *stream) chunk(m llm.Message) *llm.Chunk {
	return &llm.Chunk{ID: s.id, Model: s.model, Choices: []llm.Choice{{Message: m}}}
}

// decode turns one event into a chunk, or nil for an event with nothing
// for the client.
func (s *stream) decode(typ string, e gjson.Result) (*llm.Chunk, error) {
	msg := e.Get("delta.message")
	switch typ {
	case evMessageStart:
		s.id = e.Get("id").Str
		return s.chunk(llm.Message{Role: llm.RoleAssistant}), nil
	case evContentStart, evContentDelta:
		c := msg.Get("content")
		var m llm.Message
		if t := c.Get("thinking").Str; t != "" {
			m.Content = append(m.Content, llm.Part{Type: llm.PartThinking, Text: t})
		}
		if t := c.Get("text").Str; t != "" {
			m.Content = append(m.Content, llm.TextPart(t))
		}
		if len(m.Content) == 0 {
			return nil, nil
		}
		return s.chunk(m), nil
	case evToolPlanDelta:
		t := msg.Get("tool_plan").Str
		if t == "" {
			return nil, nil
		}
		return s.chunk(llm.Message{Content: []llm.Part{{Type: llm.PartThinking, Text: t}}}), nil
	case evToolCallStart:
		tc := msg.Get("tool_calls")
		if s.calls == nil {
			s.calls = make(map[int64]int)
		}
		if s.started >= maxToolCalls {
			return nil, fmt.Errorf("cohere: more than %d tool calls", maxToolCalls)
		}
		s.current = s.started
		s.started++
		s.calls[e.Get("index").Int()] = s.current
		return s.chunk(llm.Message{ToolCalls: []llm.ToolCall{{Index: s.current, ID: tc.Get("id").Str, Type: "function",
			Name: tc.Get("function.name").Str, Arguments: tc.Get("function.arguments").Str}}}), nil
	case evToolCallDelta:
		if len(s.calls) == 0 {
			return nil, errors.New("cohere: tool-call-delta before tool-call-start")
		}
		i, ok := s.calls[e.Get("index").Int()]
		if !ok {
			i = s.current
		}
		a := msg.Get("tool_calls.function.arguments").Str
		if a == "" {
			return nil, nil
		}
		return s.chunk(llm.Message{ToolCalls: []llm.ToolCall{{Index: i, Arguments: a}}}), nil
	case evMessageEnd:
		d := e.Get("delta")
		var w wireUsage
		if u := d.Get("usage"); u.IsObject() {
			if err := json.Unmarshal([]byte(u.Raw), &w); err != nil {
				return nil, err
			}
		}
		usage := w.usage()
		s.SetUsage(usage)
		fr, seq, err := finish(d.Get("finish_reason").Str, d.Get("error").Str, s.stops)
		if err != nil {
			return nil, err
		}
		c := s.chunk(llm.Message{})
		c.Choices[0].FinishReason, c.Choices[0].StopSequence = fr, seq
		c.Usage = &usage
		return c, nil
	}
	return nil, nil
}
