package conformance

import (
	"strings"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// deltaBlock is the content block type each delta type belongs to.
var deltaBlock = map[string]string{
	"text_delta":       "text",
	"input_json_delta": "tool_use",
	"thinking_delta":   "thinking",
	"signature_delta":  "thinking",
}

// anthropicStream is the state of an Anthropic event sequence being checked.
type anthropicStream struct {
	r        *Result
	started  bool
	open     int // index of the open block, -1 when none
	next     int // index the next block must have
	blockTyp string
	call     *ToolCall
	input    strings.Builder
	stopped  bool // message_delta seen
	ended    bool
}

// parseAnthropicStream assembles a Messages event stream and checks the exact
// sequence: message_start first; each block's content_block_start, deltas of
// its own type and content_block_stop, indexes in order; message_delta with
// the stop reason once every block is closed; message_stop last; ping
// anywhere after message_start; nothing after an error event; every event's
// type line equal to its data's type.
func parseAnthropicStream(r *Result, body []byte) {
	s := &anthropicStream{r: r, open: -1}
	for _, ev := range providertest.Events(body) {
		if s.ended {
			r.violate("event %q after the end of the stream", ev.Type)
			break
		}
		d := gjson.ParseBytes(ev.Data)
		if typ := d.Get("type").String(); typ != ev.Type {
			r.violate("event line %q but data type %q", ev.Type, typ)
		}
		if !s.started && ev.Type != "message_start" && ev.Type != "error" {
			r.violate("%s before message_start", ev.Type)
		}
		s.event(ev.Type, d)
	}
}

func (s *anthropicStream) event(typ string, d gjson.Result) {
	r := s.r
	switch typ {
	case "message_start":
		m := d.Get("message")
		if s.started || m.Get("role").String() != "assistant" || m.Get("id").String() == "" || !m.Get("usage").IsObject() {
			r.violate("bad or repeated message_start: %s", d.Raw)
		}
		s.started = true
		r.StartInput = int(m.Get("usage.input_tokens").Int())
		r.Usage = anthropicUsage(m.Get("usage"), r.Usage)
	case "ping":
	case "content_block_start":
		s.blockStart(d)
	case "content_block_delta":
		s.blockDelta(d)
	case "content_block_stop":
		if int(d.Get("index").Int()) != s.open {
			r.violate("content_block_stop %d while block %d is open", d.Get("index").Int(), s.open)
		}
		if s.call != nil {
			s.call.Args = parseArgs(r, s.input.String())
			r.ToolCalls = append(r.ToolCalls, *s.call)
			s.call = nil
		}
		s.open = -1
	case "message_delta":
		if s.open >= 0 || s.stopped {
			r.violate("message_delta with block %d open or repeated", s.open)
		}
		s.stopped = true
		r.Stop = d.Get("delta.stop_reason").String()
		r.StopSequence = d.Get("delta.stop_sequence").String()
		if !d.Get("usage.output_tokens").Exists() {
			r.violate("message_delta without usage.output_tokens")
		}
		r.Usage = anthropicUsage(d.Get("usage"), r.Usage)
	case "message_stop":
		if !s.stopped {
			r.violate("message_stop without message_delta")
		}
		r.Terminated, s.ended = true, true
	case "error":
		r.StreamError, s.ended = d.Get("error.type").String(), true
	default:
		r.violate("unknown event %q", typ)
	}
}

func (s *anthropicStream) blockStart(d gjson.Result) {
	r := s.r
	i := int(d.Get("index").Int())
	if s.open >= 0 || i != s.next {
		r.violate("content_block_start %d with block %d open, want index %d", i, s.open, s.next)
	}
	s.open, s.next = i, i+1
	b := d.Get("content_block")
	s.blockTyp = b.Get("type").String()
	switch s.blockTyp {
	case "text":
		r.Text += b.Get("text").String()
	case "thinking":
		r.Thinking += b.Get("thinking").String()
	case "tool_use":
		if b.Get("id").String() == "" || b.Get("name").String() == "" || !b.Get("input").IsObject() {
			r.violate("tool_use block start lacks id, name or input: %s", b.Raw)
		}
		s.call = &ToolCall{ID: b.Get("id").String(), Name: b.Get("name").String()}
		s.input.Reset()
	default:
		r.violate("unknown block type %q", s.blockTyp)
	}
}

func (s *anthropicStream) blockDelta(d gjson.Result) {
	r := s.r
	if i := int(d.Get("index").Int()); i != s.open {
		r.violate("content_block_delta %d while block %d is open", i, s.open)
	}
	delta := d.Get("delta")
	dt := delta.Get("type").String()
	if deltaBlock[dt] != s.blockTyp {
		r.violate("%s in a %s block", dt, s.blockTyp)
	}
	switch dt {
	case "text_delta":
		r.Text += delta.Get("text").String()
	case "thinking_delta":
		r.Thinking += delta.Get("thinking").String()
	case "signature_delta":
		r.Signature += delta.Get("signature").String()
	case "input_json_delta":
		s.input.WriteString(delta.Get("partial_json").String())
	}
}
