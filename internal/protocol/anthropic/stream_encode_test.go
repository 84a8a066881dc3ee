package anthropic

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/llmgw/llmgw/internal/llm"
)

// record returns an emit function that records "type data" lines.
func record(out *[]string) func(string, []byte) error {
	return func(typ string, data []byte) error {
		*out = append(*out, typ+" "+string(data))
		return nil
	}
}

func delta(m llm.Message) *llm.Chunk {
	return &llm.Chunk{ID: "msg_abc", Model: "m", Choices: []llm.Choice{{Message: m}}}
}

func TestStreamEncoderSequence(t *testing.T) {
	chunks := []*llm.Chunk{
		{ID: "msg_abc", Model: "m", Usage: &llm.Usage{PromptTokens: 30, CachedTokens: 10, CompletionTokens: 1},
			Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant}}}},
		delta(llm.Message{Content: []llm.Part{{Type: llm.PartThinking, Text: "think"}}}),
		delta(llm.Message{Content: []llm.Part{{Type: llm.PartThinking, Signature: "sig"}}}),
		delta(llm.Message{Content: []llm.Part{{Type: llm.PartRedactedThinking, Data: "red"}}}),
		delta(llm.Message{Content: []llm.Part{llm.TextPart(""), llm.TextPart("Hi")}}),
		// Two calls in one chunk, then a fragment of the second.
		delta(llm.Message{ToolCalls: []llm.ToolCall{{Index: 0, ID: "c0", Name: "f", Arguments: `{"a":1}`}, {Index: 1, Name: "g"}}}),
		delta(llm.Message{ToolCalls: []llm.ToolCall{{Index: 1, Arguments: `{}`}}}),
		{ID: "msg_abc", Choices: []llm.Choice{{FinishReason: llm.FinishStop, StopSequence: "END"}}},
		{ID: "msg_abc", Usage: &llm.Usage{PromptTokens: 30, CachedTokens: 10, CompletionTokens: 7}},
	}
	var got []string
	e := NewStreamEncoder()
	if e.Started() {
		t.Fatal("started before any chunk")
	}
	for _, c := range chunks {
		if err := e.Encode(c, record(&got)); err != nil {
			t.Fatal(err)
		}
	}
	if !e.Started() {
		t.Fatal("not started after chunks")
	}
	if err := e.Finish(record(&got)); err != nil {
		t.Fatal(err)
	}
	// The second call had no id: one was made up; check its shape, then fix
	// it for the comparison.
	for i, s := range got {
		if j := strings.Index(s, `"id":"toolu_`); j >= 0 {
			got[i] = s[:j] + `"id":"toolu_X` + s[j+len(`"id":"toolu_`)+25:]
		}
	}
	want := []string{
		`message_start {"type":"message_start","message":{"id":"msg_abc","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":20,"cache_creation_input_tokens":0,"cache_read_input_tokens":10,"output_tokens":1}}}`,
		`content_block_start {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}`,
		`content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"think"}}`,
		`content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"sig"}}`,
		`content_block_stop {"type":"content_block_stop","index":0}`,
		`content_block_start {"type":"content_block_start","index":1,"content_block":{"type":"redacted_thinking","data":"red"}}`,
		`content_block_stop {"type":"content_block_stop","index":1}`,
		`content_block_start {"type":"content_block_start","index":2,"content_block":{"type":"text","text":""}}`,
		`content_block_delta {"type":"content_block_delta","index":2,"delta":{"type":"text_delta","text":"Hi"}}`,
		`content_block_stop {"type":"content_block_stop","index":2}`,
		`content_block_start {"type":"content_block_start","index":3,"content_block":{"type":"tool_use","id":"c0","name":"f","input":{}}}`,
		`content_block_delta {"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":"{\"a\":1}"}}`,
		`content_block_stop {"type":"content_block_stop","index":3}`,
		`content_block_start {"type":"content_block_start","index":4,"content_block":{"type":"tool_use","id":"toolu_X","name":"g","input":{}}}`,
		`content_block_delta {"type":"content_block_delta","index":4,"delta":{"type":"input_json_delta","partial_json":"{}"}}`,
		`content_block_stop {"type":"content_block_stop","index":4}`,
		`message_delta {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":"END"},"usage":{"input_tokens":20,"cache_creation_input_tokens":0,"cache_read_input_tokens":10,"output_tokens":7}}`,
		`message_stop {"type":"message_stop"}`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	var after []string
	if err := e.Finish(record(&after)); err != nil || len(after) != 0 {
		t.Errorf("second Finish emitted %v, %v", after, err)
	}
}

func TestStreamEncoderEdgeCases(t *testing.T) {
	t.Run("finish without chunks", func(t *testing.T) {
		var got []string
		e := NewStreamEncoder()
		if err := e.Finish(record(&got)); err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 || !strings.HasPrefix(got[0], `message_start {"type":"message_start","message":{"id":"msg_`) ||
			got[1] != `message_delta {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}}` {
			t.Errorf("events = %q", got)
		}
	})
	t.Run("text after a tool call opens a new block", func(t *testing.T) {
		var got []string
		e := NewStreamEncoder()
		for _, c := range []*llm.Chunk{
			delta(llm.Message{ToolCalls: []llm.ToolCall{{Index: 0, ID: "c", Name: "f"}}}),
			delta(llm.Message{Content: []llm.Part{llm.TextPart("x")}, Refusal: "no"}),
			// A late fragment of the closed call goes to its block.
			delta(llm.Message{ToolCalls: []llm.ToolCall{{Index: 0, Arguments: "{}"}}}),
			{Choices: []llm.Choice{{FinishReason: llm.FinishLength}}},
		} {
			if err := e.Encode(c, record(&got)); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.Finish(record(&got)); err != nil {
			t.Fatal(err)
		}
		types := make([]string, len(got))
		for i, s := range got {
			types[i] = s[:strings.IndexByte(s, ' ')]
		}
		want := []string{"message_start", "content_block_start", "content_block_stop", "content_block_start", "content_block_delta", "content_block_delta", "content_block_delta", "content_block_stop", "message_delta", "message_stop"}
		if diff := cmp.Diff(want, types); diff != "" {
			t.Errorf("event types (-want +got):\n%s", diff)
		}
		if !strings.Contains(got[6], `"index":0,"delta":{"type":"input_json_delta","partial_json":"{}"}`) || !strings.Contains(got[5], `"text":"no"`) {
			t.Errorf("events = %q", got)
		}
		if !strings.Contains(got[8], `"stop_reason":"max_tokens"`) {
			t.Errorf("message_delta = %s", got[8])
		}
	})
	t.Run("raw anthropic events pass through", func(t *testing.T) {
		var got []string
		e := NewStreamEncoder()
		for _, raw := range []string{`{"type":"message_start","message":{}}`, `{"type":"ping"}`, `{"type":"message_stop"}`} {
			if err := e.Encode(&llm.Chunk{Raw: []byte(raw), RawProtocol: Protocol}, record(&got)); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.Finish(record(&got)); err != nil {
			t.Fatal(err)
		}
		want := []string{`message_start {"type":"message_start","message":{}}`, `ping {"type":"ping"}`, `message_stop {"type":"message_stop"}`}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
	})
	t.Run("emit error stops", func(t *testing.T) {
		boom := errors.New("client gone")
		e := NewStreamEncoder()
		err := e.Encode(delta(llm.Message{Content: []llm.Part{llm.TextPart("x")}}), func(string, []byte) error { return boom })
		if !errors.Is(err, boom) {
			t.Errorf("error = %v", err)
		}
	})
}

// SetInputTokens fills message_start's input_tokens when the first chunk has
// no count (OpenAI streams state usage at the end); the upstream's final
// count replaces it in message_delta, and stands there when none came.
func TestStreamEncoderInputTokens(t *testing.T) {
	usageOf := func(events []string, typ string) string {
		for _, ev := range events {
			if data, ok := strings.CutPrefix(ev, typ+" "); ok {
				i := strings.Index(data, `"usage":`)
				return data[i+len(`"usage":`) : i+len(`"usage":`)+strings.Index(data[i+len(`"usage":`):], "}")+1]
			}
		}
		t.Fatalf("no %s in %v", typ, events)
		return ""
	}
	tests := []struct {
		name              string
		final             *llm.Usage
		wantStart, wantMD string
	}{
		{"corrected at the end", &llm.Usage{PromptTokens: 12, CompletionTokens: 9},
			`{"input_tokens":14,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}`,
			`{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":9}`},
		{"no final usage", nil,
			`{"input_tokens":14,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}`,
			`{"input_tokens":14,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			e := NewStreamEncoder()
			e.SetInputTokens(14)
			for _, c := range []*llm.Chunk{
				delta(llm.Message{Role: llm.RoleAssistant, Content: []llm.Part{llm.TextPart("Hi")}}),
				{Choices: []llm.Choice{{FinishReason: llm.FinishStop}}, Usage: tt.final},
			} {
				if err := e.Encode(c, record(&got)); err != nil {
					t.Fatal(err)
				}
			}
			if err := e.Finish(record(&got)); err != nil {
				t.Fatal(err)
			}
			if s := usageOf(got, "message_start"); s != tt.wantStart {
				t.Errorf("message_start usage %s, want %s", s, tt.wantStart)
			}
			if s := usageOf(got, "message_delta"); s != tt.wantMD {
				t.Errorf("message_delta usage %s, want %s", s, tt.wantMD)
			}
		})
	}
}
