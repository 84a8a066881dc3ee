package anthropic

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/openai"
	"github.com/llmgw/llmgw/internal/provider/providertest"
	"github.com/llmgw/llmgw/internal/sse"
)

type event struct {
	typ  string
	data []byte
}

// readEvents parses an SSE capture from testdata/stream.
func readEvents(t *testing.T, name string) []event {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "stream", name))
	if err != nil {
		t.Fatal(err)
	}
	return parseEvents(t, b)
}

func parseEvents(t *testing.T, b []byte) []event {
	t.Helper()
	r := sse.NewReader(bytes.NewReader(b), 0)
	var evs []event
	for {
		ev, err := r.Next()
		if err == io.EOF {
			return evs
		}
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, event{ev.Type, bytes.Clone(ev.Data)})
	}
}

// decodeEvents runs events through a StreamDecoder into an Accumulator. It
// returns the folded response, the decoder's usage, and the error that
// ended the stream (nil for a clean message_stop).
func decodeEvents(t *testing.T, evs []event) (*llm.Chunk, llm.Usage, error) {
	t.Helper()
	d := NewStreamDecoder()
	var acc llm.Accumulator
	for _, ev := range evs {
		c, err := d.Decode(ev.typ, ev.data)
		if err == io.EOF {
			return acc.Response(), d.Usage(), nil
		}
		if err != nil {
			return acc.Response(), d.Usage(), err
		}
		if c != nil {
			acc.Add(c)
		}
	}
	t.Fatal("stream ended without message_stop")
	return nil, llm.Usage{}, nil
}

func TestStreamDecoder(t *testing.T) {
	assistant := func(m llm.Message) llm.Message { m.Role = llm.RoleAssistant; return m }
	cases := []struct {
		capture string
		want    *llm.Chunk
	}{
		{"text.sse", &llm.Chunk{
			ID: "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", Model: "claude-sonnet-4-5-20250929",
			Choices: []llm.Choice{{Message: assistant(llm.Message{Content: []llm.Part{llm.TextPart("Hello!")}}), FinishReason: llm.FinishStop}},
			Usage:   &llm.Usage{PromptTokens: 25, CompletionTokens: 15, TotalTokens: 40},
		}},
		{"tool_use.sse", &llm.Chunk{
			ID: "msg_014p7gG3wDgGV9EUtLvnow3U", Model: "claude-opus-4-1-20250805",
			Choices: []llm.Choice{{
				Message: assistant(llm.Message{
					Content:   []llm.Part{llm.TextPart("Okay, let's check the weather for San Francisco, CA:")},
					ToolCalls: []llm.ToolCall{{Index: 0, ID: "toolu_01T1x1fJ34qAmk2tNTrN7Up6", Type: "function", Name: "get_weather", Arguments: `{"location": "San Francisco, CA", "unit": "fahrenheit"}`}},
				}),
				FinishReason: llm.FinishToolCalls,
			}},
			Usage: &llm.Usage{PromptTokens: 472, CompletionTokens: 89, TotalTokens: 561},
		}},
		{"thinking.sse", &llm.Chunk{
			ID: "msg_01ARw4Dx6DdtGPRw1yTHfYTJ", Model: "claude-sonnet-4-5-20250929",
			Choices: []llm.Choice{{
				Message: assistant(llm.Message{Content: []llm.Part{
					{Type: llm.PartThinking, Text: "Let me solve this step by step:\n\n1. First break down 27 * 453\n2. 453 = 400 + 50 + 3", Signature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds..."},
					llm.TextPart("27 * 453 = 12,231"),
				}}),
				FinishReason: llm.FinishStop,
			}},
			Usage: &llm.Usage{PromptTokens: 4241, CompletionTokens: 324, TotalTokens: 4565, CachedTokens: 3000, CacheCreationTokens: 1200, ReasoningTokens: 280},
		}},
		{"parallel_tools.sse", &llm.Chunk{
			ID: "msg_01Aq9w938a90dw8q", Model: "claude-sonnet-4-5-20250929",
			Choices: []llm.Choice{{
				Message: assistant(llm.Message{
					Content: []llm.Part{llm.TextPart("I'll check both cities.")},
					ToolCalls: []llm.ToolCall{
						{Index: 0, ID: "toolu_01A", Type: "function", Name: "get_weather", Arguments: `{"location": "Paris"}`},
						{Index: 1, ID: "toolu_01B", Type: "function", Name: "get_time", Arguments: `{"tz": "Europe/Zürich"}`},
					},
				}),
				FinishReason: llm.FinishToolCalls,
			}},
			Usage: &llm.Usage{PromptTokens: 1122, CompletionTokens: 120, TotalTokens: 1242, CachedTokens: 512},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.capture, func(t *testing.T) {
			got, usage, err := decodeEvents(t, readEvents(t, tc.capture))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("accumulated response (-want +got):\n%s", diff)
			}
			if usage != *tc.want.Usage {
				t.Errorf("Usage() = %+v, want %+v", usage, *tc.want.Usage)
			}
		})
	}
}

func TestStreamDecoderChunks(t *testing.T) {
	d := NewStreamDecoder()
	evs := readEvents(t, "parallel_tools.sse")
	var got []string
	for _, ev := range evs {
		c, err := d.Decode(ev.typ, ev.data)
		if err == io.EOF {
			got = append(got, "EOF")
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, describe(c))
	}
	want := []string{
		"role=assistant usage=1122/3 id=msg_01Aq9w938a90dw8q",
		"nil",
		`text="I'll check both cities."`,
		"nil",
		`tool[0] id=toolu_01A name=get_weather args=""`,
		"nil", // the empty partial_json
		`tool[0] args="{\"location\": \"Par"`,
		`tool[0] args="is\"}"`,
		"nil",
		"nil", // ping
		`tool[1] id=toolu_01B name=get_time args=""`,
		`tool[1] args="{\"tz\":"`,
		`tool[1] args=" \"Europe/Zürich\"}"`,
		"nil",
		"finish=tool_calls usage=1122/120",
		"EOF",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("chunks (-want +got):\n%s", diff)
	}
	if _, err := d.Decode("message_start", []byte(`{}`)); err != io.EOF {
		t.Errorf("Decode after message_stop = %v, want io.EOF", err)
	}
}

// describe renders a chunk in one line for sequence tests.
func describe(c *llm.Chunk) string {
	if c == nil {
		return "nil"
	}
	var b bytes.Buffer
	for _, ch := range c.Choices {
		m := ch.Message
		if m.Role != "" {
			fmt.Fprintf(&b, "role=%s ", m.Role)
		}
		for _, p := range m.Content {
			switch p.Type {
			case llm.PartText:
				fmt.Fprintf(&b, "text=%q ", p.Text)
			case llm.PartThinking:
				fmt.Fprintf(&b, "thinking=%q sig=%q ", p.Text, p.Signature)
			default:
				fmt.Fprintf(&b, "%s ", p.Type)
			}
		}
		for _, tc := range m.ToolCalls {
			fmt.Fprintf(&b, "tool[%d] ", tc.Index)
			if tc.ID != "" {
				fmt.Fprintf(&b, "id=%s name=%s ", tc.ID, tc.Name)
			}
			fmt.Fprintf(&b, "args=%q ", tc.Arguments)
		}
		if ch.FinishReason != "" {
			fmt.Fprintf(&b, "finish=%s ", ch.FinishReason)
		}
	}
	if c.Usage != nil {
		fmt.Fprintf(&b, "usage=%d/%d ", c.Usage.PromptTokens, c.Usage.CompletionTokens)
	}
	if c.Choices[0].Message.Role != "" {
		fmt.Fprintf(&b, "id=%s ", c.ID)
	}
	return string(bytes.TrimSpace(b.Bytes()))
}

func TestStreamDecoderError(t *testing.T) {
	got, usage, err := decodeEvents(t, readEvents(t, "error.sse"))
	var e *llm.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v, want an *llm.Error", err)
	}
	if e.Kind != llm.KindUpstreamUnavailable || e.UpstreamStatus != 529 || !e.Retryable() {
		t.Errorf("error = %+v, want upstream unavailable, 529, retryable", e)
	}
	if text := got.Choices[0].Message.Text(); text != "Once upon" {
		t.Errorf("text before the error = %q", text)
	}
	if usage.PromptTokens != 12 {
		t.Errorf("usage before the error = %+v, want the 12 input tokens of message_start", usage)
	}
}

func TestStreamDecoderServerTool(t *testing.T) {
	evs := []event{
		{"message_start", []byte(`{"type":"message_start","message":{"id":"msg_1","model":"m","usage":{"input_tokens":5,"output_tokens":1}}}`)},
		{"content_block_start", []byte(`{"type":"content_block_start","index":0,"content_block":{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{}}}`)},
		{"content_block_delta", []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"query\": \"gr"}}`)},
		{"content_block_delta", []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"ass\"}"}}`)},
		{"content_block_stop", []byte(`{"type":"content_block_stop","index":0}`)},
		{"content_block_start", []byte(`{"type":"content_block_start","index":1,"content_block":{"type":"redacted_thinking","data":"abc"}}`)},
		{"content_block_stop", []byte(`{"type":"content_block_stop","index":1}`)},
		{"message_delta", []byte(`{"type":"message_delta","delta":{"stop_reason":"pause_turn","stop_sequence":null},"usage":{"output_tokens":9}}`)},
		{"message_stop", []byte(`{"type":"message_stop"}`)},
	}
	got, _, err := decodeEvents(t, evs)
	if err != nil {
		t.Fatal(err)
	}
	m := got.Choices[0].Message
	want := []llm.Part{
		{Type: llm.PartOther, Raw: []byte(`{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{"query": "grass"}}`)},
		{Type: llm.PartRedactedThinking, Data: "abc"},
	}
	if diff := cmp.Diff(want, m.Content, rawJSONEqual); diff != "" {
		t.Errorf("content (-want +got):\n%s", diff)
	}
	if m.ExtraProtocol != Protocol || got.Choices[0].FinishReason != llm.FinishStop {
		t.Errorf("ExtraProtocol = %q, finish = %q", m.ExtraProtocol, got.Choices[0].FinishReason)
	}
}

// encodeChunks runs chunks through a StreamEncoder and returns the SSE it
// writes.
func encodeChunks(t *testing.T, chunks []*llm.Chunk) []byte {
	t.Helper()
	var out bytes.Buffer
	emit := func(typ string, data []byte) error {
		if !bytes.HasPrefix(data, []byte(`{"type":"`+typ+`"`)) {
			t.Errorf("event %s carries data of another type: %s", typ, data)
		}
		fmt.Fprintf(&out, "event: %s\ndata: %s\n\n", typ, data)
		return nil
	}
	e := NewStreamEncoder()
	for _, c := range chunks {
		if err := e.Encode(c, emit); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Finish(emit); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// openAIChunks decodes an OpenAI stream capture of providertest.
func openAIChunks(t *testing.T, name string) ([]*llm.Chunk, *llm.Chunk) {
	t.Helper()
	var chunks []*llm.Chunk
	var acc llm.Accumulator
	for _, data := range providertest.DataPayloads(providertest.Load(t, name)) {
		if sse.IsDone(data) {
			break
		}
		c, err := openai.DecodeChunk(data)
		if err != nil {
			t.Fatal(err)
		}
		chunks = append(chunks, c)
		acc.Add(c)
	}
	return chunks, acc.Response()
}

// TestStreamEncoderFromOpenAI translates OpenAI stream captures into
// Anthropic events, checks them against golden files, and decodes them back:
// text, tool call ids, names, arguments and usage survive the round trip.
func TestStreamEncoderFromOpenAI(t *testing.T) {
	for _, name := range []string{"stream_text", "stream_tool_calls"} {
		t.Run(name, func(t *testing.T) {
			chunks, want := openAIChunks(t, "openai/"+name+".sse")
			out := encodeChunks(t, chunks)
			checkGoldenSSE(t, "openai_"+name, out)

			got, usage, err := decodeEvents(t, parseEvents(t, out))
			if err != nil {
				t.Fatal(err)
			}
			wm, gm := want.Choices[0].Message, got.Choices[0].Message
			if diff := cmp.Diff(wm.ToolCalls, gm.ToolCalls); diff != "" {
				t.Errorf("tool calls after the round trip (-openai +anthropic):\n%s", diff)
			}
			if wm.Text() != gm.Text() {
				t.Errorf("text after the round trip = %q, want %q", gm.Text(), wm.Text())
			}
			if got.Choices[0].FinishReason != want.Choices[0].FinishReason {
				t.Errorf("finish = %q, want %q", got.Choices[0].FinishReason, want.Choices[0].FinishReason)
			}
			if usage != *want.Usage {
				t.Errorf("usage after the round trip = %+v, want %+v", usage, *want.Usage)
			}
			if got.ID != "msg_"+want.ID || got.Model != want.Model {
				t.Errorf("id, model = %q, %q", got.ID, got.Model)
			}
		})
	}
}

func checkGoldenSSE(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "stream", name+".golden.sse")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// TestStreamAnthropicRoundTrip decodes each Anthropic capture, encodes the
// chunks again and decodes the result: the whole message is unchanged.
func TestStreamAnthropicRoundTrip(t *testing.T) {
	for _, name := range []string{"text.sse", "tool_use.sse", "thinking.sse", "parallel_tools.sse"} {
		t.Run(name, func(t *testing.T) {
			d := NewStreamDecoder()
			var chunks []*llm.Chunk
			for _, ev := range readEvents(t, name) {
				c, err := d.Decode(ev.typ, ev.data)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if c != nil {
					chunks = append(chunks, c)
				}
			}
			first, _, _ := decodeEvents(t, readEvents(t, name))
			second, _, err := decodeEvents(t, parseEvents(t, encodeChunks(t, chunks)))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(first, second); diff != "" {
				t.Errorf("re-encoded stream differs (-original +re-encoded):\n%s", diff)
			}
		})
	}
}
