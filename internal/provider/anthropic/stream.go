package anthropic

import (
	"bytes"
	"context"
	"io"

	"github.com/llmgw/llmgw/internal/llm"
	protocol "github.com/llmgw/llmgw/internal/protocol/anthropic"
	"github.com/llmgw/llmgw/internal/provider"
)

// Stream event types the adapter itself looks at.
const (
	eventError       = "error"
	eventMessageStop = "message_stop"
)

// stream is an llm.Stream over a Messages text/event-stream body. In raw
// mode (Forward) each event's data is handed on as it came; otherwise the
// events are decoded into canonical chunks.
type stream struct {
	provider.EventStream
	p    *Provider
	raw  bool
	dec  *protocol.StreamDecoder // decoded mode
	scan protocol.UsageScanner   // raw mode
}

// openStream posts body to url and returns a stream over the answer.
func (p *Provider) openStream(ctx context.Context, url string, body []byte, raw bool) (llm.Stream, error) {
	s := &stream{p: p, raw: raw}
	if err := s.Open(ctx, p.up, url, body); err != nil {
		return nil, err
	}
	if !raw {
		s.dec = protocol.NewStreamDecoder()
	}
	return s, nil
}

// Recv implements llm.Stream.
func (s *stream) Recv() (*llm.Chunk, error) {
	for {
		ev, data, err := s.Next()
		if err != nil {
			return nil, err
		}
		typ := ev.Type
		if typ == "" {
			typ = eventType(data)
		}
		if typ == eventError {
			return nil, s.Fail(s.p.eventError(data))
		}
		c, err := s.decode(typ, data)
		if err != nil {
			return nil, s.Fail(err)
		}
		if typ == eventMessageStop {
			s.finish()
		}
		if c != nil {
			return c, nil
		}
	}
}

// Buffered implements llm.Buffered. In raw mode every event is a chunk, so
// the next one is in hand when the reader has it. In decoded mode some events
// (ping, content_block_stop, ...) make no chunk and Recv reads on, perhaps
// waiting, so the answer is always false there: holding the flush for them
// could delay the chunk before them.
func (s *stream) Buffered() bool {
	return s.raw && s.EventStream.Buffered()
}

// finish marks the stream complete: the next Recv reports io.EOF.
func (s *stream) finish() {
	_ = s.End()
	if s.dec != nil {
		s.SetUsage(s.dec.Usage())
	}
	s.Release()
}

// decode turns one event into a chunk, or nil for an event with nothing for
// the client in decoded mode.
func (s *stream) decode(typ string, data []byte) (*llm.Chunk, error) {
	if s.raw {
		c := &llm.Chunk{Raw: bytes.Clone(data), RawProtocol: protocol.Protocol}
		if u, ok := s.scan.Scan(typ, data); ok {
			s.SetUsage(u)
			c.Usage = &u
		}
		return c, nil
	}
	c, err := s.dec.Decode(typ, data)
	if err == io.EOF {
		return nil, nil // message_stop: finish is called by Recv
	}
	if err != nil {
		return nil, s.p.decodeError(err, "the upstream sent a malformed stream event")
	}
	if c != nil && c.Usage != nil {
		s.SetUsage(*c.Usage)
	} else {
		s.SetUsage(s.dec.Usage())
	}
	return c, nil
}

// eventType reads the "type" member of an event's data, for an event that
// came without an "event:" line.
func eventType(data []byte) string {
	const key = `"type"`
	i := bytes.Index(data, []byte(key))
	if i < 0 {
		return ""
	}
	rest := bytes.TrimLeft(data[i+len(key):], " \t\r\n")
	rest, ok := bytes.CutPrefix(rest, []byte(":"))
	if !ok {
		return ""
	}
	rest = bytes.TrimLeft(rest, " \t\r\n")
	rest, ok = bytes.CutPrefix(rest, []byte(`"`))
	if !ok {
		return ""
	}
	end := bytes.IndexByte(rest, '"')
	if end < 0 {
		return ""
	}
	return string(rest[:end])
}
