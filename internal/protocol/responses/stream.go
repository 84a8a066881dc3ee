package responses

import (
	"encoding/json"
	"errors"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
)

// Emit receives one stream event: its type, which is the SSE event name, and
// its JSON data. data is valid only until Emit returns. sse.Writer's
// WriteEvent is one, framing each as "event: <type>\ndata: <json>\n\n".
type Emit func(event string, data []byte) error

// errEnded is returned for a call on an encoder whose stream has ended.
var errEnded = errors.New("responses: the stream has already ended")

// StreamEncoder turns the chunks of any upstream into the Responses API's
// stream events, in the order the reference gives them:
//
//	response.created, response.in_progress
//	for each output item:
//	  response.output_item.added
//	  reasoning: response.reasoning_summary_part.added,
//	             response.reasoning_summary_text.delta...,
//	             response.reasoning_summary_text.done,
//	             response.reasoning_summary_part.done
//	  message:   response.content_part.added,
//	             response.output_text.delta... (or response.refusal.delta...),
//	             response.output_text.done (or response.refusal.done),
//	             response.content_part.done
//	  function_call: response.function_call_arguments.delta...,
//	             response.function_call_arguments.done
//	  response.output_item.done
//	response.completed, or response.incomplete (finish reason length or
//	content_filter), or response.failed (Fail)
//
// Every event carries its type and a sequence_number counting from 0. No
// "[DONE]" follows the last event: a Responses stream ends with its
// terminal event.
//
// Thinking, text and refusal deltas go to one open item at a time, which
// closes when an item of another kind begins. Each tool call, told apart by
// its canonical Index, is an item of its own and stays open until the end, so
// that parallel calls may interleave; at the end the open items close in
// output order. A StreamEncoder is not safe for concurrent use.
type StreamEncoder struct {
	out     output
	emit    Emit
	seq     int64
	started bool
	ended   bool
	// modelSet is set once a chunk named the model.
	modelSet bool
	cur      *outItem // the open reasoning or message item
	calls    map[int]*outItem
	closed   []bool // per output index
	reason   llm.FinishReason
	final    []byte
	buf      []byte
}

// NewStreamEncoder returns an encoder for the response meta describes.
func NewStreamEncoder(meta *Meta) *StreamEncoder {
	e := &StreamEncoder{buf: make([]byte, 0, 512)}
	e.out.meta = meta
	e.out.status = statusInProgress
	e.out.model = responseModel(nil, meta)
	return e
}

// Encode emits the events of one chunk; the first call emits
// response.created and response.in_progress first. Only the chunk's first
// choice is read: a response has one output. Only the canonical fields are
// read: an upstream's own Responses events (Raw in this Protocol) are the
// native forward's to pass through, not this encoder's.
func (e *StreamEncoder) Encode(c *llm.Chunk, emit Emit) error {
	if e.ended {
		return errEnded
	}
	e.emit = emit
	defer func() { e.emit = nil }()
	return e.add(c)
}

func (e *StreamEncoder) add(c *llm.Chunk) error {
	if c.Model != "" && !e.modelSet {
		e.out.model, e.modelSet = c.Model, true
	}
	if err := e.start(); err != nil {
		return err
	}
	if c.Usage != nil {
		u := *c.Usage
		e.out.usage = &u
	}
	ch := firstChoice(c)
	if ch == nil {
		return nil
	}
	lps := chatLogprobs(ch.Logprobs)
	m := &ch.Message
	for i := range m.Content {
		var err error
		switch p := &m.Content[i]; p.Type {
		case llm.PartThinking:
			err = e.thinking(p.Text, p.Signature)
		case llm.PartRedactedThinking:
			err = e.redacted(p.Data)
		case llm.PartText:
			err, lps = e.text(p.Text, lps, false), nil
		}
		if err != nil {
			return err
		}
	}
	if m.Refusal != "" {
		if err := e.text(m.Refusal, nil, true); err != nil {
			return err
		}
	}
	for i := range m.ToolCalls {
		if err := e.toolCall(&m.ToolCalls[i]); err != nil {
			return err
		}
	}
	if ch.FinishReason != "" {
		e.reason = ch.FinishReason
	}
	return nil
}

// Finish closes the open items and emits the terminal event:
// response.completed, or response.incomplete when the finish reason was
// length or content_filter.
func (e *StreamEncoder) Finish(emit Emit) error {
	if e.ended {
		return errEnded
	}
	e.emit = emit
	defer func() { e.emit = nil }()
	if err := e.start(); err != nil {
		return err
	}
	e.ended = true
	e.out.finish(e.reason)
	e.cur = nil
	for n, it := range e.out.items {
		if !e.closed[n] {
			if err := e.closeItem(it, n); err != nil {
				return err
			}
		}
	}
	e.final = e.out.appendResponse(make([]byte, 0, 1024))
	typ := "response.completed"
	if e.out.status == statusIncomplete {
		typ = "response.incomplete"
	}
	return e.sendResponse(typ)
}

// Fail ends the stream with a response.failed event whose response has
// status failed and error {code, message}: the code is the reference's
// (rate_limit_exceeded, invalid_prompt or server_error) and the message the
// error's client-safe one. Items still open are kept in the response's
// output as incomplete, without events of their own. The reference's
// separate "error" event, for a stream that fails without a response, is not
// sent: the failure here is the response's.
func (e *StreamEncoder) Fail(err *llm.Error, emit Emit) error {
	if e.ended {
		return errEnded
	}
	e.emit = emit
	defer func() { e.emit = nil }()
	if serr := e.start(); serr != nil {
		return serr
	}
	e.ended = true
	for n, it := range e.out.items {
		if !e.closed[n] {
			it.status = statusIncomplete
		}
	}
	e.out.status = statusFailed
	e.out.err = err
	if err == nil {
		e.out.err = &llm.Error{Kind: llm.KindInternal}
	}
	e.final = e.out.appendResponse(make([]byte, 0, 1024))
	return e.sendResponse("response.failed")
}

// Response returns the final response object once Finish or Fail has run,
// nil before: the bytes of the terminal event's response, and for the same
// content the bytes EncodeResponse gives.
func (e *StreamEncoder) Response() []byte { return e.final }

// start emits response.created and response.in_progress, once.
func (e *StreamEncoder) start() error {
	if e.started {
		return nil
	}
	e.started = true
	if e.emit == nil {
		return nil
	}
	e.final = e.out.appendResponse(e.final[:0])
	if err := e.sendResponse("response.created"); err != nil {
		return err
	}
	err := e.sendResponse("response.in_progress")
	e.final = e.final[:0]
	return err
}

// sendResponse emits an event that carries the response object, e.final.
func (e *StreamEncoder) sendResponse(typ string) error {
	if e.emit == nil {
		return nil
	}
	b := e.begin(typ)
	b = append(b, `,"response":`...)
	b = append(b, e.final...)
	return e.send(typ, b)
}

// begin starts an event's data with its type.
func (e *StreamEncoder) begin(typ string) []byte {
	b := append(e.buf[:0], `{"type":"`...)
	b = append(b, typ...)
	return append(b, '"')
}

// send ends an event's data with its sequence number and emits it.
func (e *StreamEncoder) send(typ string, b []byte) error {
	b = jsonwire.AppendIntField(b, "sequence_number", e.seq)
	b = append(b, '}')
	e.seq++
	e.buf = b
	return e.emit(typ, b)
}

// ref appends the item_id and output_index of item n.
func ref(b []byte, it *outItem, n int) []byte {
	b = jsonwire.AppendStringField(b, "item_id", it.id)
	return jsonwire.AppendIntField(b, "output_index", int64(n))
}

// open starts a new item, closing the open reasoning or message item.
func (e *StreamEncoder) open(kind itemKind) (*outItem, int, error) {
	if err := e.closeCur(); err != nil {
		return nil, 0, err
	}
	it := e.out.newItem(kind)
	n := len(e.out.items) - 1
	e.closed = append(e.closed, false)
	if e.emit == nil {
		return it, n, nil
	}
	b := e.begin("response.output_item.added")
	b = jsonwire.AppendIntField(b, "output_index", int64(n))
	b = append(b, `,"item":`...)
	b = appendItem(b, it, false)
	return it, n, e.send("response.output_item.added", b)
}

func (e *StreamEncoder) closeCur() error {
	if e.cur == nil {
		return nil
	}
	it := e.cur
	e.cur = nil
	it.status = statusCompleted
	return e.closeItem(it, e.index(it))
}

// index returns the output index of it, counting from the end, where the
// open item is.
func (e *StreamEncoder) index(it *outItem) int {
	for n := len(e.out.items) - 1; n >= 0; n-- {
		if e.out.items[n] == it {
			return n
		}
	}
	return -1
}

// closeItem emits the done events of item n.
func (e *StreamEncoder) closeItem(it *outItem, n int) error {
	e.closed[n] = true
	if e.emit == nil {
		return nil
	}
	var err error
	switch it.kind {
	case itemReasoning:
		err = e.closeSummary(it, n)
	case itemMessage:
		err = e.closeParts(it, n, len(it.parts))
	case itemCall:
		b := e.begin("response.function_call_arguments.done")
		b = ref(b, it, n)
		b = jsonwire.AppendStringField(b, "name", it.name)
		b = jsonwire.AppendStringField(b, "arguments", it.args.String())
		err = e.send("response.function_call_arguments.done", b)
	}
	if err != nil {
		return err
	}
	b := e.begin("response.output_item.done")
	b = jsonwire.AppendIntField(b, "output_index", int64(n))
	b = append(b, `,"item":`...)
	b = appendItem(b, it, e.out.includes(IncludeReasoningEncrypted))
	return e.send("response.output_item.done", b)
}

func (e *StreamEncoder) closeSummary(it *outItem, n int) error {
	if it.text.Len() == 0 {
		return nil
	}
	b := e.begin("response.reasoning_summary_text.done")
	b = ref(b, it, n)
	b = append(b, `,"summary_index":0,"text":`...)
	b = jsonwire.AppendString(b, it.text.String())
	if err := e.send("response.reasoning_summary_text.done", b); err != nil {
		return err
	}
	b = e.begin("response.reasoning_summary_part.done")
	b = ref(b, it, n)
	b = append(b, `,"summary_index":0,"part":{"type":"summary_text","text":`...)
	b = jsonwire.AppendString(b, it.text.String())
	b = append(b, '}')
	return e.send("response.reasoning_summary_part.done", b)
}

// closeParts emits the done events of the message's parts before part end
// that are still open.
func (e *StreamEncoder) closeParts(it *outItem, n, end int) error {
	for ; it.partsDone < end; it.partsDone++ {
		if err := e.closePart(it, n, it.partsDone, it.parts[it.partsDone]); err != nil {
			return err
		}
	}
	return nil
}

func (e *StreamEncoder) closePart(it *outItem, n, k int, p *outPart) error {
	typ := "response.output_text.done"
	if p.refusal {
		typ = "response.refusal.done"
	}
	b := e.begin(typ)
	b = ref(b, it, n)
	b = jsonwire.AppendIntField(b, "content_index", int64(k))
	if p.refusal {
		b = jsonwire.AppendStringField(b, "refusal", p.text.String())
	} else {
		b = jsonwire.AppendStringField(b, "text", p.text.String())
		b = append(b, `,"logprobs":`...)
		b = appendLogprobs(b, p.logprobs)
	}
	if err := e.send(typ, b); err != nil {
		return err
	}
	b = e.begin("response.content_part.done")
	b = ref(b, it, n)
	b = jsonwire.AppendIntField(b, "content_index", int64(k))
	b = append(b, `,"part":`...)
	b = appendPart(b, p)
	return e.send("response.content_part.done", b)
}

// thinking adds a thinking delta to the open reasoning item.
func (e *StreamEncoder) thinking(text, signature string) error {
	if text == "" && signature == "" {
		return nil
	}
	it := e.cur
	if it == nil || it.kind != itemReasoning || it.redacted {
		var err error
		if it, _, err = e.open(itemReasoning); err != nil {
			return err
		}
		e.cur = it
	}
	it.signature += signature
	if text == "" {
		return nil
	}
	first := it.text.Len() == 0
	it.text.WriteString(text)
	if e.emit == nil {
		return nil
	}
	n := e.index(it)
	if first {
		b := e.begin("response.reasoning_summary_part.added")
		b = ref(b, it, n)
		b = append(b, `,"summary_index":0,"part":{"type":"summary_text","text":""}`...)
		if err := e.send("response.reasoning_summary_part.added", b); err != nil {
			return err
		}
	}
	b := e.begin("response.reasoning_summary_text.delta")
	b = ref(b, it, n)
	b = append(b, `,"summary_index":0,"delta":`...)
	b = jsonwire.AppendString(b, text)
	return e.send("response.reasoning_summary_text.delta", b)
}

// redacted adds a redacted thinking part as a reasoning item of its own:
// no summary, and the part's opaque data as its encrypted content.
func (e *StreamEncoder) redacted(data string) error {
	it, _, err := e.open(itemReasoning)
	if err != nil {
		return err
	}
	it.redacted = true
	it.signature = data
	e.cur = it
	return nil
}

// text adds a text (or refusal) delta and its log probabilities to the open
// message item.
func (e *StreamEncoder) text(text string, lps []json.RawMessage, refusal bool) error {
	if text == "" && len(lps) == 0 {
		return nil
	}
	it := e.cur
	if it == nil || it.kind != itemMessage {
		var err error
		if it, _, err = e.open(itemMessage); err != nil {
			return err
		}
		e.cur = it
	}
	k := len(it.parts)
	p := it.lastPart(refusal)
	isNew := len(it.parts) > k
	p.text.WriteString(text)
	p.logprobs = append(p.logprobs, lps...)
	if e.emit == nil {
		return nil
	}
	n := e.index(it)
	k = len(it.parts) - 1
	if isNew {
		// A part of the other kind begins: the one before it is done.
		if err := e.closeParts(it, n, k); err != nil {
			return err
		}
		b := e.begin("response.content_part.added")
		b = ref(b, it, n)
		b = jsonwire.AppendIntField(b, "content_index", int64(k))
		b = append(b, `,"part":`...)
		b = appendPart(b, &outPart{refusal: refusal})
		if err := e.send("response.content_part.added", b); err != nil {
			return err
		}
	}
	typ := "response.output_text.delta"
	if refusal {
		typ = "response.refusal.delta"
	}
	b := e.begin(typ)
	b = ref(b, it, n)
	b = jsonwire.AppendIntField(b, "content_index", int64(k))
	b = jsonwire.AppendStringField(b, "delta", text)
	if !refusal {
		b = append(b, `,"logprobs":`...)
		b = appendLogprobs(b, lps)
	}
	return e.send(typ, b)
}

// toolCall adds a tool call delta to the function_call item of its Index.
func (e *StreamEncoder) toolCall(tc *llm.ToolCall) error {
	it, ok := e.calls[tc.Index]
	if !ok {
		if err := e.closeCur(); err != nil {
			return err
		}
		n := len(e.out.items)
		callID := tc.ID
		if callID == "" {
			callID = itemID(e.out.meta, "call", n)
		}
		// The item is announced with its call_id and name, which the
		// first delta of a call carries.
		it = &outItem{kind: itemCall, id: itemID(e.out.meta, "fc", n), status: statusInProgress, callID: callID, name: tc.Name}
		if err := e.openCall(it); err != nil {
			return err
		}
		if e.calls == nil {
			e.calls = make(map[int]*outItem)
		}
		e.calls[tc.Index] = it
	} else if it.name == "" {
		it.name = tc.Name
	}
	if tc.Arguments == "" {
		return nil
	}
	it.args.WriteString(tc.Arguments)
	if e.emit == nil {
		return nil
	}
	b := e.begin("response.function_call_arguments.delta")
	b = ref(b, it, e.index(it))
	b = jsonwire.AppendStringField(b, "delta", tc.Arguments)
	return e.send("response.function_call_arguments.delta", b)
}

// openCall appends a prepared function_call item and announces it.
func (e *StreamEncoder) openCall(it *outItem) error {
	e.out.items = append(e.out.items, it)
	e.closed = append(e.closed, false)
	if e.emit == nil {
		return nil
	}
	b := e.begin("response.output_item.added")
	b = jsonwire.AppendIntField(b, "output_index", int64(len(e.out.items)-1))
	b = append(b, `,"item":`...)
	b = appendItem(b, it, false)
	return e.send("response.output_item.added", b)
}
