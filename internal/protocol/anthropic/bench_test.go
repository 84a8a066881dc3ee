package anthropic

import (
	"testing"

	"github.com/llmgw/llmgw/internal/llm"
)

// typicalRequest is a ~2 KB Messages request: a cached system prompt, a few
// turns with a tool call and its result, one tool and the usual settings.
const typicalRequest = `{
  "model": "claude-sonnet-4-5",
  "max_tokens": 1024,
  "system": [{"type": "text", "text": "You are a helpful assistant for an online bookshop. Answer briefly, cite the catalogue when you can, and never invent prices. If the customer asks about an order, look it up with the tool before answering.", "cache_control": {"type": "ephemeral"}}],
  "messages": [
    {"role": "user", "content": "Hi! I ordered three books last week and only two arrived. Can you check order 48213 for me?"},
    {"role": "assistant", "content": [{"type": "text", "text": "Let me look that up."}, {"type": "tool_use", "id": "toolu_01Qk3x9", "name": "lookup_order", "input": {"order_id": "48213"}}]},
    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01Qk3x9", "content": "{\"order_id\":\"48213\",\"status\":\"partially_shipped\",\"items\":[{\"title\":\"The Left Hand of Darkness\",\"shipped\":true},{\"title\":\"Piranesi\",\"shipped\":true},{\"title\":\"A Memory Called Empire\",\"shipped\":false,\"eta\":\"2025-06-12\"}]}"}]},
    {"role": "assistant", "content": "Your order 48213 was shipped in two parts. \"A Memory Called Empire\" is still on its way and should arrive around 12 June. The other two books were delivered."},
    {"role": "user", "content": "Thanks. Could you also recommend something similar to Piranesi? I liked the atmosphere and the mystery, and I would prefer something standalone rather than a long series."}
  ],
  "tools": [{"name": "lookup_order", "description": "Look up an order by its id and return its status and items.", "input_schema": {"type": "object", "properties": {"order_id": {"type": "string", "description": "The order id, digits only."}}, "required": ["order_id"]}}],
  "tool_choice": {"type": "auto"},
  "temperature": 0.7,
  "stream": true,
  "metadata": {"user_id": "customer-1872"}
}`

func BenchmarkDecodeMessagesRequest(b *testing.B) {
	body := []byte(typicalRequest)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeMessagesRequest(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeMessagesRequest(b *testing.B) {
	req, err := DecodeMessagesRequest([]byte(typicalRequest))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := EncodeMessagesRequest(req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStreamDecoder decodes one text_delta event, the bulk of a stream.
func BenchmarkStreamDecoder(b *testing.B) {
	data := []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" the atmosphere"}}`)
	d := NewStreamDecoder()
	if _, err := d.Decode("content_block_start", []byte(`{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`)); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Decode("content_block_delta", data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStreamEncoder encodes one text delta chunk into its event.
func BenchmarkStreamEncoder(b *testing.B) {
	c := &llm.Chunk{ID: "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG", Model: "gpt-4o-mini",
		Choices: []llm.Choice{{Message: llm.Message{Content: []llm.Part{llm.TextPart(" the atmosphere")}}}}}
	e := NewStreamEncoder()
	var n int
	emit := func(_ string, data []byte) error { n += len(data); return nil }
	if err := e.Encode(c, emit); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := e.Encode(c, emit); err != nil {
			b.Fatal(err)
		}
	}
}
