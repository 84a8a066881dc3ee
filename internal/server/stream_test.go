package server

import (
	"io"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/pipeline"
	"github.com/llmgw/llmgw/internal/protocol/anthropic"
	"github.com/llmgw/llmgw/internal/protocol/openai"
)

// reusingStream returns its payloads as raw chunks the way llm.Stream
// allows: one chunk, reused with its Raw and Usage for every payload, and
// the previous payload's bytes overwritten first. A writer that used a chunk
// after asking for the next would send garbage.
type reusingStream struct {
	payloads [][]byte
	usage    []bool // usage[i]: payload i carries usage
	protocol string
	chunk    llm.Chunk
	buf      []byte
	u        llm.Usage
	total    llm.Usage
}

func (s *reusingStream) Recv() (*llm.Chunk, error) {
	if len(s.payloads) == 0 {
		return nil, io.EOF
	}
	for i := range s.buf {
		s.buf[i] = '#'
	}
	p := s.payloads[0]
	hasUsage := s.usage[0]
	s.payloads, s.usage = s.payloads[1:], s.usage[1:]
	s.buf = append(s.buf[:0], p...)
	s.chunk = llm.Chunk{Raw: s.buf, RawProtocol: s.protocol}
	s.u = llm.Usage{}
	if hasUsage {
		s.u = llm.Usage{PromptTokens: 3, CompletionTokens: 2, TotalTokens: 5}
		s.total = s.u
		s.chunk.Usage = &s.u
	}
	return &s.chunk, nil
}

func (s *reusingStream) Usage() llm.Usage { return s.total }
func (s *reusingStream) Close() error     { return nil }

// The stream writers are done with each chunk before they ask for the next,
// so a stream may reuse it (llm.Stream): what reaches the client is every
// payload as sent, in both protocols.
func TestStreamWritersFinishChunkBeforeNextRecv(t *testing.T) {
	openaiPayloads := []string{
		`{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}`,
		`{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hello"}}]}`,
		`{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`,
		`{"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}`,
	}
	anthropicPayloads := []string{
		`{"type":"message_start","message":{"id":"m","type":"message","role":"assistant","content":[],"model":"x","usage":{"input_tokens":3,"output_tokens":1}}}`,
		`{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`,
		`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}`,
		`{"type":"content_block_stop","index":0}`,
		`{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}}`,
		`{"type":"message_stop"}`,
	}
	tests := []struct {
		name         string
		protocol     string
		payloads     []string
		usage        int // index of the payload with usage, -1 for none
		includeUsage bool
		want         []string
	}{
		{"openai with usage", openai.Protocol, openaiPayloads, 3, true, append(slices.Clone(openaiPayloads), "[DONE]")},
		{"openai without usage", openai.Protocol, openaiPayloads, 3, false, append(slices.Clone(openaiPayloads[:3]), "[DONE]")},
		{"anthropic", anthropic.Protocol, anthropicPayloads, 4, false, anthropicPayloads},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newGateway(t, baseConfig, nil)
			s := &reusingStream{protocol: tc.protocol}
			for i, p := range tc.payloads {
				s.payloads = append(s.payloads, []byte(p))
				s.usage = append(s.usage, i == tc.usage)
			}
			rw := httptest.NewRecorder()
			r := httptest.NewRequest("POST", "/", nil)
			if tc.protocol == openai.Protocol {
				g.srv.writeOpenAIStream(rw, r, &pipeline.Call{Stream: true, IncludeUsage: tc.includeUsage}, s)
			} else {
				g.srv.writeAnthropicStream(rw, r, &pipeline.Call{Stream: true}, s)
			}
			got := events(t, rw.Body.String())
			if !slices.Equal(got, tc.want) {
				t.Errorf("events:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}
