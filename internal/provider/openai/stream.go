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
type stream struct {
	provider.EventStream
	p   *Provider
	raw bool // Forward: chunks carry the upstream bytes
}

// openStream posts body and returns a stream over the answer. raw selects
// Forward's chunks (upstream bytes plus scanned usage) over decoded ones.
func (p *Provider) openStream(ctx context.Context, body []byte, raw bool) (llm.Stream, error) {
	s := &stream{p: p, raw: raw}
	if err := s.Open(ctx, p.up, p.chatURL, body); err != nil {
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
	c := &llm.Chunk{Raw: bytes.Clone(data), RawProtocol: protocol.Protocol}
	if hasUsageObject(data) {
		if u, ok := protocol.ScanUsage(c.Raw); ok {
			c.Usage = &u
		}
	}
	return c, nil
}

// usageKey is the member name ScanUsage looks for. In JSON text the bytes
// "usage" with both quotes unescaped can only be a member name or a string
// value, never a part of a longer string.
var usageKey = []byte(`"usage"`)

// jsonSpace is JSON's insignificant white space.
const jsonSpace = " \t\r\n"

// hasUsageObject reports whether data may carry a usage object: some
// "usage" followed by a colon and an opening brace. It is a cheap filter in
// front of ScanUsage, which parses the JSON: most stream events carry no
// usage, or "usage":null.
func hasUsageObject(data []byte) bool {
	for {
		i := bytes.Index(data, usageKey)
		if i < 0 {
			return false
		}
		data = data[i+len(usageKey):]
		rest, ok := bytes.CutPrefix(bytes.TrimLeft(data, jsonSpace), []byte(":"))
		if ok {
			if rest = bytes.TrimLeft(rest, jsonSpace); len(rest) > 0 && rest[0] == '{' {
				return true
			}
		}
	}
}

// isErrorPayload reports whether an event payload is an error object
// ({"error": ...}), without scanning the rest of it.
func isErrorPayload(data []byte) bool {
	rest, ok := bytes.CutPrefix(data, []byte("{"))
	if !ok {
		return false
	}
	return bytes.HasPrefix(bytes.TrimLeft(rest, " \t\r\n"), []byte(`"error"`))
}
