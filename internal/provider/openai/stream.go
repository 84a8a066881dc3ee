package openai

import (
	"bytes"
	"context"

	"github.com/llmgw/llmgw/internal/llm"
	protocol "github.com/llmgw/llmgw/internal/protocol/openai"
	"github.com/llmgw/llmgw/internal/provider"
	"github.com/llmgw/llmgw/internal/sse"
)

// stream is an llm.Stream over an upstream's text/event-stream body.
//
// Forward's chunks are one chunk, reused by every Recv that returns one, as
// llm.Stream allows: a relay writes each before it asks for the next, and so
// a stream costs no allocation per event. Its Raw is a copy in the stream's
// own buffer, not the SSE reader's, so that reading [DONE] or an error after
// the last chunk leaves that chunk intact.
type stream struct {
	provider.EventStream
	p     *Provider
	raw   bool      // Forward: chunks carry the upstream bytes
	chunk llm.Chunk // Forward's chunk
	buf   []byte    // chunk.Raw's storage
	usage llm.Usage // *chunk.Usage

	// rawProtocol is the RawProtocol of Forward's chunks.
	rawProtocol string
}

// openStream posts body to url and returns a stream over the answer. raw selects
// Forward's chunks (upstream bytes plus scanned usage) over decoded ones.
func (p *Provider) openStream(ctx context.Context, url string, body []byte, raw bool) (llm.Stream, error) {
	s := &stream{p: p, raw: raw, rawProtocol: protocol.Protocol}
	if err := s.Open(ctx, p.up, url, body); err != nil {
		return nil, err
	}
	return s, nil
}

// Recv implements llm.Stream.
func (s *stream) Recv() (*llm.Chunk, error) {
	_, data, err := s.Next()
	if err != nil {
		return nil, err
	}
	if sse.IsDone(data) {
		return nil, s.End()
	}
	c, err := s.decode(data)
	if err != nil {
		return nil, s.Fail(err)
	}
	if c.Usage != nil {
		s.SetUsage(*c.Usage)
	}
	return c, nil
}

func (s *stream) decode(data []byte) (*llm.Chunk, error) {
	if !s.raw || isErrorPayload(data) {
		c, err := protocol.DecodeChunk(data)
		if err != nil {
			return nil, s.p.decodeError(err, "the upstream sent a malformed stream event")
		}
		return c, nil
	}
	s.buf = append(s.buf[:0], data...)
	c := &s.chunk
	*c = llm.Chunk{Raw: s.buf[:len(s.buf):len(s.buf)], RawProtocol: s.rawProtocol}
	if hasUsageObject(data) {
		if u, ok := protocol.ScanUsage(c.Raw); ok {
			s.usage = u
			c.Usage = &s.usage
		}
	}
	return c, nil
}

// usageKey is the member name ScanUsage looks for. In JSON text the bytes
// "usage" with both quotes unescaped can only be a member name or a string
// value, never a part of a longer string.
const usageKey = `"usage"`

// usageKeyG is the offset of the 'g' in usageKey.
const usageKeyG = 4

// hasUsageObject reports whether data may carry a usage object: some
// "usage" followed by a colon and an opening brace. It is a cheap filter in
// front of ScanUsage, which parses the JSON: most stream events carry no
// usage, or "usage":null. It looks for the key's 'g', a rare byte in stream
// events, where bytes.Index would stop at the quote that starts every
// string of the event.
func hasUsageObject(data []byte) bool {
	for k := usageKeyG; k < len(data); k++ {
		j := bytes.IndexByte(data[k:], 'g')
		if j < 0 {
			return false
		}
		k += j
		end := k - usageKeyG + len(usageKey)
		if end <= len(data) && string(data[k-usageKeyG:end]) == usageKey {
			if objectValue(data[end:]) {
				return true
			}
			k = end + usageKeyG - 1 // the next key starts after this one
		}
	}
	return false
}

// objectValue reports whether rest, the text after a member name, begins
// with a colon and an opening brace, with JSON white space before each.
func objectValue(rest []byte) bool {
	rest = trimSpace(rest)
	if len(rest) == 0 || rest[0] != ':' {
		return false
	}
	rest = trimSpace(rest[1:])
	return len(rest) > 0 && rest[0] == '{'
}

// trimSpace returns b without its leading JSON white space.
func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	return b
}

// isErrorPayload reports whether an event payload is an error object
// ({"error": ...}), without scanning the rest of it.
func isErrorPayload(data []byte) bool {
	if len(data) == 0 || data[0] != '{' {
		return false
	}
	return bytes.HasPrefix(trimSpace(data[1:]), []byte(`"error"`))
}
