package server

import (
	"encoding/binary"
	"io"
	"sync"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/anthropic"
	"github.com/llmgw/llmgw/internal/protocol/openai"
	"github.com/llmgw/llmgw/internal/protocol/responses"
	"github.com/llmgw/llmgw/internal/tokens"
)

// maxDelivered bounds what a stream keeps of its delivered output: beyond
// it only the number of bytes is kept, and the count of what was kept is
// scaled by it.
const maxDelivered = 1 << 20

// deliveredBufs recycles the buffers of delivered, so that keeping a
// stream's output costs a copy of its bytes and no allocation. It is
// process state, emptied by the garbage collector.
var deliveredBufs = sync.Pool{New: func() any { return new([]byte) }}

// delivered wraps the stream a handler relays to its client and keeps what
// the client was given, so that a stream cut short before the upstream
// reported its usage is billed for what it delivered (see estimateCut). A
// chunk counts as delivered once the handler asks for the next one, or for
// the end: a handler stops asking when a write to its client fails.
//
// What it keeps is a copy, in a pooled buffer, of each delivered chunk's
// text (content, reasoning, refusal, tool call arguments) or, for a chunk
// forwarded as the upstream sent it, of its bytes (length-prefixed), which
// are decoded only if the stream is cut. A stream that ends normally never
// reads them: the cost on its path is the copy.
type delivered struct {
	llm.Stream
	prev *llm.Chunk // handed out last, not yet known to be delivered
	buf  *[]byte    // texts and raw payloads, at most maxDelivered bytes
	over int64      // bytes beyond maxDelivered, not kept
	// rawProtocol is the protocol of the raw payloads in buf.
	rawProtocol string
	// began: a chunk was handed out; ended: io.EOF was.
	began, ended bool
	// stale: a chunk was delivered after the last one that carried usage
	// was received (or none carried any): what the upstream reported, if
	// anything, does not cover the whole output.
	stale bool
}

// Recv implements llm.Stream.
func (d *delivered) Recv() (*llm.Chunk, error) {
	if d.prev != nil {
		d.keep(d.prev)
		d.prev = nil
	}
	c, err := d.Stream.Recv()
	switch {
	case err == io.EOF:
		d.ended = true
	case err == nil && c != nil:
		d.prev, d.began = c, true
		if c.Usage != nil {
			d.stale = false // the report covers what came before it
		}
	}
	return c, err
}

// Buffered passes on whether the next chunk is in hand.
func (d *delivered) Buffered() bool { return llm.NextBuffered(d.Stream) }

// Kinds of the entries of delivered.buf.
const (
	entryText = iota
	entryRaw
)

// keep adds a delivered chunk.
func (d *delivered) keep(c *llm.Chunk) {
	if c.Usage == nil {
		d.stale = true
	}
	if c.Raw != nil {
		d.rawProtocol = c.RawProtocol
		add(d, entryRaw, c.Raw)
		return
	}
	eachText(c, func(s string) { add(d, entryText, s) })
}

// eachText calls fn with each text of c that the model generated: content
// and reasoning, refusal, tool call arguments.
func eachText(c *llm.Chunk, fn func(string)) {
	for i := range c.Choices {
		m := &c.Choices[i].Message
		for j := range m.Content {
			if p := &m.Content[j]; (p.Type == llm.PartText || p.Type == llm.PartThinking) && p.Text != "" {
				fn(p.Text)
			}
		}
		if m.Refusal != "" {
			fn(m.Refusal)
		}
		for j := range m.ToolCalls {
			if a := m.ToolCalls[j].Arguments; a != "" {
				fn(a)
			}
		}
	}
}

// add appends one entry to d's buffer, its kind and length first, or
// counts its bytes when it does not fit.
func add[T string | []byte](d *delivered, kind byte, b T) {
	if d.buf == nil {
		d.buf = deliveredBufs.Get().(*[]byte)
	}
	buf := *d.buf
	if len(buf)+len(b)+binary.MaxVarintLen64+1 > maxDelivered {
		d.over += int64(len(b))
		return
	}
	buf = binary.AppendUvarint(append(buf, kind), uint64(len(b)))
	*d.buf = append(buf, b...)
}

// release returns the buffer to the pool.
func (d *delivered) release() {
	if d.buf == nil {
		return
	}
	*d.buf = (*d.buf)[:0]
	deliveredBufs.Put(d.buf)
	d.buf = nil
}

// text returns the text delivered: the kept texts, and those of the kept
// raw payloads decoded in their protocol; and the fraction of the
// delivered bytes it holds (1 unless some were beyond maxDelivered).
func (d *delivered) text() (string, float64) {
	if d.buf == nil {
		return "", 1
	}
	var out []byte
	appendText := func(s string) { out = append(out, s...) }
	var dec *anthropic.StreamDecoder
	b := *d.buf
	for len(b) > 0 {
		kind := b[0]
		n, k := binary.Uvarint(b[1:])
		if k <= 0 || uint64(len(b)-1-k) < n {
			break // not reached: add writes whole entries
		}
		entry := b[1+k : 1+k+int(n)]
		b = b[1+k+int(n):]
		if kind == entryText {
			out = append(out, entry...)
			continue
		}
		var c *llm.Chunk
		switch d.rawProtocol {
		case openai.CompletionsProtocol:
			out = append(out, openai.CompletionText(entry)...)
		case openai.Protocol:
			c, _ = openai.DecodeChunk(entry)
		case anthropic.Protocol:
			if dec == nil {
				dec = anthropic.NewStreamDecoder()
			}
			c, _ = dec.Decode("", entry)
		case responses.Protocol:
			responsesEventText(entry, appendText)
		}
		if c != nil {
			eachText(c, appendText)
		}
	}
	kept := len(*d.buf)
	if d.over == 0 || kept == 0 {
		return string(out), 1
	}
	return string(out), float64(kept) / float64(int64(kept)+d.over)
}

// estimateCut returns the usage to bill for a stream that ended early
// (its client went away, or its upstream was cut) and whether any of it is
// the gateway's estimate rather than the upstream's report. Upstreams
// report usage at the end (OpenAI) or cumulatively (Anthropic, whose
// message_start counts the input and barely any output), so a cut stream's
// report lacks the output, often the input too. The input the upstream did
// not report is counted from the request, as admission counts it; the
// output is counted from the text delivered. A count the upstream reported
// is never lowered: the output billed is the larger of the two when output
// was delivered after the last report.
func estimateCut(ri *reqInfo, u llm.Usage) (llm.Usage, bool) {
	d := &ri.out
	if ri.call == nil || !d.began || d.ended {
		return u, false
	}
	if u.PromptTokens > 0 && !d.stale {
		return u, false // the last chunk delivered carried the upstream's report
	}
	typ := providerType(ri.snap.Config, ri.provider)
	estimated := false
	if n := ri.call.Native; u.PromptTokens <= 0 && n != nil {
		u.PromptTokens = n.Prompt(func(text string) int {
			c, _ := tokens.CountText(text, typ, ri.upstreamModel)
			return c
		})
		estimated = true
	} else if u.PromptTokens <= 0 {
		if req, err := ri.call.Decoded(); err == nil {
			if n, _ := tokens.Count(req, typ, ri.upstreamModel); n > 0 {
				u.PromptTokens, estimated = n, true
			}
		}
	}
	if d.stale {
		text, frac := d.text()
		n, _ := tokens.CountText(text, typ, ri.upstreamModel)
		if frac < 1 {
			n = int(float64(n)/frac + 0.5)
		}
		if n > u.CompletionTokens {
			u.CompletionTokens, estimated = n, true
		}
	}
	if estimated {
		u.TotalTokens = u.PromptTokens + u.CompletionTokens
	}
	return u, estimated
}

// providerType returns the type of the provider called name.
func providerType(cfg *config.Config, name string) string {
	for i := range cfg.Providers {
		if cfg.Providers[i].Name == name {
			return cfg.Providers[i].Type
		}
	}
	return ""
}
