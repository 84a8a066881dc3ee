package server

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/pipeline"
	"github.com/llmgw/llmgw/internal/protocol/anthropic"
	"github.com/llmgw/llmgw/internal/protocol/openai"
	"github.com/llmgw/llmgw/internal/provider/providertest"
	"github.com/llmgw/llmgw/internal/sse"
)

// Events the gateway holds back because the next one is already in hand
// still reach the client before the gateway waits for the upstream: here
// the upstream sends three events together, then pauses.
func TestStreamFlushesBeforeUpstreamPause(t *testing.T) {
	g := newGateway(t, baseConfig, nil)
	capture := providertest.Load(t, "openai/stream_text.sse")
	third := 0
	for range 3 {
		third += strings.Index(string(capture[third:]), "\n\n") + 2
	}
	hold := make(chan struct{})
	defer close(hold)
	g.up.Enqueue(providertest.Response{SSE: capture, Hold: hold, HoldAfter: third})
	resp, err := http.Post(g.http.URL+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"gpt","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got := make(chan error, 1)
	go func() {
		rd := sse.NewReader(bufio.NewReader(resp.Body), 0)
		for range 3 {
			if _, err := rd.Next(); err != nil {
				got <- err
				return
			}
		}
		got <- nil
	}()
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("reading the first three events: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("events sent before the upstream paused did not reach the client")
	}
}

// bufferedStream is a Stream of chunks whose Buffered answer is scripted:
// ready[i] is what it says after chunk i has been received.
type bufferedStream struct {
	*llm.SliceStream
	ready []bool
	n     int
}

func (b *bufferedStream) Recv() (*llm.Chunk, error) {
	c, err := b.SliceStream.Recv()
	if err == nil {
		b.n++
	}
	return c, err
}

func (b *bufferedStream) Buffered() bool { return b.n > 0 && b.n <= len(b.ready) && b.ready[b.n-1] }

// flushCounter counts the flushes that reach the connection.
type flushCounter struct {
	*httptest.ResponseRecorder
	flushes int
}

func (f *flushCounter) Flush() { f.flushes++; f.ResponseRecorder.Flush() }

// Consecutive events that are in hand together are written with one flush;
// every event followed by a wait is flushed before it.
func TestStreamCoalescesBufferedEvents(t *testing.T) {
	openaiChunk := func() *llm.Chunk {
		return &llm.Chunk{Raw: []byte(`{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"x"}}]}`), RawProtocol: openai.Protocol}
	}
	anthropicChunk := func() *llm.Chunk {
		return &llm.Chunk{Raw: []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}}`), RawProtocol: anthropic.Protocol}
	}
	tests := []struct {
		name        string
		protocol    string
		ready       []bool
		wantFlushes int
	}{
		{name: "openai, nothing in hand", protocol: "openai", ready: []bool{false, false, false, false}, wantFlushes: 5},
		{name: "openai, all in hand", protocol: "openai", ready: []bool{true, true, true, false}, wantFlushes: 2},
		{name: "openai, two bursts", protocol: "openai", ready: []bool{true, false, true, false}, wantFlushes: 3},
		{name: "anthropic, nothing in hand", protocol: "anthropic", ready: []bool{false, false, false, false}, wantFlushes: 4},
		{name: "anthropic, all in hand", protocol: "anthropic", ready: []bool{true, true, true, true}, wantFlushes: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newGateway(t, baseConfig, nil)
			chunks := make([]*llm.Chunk, len(tc.ready))
			for i := range chunks {
				chunks[i] = openaiChunk()
				if tc.protocol == "anthropic" {
					chunks[i] = anthropicChunk()
				}
			}
			stream := &bufferedStream{SliceStream: llm.NewSliceStream(nil, chunks...), ready: tc.ready}
			rw := &flushCounter{ResponseRecorder: httptest.NewRecorder()}
			r := httptest.NewRequest("POST", "/", nil)
			if tc.protocol == "openai" {
				g.srv.writeOpenAIStream(rw, r, &pipeline.Call{Stream: true}, stream)
			} else {
				g.srv.writeAnthropicStream(rw, r, &pipeline.Call{Stream: true}, stream)
			}
			if got := strings.Count(rw.Body.String(), "data: "); got < len(chunks) {
				t.Fatalf("%d events written, want at least %d:\n%s", got, len(chunks), rw.Body)
			}
			if rw.flushes != tc.wantFlushes {
				t.Errorf("flushes = %d, want %d", rw.flushes, tc.wantFlushes)
			}
		})
	}
}
