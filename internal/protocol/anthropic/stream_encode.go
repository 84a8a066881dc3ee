package anthropic

import (
	"strconv"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
	"github.com/tidwall/gjson"
)

// StreamEncoder turns canonical chunks, from an upstream of any protocol,
// into the events of an Anthropic Messages stream: message_start first, then
// each content block opened with content_block_start, fed with deltas and
// closed with content_block_stop when another begins, and at Finish a
// message_delta with the stop reason and usage, then message_stop. Only
// choice 0 is encoded. It is not safe for concurrent use.
type StreamEncoder struct {
	started, finished bool
	open              blockKind
	index             int // the open block's index
	next              int // the next block's index
	tool              int // the canonical index of the open tool call
	toolBlocks        map[int]int
	finish            llm.FinishReason
	stopSequence      string
	usage             llm.Usage
	input             int // SetInputTokens: the input count until the upstream states one
	buf               []byte
}

// NewStreamEncoder returns an encoder for one stream.
func NewStreamEncoder() *StreamEncoder { return &StreamEncoder{} }

// SetInputTokens sets the input token count message_start reports when the
// upstream has stated none by then (an OpenAI stream states usage only at
// its end): the exact count when the caller knows it, else an estimate such
// as EstimateTokens. Anthropic clients (LangChain's ChatAnthropic among
// them) read input tokens from message_start, so it must not be 0. The
// message_delta that Finish writes carries the upstream's final count,
// which corrects an estimate, and falls back to n when the upstream never
// stated one. Call it before the first Encode.
func (e *StreamEncoder) SetInputTokens(n int) { e.input = n }

// Started reports whether message_start has been emitted: from then on a
// failure can only be reported in-band, with an error event.
func (e *StreamEncoder) Started() bool { return e.started }

// Encode emits the events for c. emit receives each event's type and data;
// data is reused after emit returns. A chunk carrying an Anthropic event in
// Raw is emitted as it is. Finish reason, stop sequence and usage are kept
// for the message_delta that Finish writes, since OpenAI streams send usage
// after the finish reason.
func (e *StreamEncoder) Encode(c *llm.Chunk, emit func(event string, data []byte) error) error {
	if len(c.Raw) > 0 && c.RawProtocol == Protocol {
		return e.raw(c, emit)
	}
	if !e.started {
		if err := e.start(c, emit); err != nil {
			return err
		}
	}
	if c.Usage != nil {
		e.usage = *c.Usage
	}
	for i := range c.Choices {
		ch := &c.Choices[i]
		if ch.Index != 0 {
			continue
		}
		if err := e.message(&ch.Message, emit); err != nil {
			return err
		}
		if ch.FinishReason != "" {
			e.finish = ch.FinishReason
		}
		if ch.StopSequence != "" {
			e.stopSequence = ch.StopSequence
		}
	}
	return nil
}

// raw forwards an upstream Anthropic event, keeping track of the start and
// the end so that Finish adds nothing to a complete forwarded stream.
func (e *StreamEncoder) raw(c *llm.Chunk, emit func(string, []byte) error) error {
	typ := gjson.GetBytes(c.Raw, "type").Str
	switch typ {
	case "message_start":
		e.started = true
	case "message_stop":
		e.finished = true
	}
	if c.Usage != nil {
		e.usage = *c.Usage
	}
	return emit(typ, c.Raw)
}

func (e *StreamEncoder) start(c *llm.Chunk, emit func(string, []byte) error) error {
	e.started = true
	b := append(e.buf[:0], `{"type":"message_start","message":{"id":`...)
	b = jsonwire.AppendString(b, MessageID(c.ID))
	b = append(b, `,"type":"message","role":"assistant","model":`...)
	b = jsonwire.AppendString(b, c.Model)
	b = append(b, `,"content":[],"stop_reason":null,"stop_sequence":null,"usage":`...)
	var u llm.Usage
	if c.Usage != nil {
		u = *c.Usage
	}
	if u.PromptTokens == 0 {
		u.PromptTokens = e.input
	}
	b = appendUsage(b, u)
	b = append(b, '}', '}')
	e.buf = b
	return emit("message_start", b)
}

func (e *StreamEncoder) message(m *llm.Message, emit func(string, []byte) error) error {
	for i := range m.Content {
		if err := e.part(m, &m.Content[i], emit); err != nil {
			return err
		}
	}
	if m.Refusal != "" {
		if err := e.text(m.Refusal, emit); err != nil {
			return err
		}
	}
	for i := range m.ToolCalls {
		if err := e.toolCall(&m.ToolCalls[i], emit); err != nil {
			return err
		}
	}
	return nil
}

func (e *StreamEncoder) part(m *llm.Message, p *llm.Part, emit func(string, []byte) error) error {
	switch p.Type {
	case llm.PartText:
		return e.text(p.Text, emit)
	case llm.PartThinking:
		if p.Text == "" && p.Signature == "" {
			return nil
		}
		if err := e.ensure(blockThinking, emit); err != nil {
			return err
		}
		if p.Text != "" {
			if err := e.delta("thinking_delta", "thinking", p.Text, emit); err != nil {
				return err
			}
		}
		if p.Signature != "" {
			return e.delta("signature_delta", "signature", p.Signature, emit)
		}
	case llm.PartRedactedThinking:
		b := jsonwire.AppendStringField([]byte(`{"type":"redacted_thinking"`), "data", p.Data)
		return e.whole(append(b, '}'), emit)
	case llm.PartOther:
		if m.ExtraProtocol == Protocol && len(p.Raw) > 0 {
			b, err := jsonwire.AppendRaw(nil, p.Raw)
			if err != nil {
				return err
			}
			return e.whole(b, emit)
		}
	}
	return nil
}

func (e *StreamEncoder) text(s string, emit func(string, []byte) error) error {
	if s == "" {
		return nil
	}
	if err := e.ensure(blockText, emit); err != nil {
		return err
	}
	return e.delta("text_delta", "text", s, emit)
}

// toolCall opens a tool_use block for a call index not seen before (closing
// the open block) and streams the arguments fragment as input_json_delta. A
// fragment for a call whose block was already closed, which no known
// upstream sends, goes to that call's block index.
func (e *StreamEncoder) toolCall(tc *llm.ToolCall, emit func(string, []byte) error) error {
	idx, seen := e.toolBlocks[tc.Index]
	if !seen {
		if err := e.close(emit); err != nil {
			return err
		}
		if e.toolBlocks == nil {
			e.toolBlocks = make(map[int]int)
		}
		idx = e.next
		e.toolBlocks[tc.Index] = idx
		b := append(e.buf[:0], `{"type":"content_block_start","index":`...)
		b = strconv.AppendInt(b, int64(idx), 10)
		b = append(b, `,"content_block":{"type":"tool_use"`...)
		b = jsonwire.AppendStringField(b, "id", toolUseID(tc.ID, tc.Index))
		b = jsonwire.AppendStringField(b, "name", tc.Name)
		b = append(b, `,"input":{}}}`...)
		e.buf = b
		e.open, e.index, e.tool, e.next = blockTool, idx, tc.Index, idx+1
		if err := emit("content_block_start", b); err != nil {
			return err
		}
	}
	if tc.Arguments == "" {
		return nil
	}
	b := append(e.buf[:0], `{"type":"content_block_delta","index":`...)
	b = strconv.AppendInt(b, int64(idx), 10)
	b = append(b, `,"delta":{"type":"input_json_delta"`...)
	b = append(jsonwire.AppendStringField(b, "partial_json", tc.Arguments), '}', '}')
	e.buf = b
	return emit("content_block_delta", b)
}

// ensure opens a block of kind unless one is open.
func (e *StreamEncoder) ensure(kind blockKind, emit func(string, []byte) error) error {
	if e.open == kind {
		return nil
	}
	if err := e.close(emit); err != nil {
		return err
	}
	b := append(e.buf[:0], `{"type":"content_block_start","index":`...)
	b = strconv.AppendInt(b, int64(e.next), 10)
	if kind == blockThinking {
		b = append(b, `,"content_block":{"type":"thinking","thinking":"","signature":""}}`...)
	} else {
		b = append(b, `,"content_block":{"type":"text","text":""}}`...)
	}
	e.buf = b
	e.open, e.index = kind, e.next
	e.next++
	return emit("content_block_start", b)
}

// whole emits a block that arrives complete: start and stop.
func (e *StreamEncoder) whole(block []byte, emit func(string, []byte) error) error {
	if err := e.close(emit); err != nil {
		return err
	}
	b := append(e.buf[:0], `{"type":"content_block_start","index":`...)
	b = strconv.AppendInt(b, int64(e.next), 10)
	b = append(append(append(b, `,"content_block":`...), block...), '}')
	e.buf = b
	e.open, e.index = blockOther, e.next
	e.next++
	if err := emit("content_block_start", b); err != nil {
		return err
	}
	return e.close(emit)
}

func (e *StreamEncoder) delta(typ, field, s string, emit func(string, []byte) error) error {
	b := append(e.buf[:0], `{"type":"content_block_delta","index":`...)
	b = strconv.AppendInt(b, int64(e.index), 10)
	b = append(b, `,"delta":{"type":"`...)
	b = append(b, typ...)
	b = append(jsonwire.AppendStringField(append(b, '"'), field, s), '}', '}')
	e.buf = b
	return emit("content_block_delta", b)
}

// close emits content_block_stop for the open block, if any.
func (e *StreamEncoder) close(emit func(string, []byte) error) error {
	if e.open == blockNone {
		return nil
	}
	e.open = blockNone
	b := append(e.buf[:0], `{"type":"content_block_stop","index":`...)
	b = strconv.AppendInt(b, int64(e.index), 10)
	e.buf = append(b, '}')
	return emit("content_block_stop", e.buf)
}

// Finish ends the stream: it closes the open block and emits message_delta
// (stop_reason, stop_sequence and the final usage, input counts included,
// as Anthropic's own message_delta carries them) and message_stop. It emits
// message_start first if nothing was encoded, and nothing after a forwarded
// message_stop or a previous Finish. Call it only when the upstream stream
// ended normally: a failed stream ends with an error event instead
// (AppendStreamError), never with message_stop.
func (e *StreamEncoder) Finish(emit func(event string, data []byte) error) error {
	if e.finished {
		return nil
	}
	if !e.started {
		if err := e.start(&llm.Chunk{}, emit); err != nil {
			return err
		}
	}
	if err := e.close(emit); err != nil {
		return err
	}
	e.finished = true
	if e.usage.PromptTokens == 0 {
		e.usage.PromptTokens = e.input
	}
	ch := llm.Choice{FinishReason: e.finish, StopSequence: e.stopSequence}
	b := append(e.buf[:0], `{"type":"message_delta","delta":{"stop_reason":`...)
	b = jsonwire.AppendString(b, StopReason(&ch, len(e.toolBlocks) > 0))
	b = append(b, `,"stop_sequence":`...)
	b = appendNullableString(b, e.stopSequence)
	b = append(b, `},"usage":`...)
	b = append(appendUsage(b, e.usage), '}')
	e.buf = b
	if err := emit("message_delta", b); err != nil {
		return err
	}
	e.buf = append(e.buf[:0], `{"type":"message_stop"}`...)
	return emit("message_stop", e.buf)
}
