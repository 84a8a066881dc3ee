package anthropic

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/tidwall/sjson"
)

// wireEvent is any Messages stream event; each type fills its own fields.
type wireEvent struct {
	Type         string          `json:"type"`
	Index        int             `json:"index"`
	Message      *wireMessage    `json:"message"`
	ContentBlock json.RawMessage `json:"content_block"`
	Delta        struct {
		Type         string  `json:"type"`
		Text         string  `json:"text"`
		PartialJSON  string  `json:"partial_json"`
		Thinking     string  `json:"thinking"`
		Signature    string  `json:"signature"`
		StopReason   string  `json:"stop_reason"`
		StopSequence *string `json:"stop_sequence"`
	} `json:"delta"`
	Usage *wireUsage `json:"usage"`
	Error *wireError `json:"error"`
}

// blockKind is what an open content block holds.
type blockKind uint8

const (
	blockNone blockKind = iota
	blockText
	blockThinking
	blockTool
	// blockServer is a server tool block (server_tool_use, ...): kept whole
	// as a PartOther, emitted at its content_block_stop with its input.
	blockServer
	blockOther
)

type blockState struct {
	kind  blockKind
	tool  int    // the call's ordinal among the message's tool calls
	raw   []byte // a server block as started
	input []byte // a server block's input, as streamed
}

// StreamDecoder turns the events of an upstream Messages stream into
// canonical chunks. Each chunk carries the message's id and model and one
// choice. A tool_use block becomes tool call deltas whose Index is the
// call's ordinal among the message's calls (0, 1, 2, ...), not the block's
// index, as OpenAI numbers them. It is not safe for concurrent use.
type StreamDecoder struct {
	id, model string
	blocks    []blockState
	tools     int
	usage     usageCounts
	done      bool
}

// NewStreamDecoder returns a decoder for one stream.
func NewStreamDecoder() *StreamDecoder { return &StreamDecoder{} }

// Usage returns the usage seen so far: input counts from message_start (or
// a later message_delta that restates them), output tokens from the last
// message_delta, since Anthropic reports them cumulatively.
func (d *StreamDecoder) Usage() llm.Usage { return d.usage.canonical() }

// Decode decodes one event, given its SSE event type and data. It returns a
// nil chunk and no error for events that carry nothing for the client
// (ping, content_block_stop, a text block's empty start, unknown event
// types), io.EOF for message_stop, and the matching *llm.Error for an error
// event. data is not retained.
func (d *StreamDecoder) Decode(eventType string, data []byte) (*llm.Chunk, error) {
	if d.done {
		return nil, io.EOF
	}
	if eventType == "ping" {
		return nil, nil
	}
	var w wireEvent
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("anthropic: decode %s event: %w", eventType, err)
	}
	if w.Type == "" {
		w.Type = eventType
	}
	switch w.Type {
	case "message_start":
		return d.messageStart(&w), nil
	case "content_block_start":
		return d.blockStart(&w)
	case "content_block_delta":
		return d.blockDelta(&w), nil
	case "content_block_stop":
		return d.blockStop(&w)
	case "message_delta":
		d.usage.merge(w.Usage)
		u := d.usage.canonical()
		c := d.chunk(llm.Message{})
		c.Choices[0].FinishReason = FinishReason(w.Delta.StopReason)
		if w.Delta.StopSequence != nil {
			c.Choices[0].StopSequence = *w.Delta.StopSequence
		}
		c.Usage = &u
		return c, nil
	case "message_stop":
		d.done = true
		return nil, io.EOF
	case "error":
		if w.Error == nil {
			return nil, streamError("", "error event without an error object")
		}
		return nil, streamError(w.Error.Type, w.Error.Message)
	}
	return nil, nil
}

func (d *StreamDecoder) chunk(m llm.Message) *llm.Chunk {
	return &llm.Chunk{ID: d.id, Model: d.model, Choices: []llm.Choice{{Message: m}}}
}

func (d *StreamDecoder) messageStart(w *wireEvent) *llm.Chunk {
	if w.Message != nil {
		d.id, d.model = w.Message.ID, w.Message.Model
		d.usage.merge(w.Message.Usage)
	}
	u := d.usage.canonical()
	c := d.chunk(llm.Message{Role: llm.RoleAssistant})
	c.Usage = &u
	return c
}

// block returns the state of the block at index i, growing the list.
func (d *StreamDecoder) block(i int) *blockState {
	if i < 0 {
		i = 0
	}
	for len(d.blocks) <= i {
		d.blocks = append(d.blocks, blockState{})
	}
	return &d.blocks[i]
}

func (d *StreamDecoder) blockStart(w *wireEvent) (*llm.Chunk, error) {
	var b wireBlock
	if err := json.Unmarshal(w.ContentBlock, &b); err != nil {
		return nil, fmt.Errorf("anthropic: decode content_block_start: %w", err)
	}
	st := d.block(w.Index)
	switch b.Type {
	case "text":
		st.kind = blockText
		if b.Text == "" {
			return nil, nil
		}
		return d.chunk(llm.Message{Content: []llm.Part{llm.TextPart(b.Text)}}), nil
	case "thinking":
		st.kind = blockThinking
		if b.Thinking == "" && b.Signature == "" {
			return nil, nil
		}
		return d.chunk(llm.Message{Content: []llm.Part{{Type: llm.PartThinking, Text: b.Thinking, Signature: b.Signature}}}), nil
	case "redacted_thinking":
		st.kind = blockOther
		return d.chunk(llm.Message{Content: []llm.Part{{Type: llm.PartRedactedThinking, Data: b.Data}}}), nil
	case "tool_use":
		st.kind, st.tool = blockTool, d.tools
		d.tools++
		return d.chunk(llm.Message{ToolCalls: []llm.ToolCall{{Index: st.tool, ID: b.ID, Type: "function", Name: b.Name}}}), nil
	}
	// Server tool use and results: whole at content_block_stop.
	st.kind = blockServer
	st.raw = append(st.raw[:0], w.ContentBlock...)
	st.input = st.input[:0]
	return nil, nil
}

func (d *StreamDecoder) blockDelta(w *wireEvent) *llm.Chunk {
	st := d.block(w.Index)
	switch w.Delta.Type {
	case "text_delta":
		return d.chunk(llm.Message{Content: []llm.Part{llm.TextPart(w.Delta.Text)}})
	case "thinking_delta":
		return d.chunk(llm.Message{Content: []llm.Part{{Type: llm.PartThinking, Text: w.Delta.Thinking}}})
	case "signature_delta":
		return d.chunk(llm.Message{Content: []llm.Part{{Type: llm.PartThinking, Signature: w.Delta.Signature}}})
	case "input_json_delta":
		switch st.kind {
		case blockTool:
			if w.Delta.PartialJSON == "" {
				return nil
			}
			return d.chunk(llm.Message{ToolCalls: []llm.ToolCall{{Index: st.tool, Arguments: w.Delta.PartialJSON}}})
		case blockServer:
			st.input = append(st.input, w.Delta.PartialJSON...)
		}
	}
	return nil // citations_delta and deltas yet unknown
}

// blockStop emits a server tool block, whole, with its streamed input.
func (d *StreamDecoder) blockStop(w *wireEvent) (*llm.Chunk, error) {
	st := d.block(w.Index)
	if st.kind != blockServer {
		return nil, nil
	}
	raw := st.raw
	if len(st.input) > 0 {
		var err error
		if raw, err = sjson.SetRawBytes(raw, "input", st.input); err != nil {
			return nil, fmt.Errorf("anthropic: decode server tool input: %w", err)
		}
	} else {
		raw = append([]byte(nil), raw...)
	}
	st.kind = blockNone
	return d.chunk(llm.Message{Content: []llm.Part{{Type: llm.PartOther, Raw: raw}}, ExtraProtocol: Protocol}), nil
}
