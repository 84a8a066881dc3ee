package responses

import (
	"testing"

	"github.com/llmgw/llmgw/internal/llm"
)

// typicalRequest is a ~2 KB create-response request: instructions, a few
// turns with a function call and its output, one tool and the usual
// parameters.
const typicalRequest = `{
  "model": "claude-sonnet-4-5",
  "instructions": "You are a helpful assistant for an online bookshop. Answer briefly, cite the catalogue when you can, and never invent prices. If the customer asks about an order, look it up with the tool before answering.",
  "input": [
    {"role": "user", "content": "Hi! I ordered three books last week and only two arrived. Can you check order 48213 for me?"},
    {"type": "function_call", "call_id": "call_Qk3x9", "name": "lookup_order", "arguments": "{\"order_id\":\"48213\"}"},
    {"type": "function_call_output", "call_id": "call_Qk3x9", "output": "{\"order_id\":\"48213\",\"status\":\"partially_shipped\",\"items\":[{\"title\":\"The Left Hand of Darkness\",\"shipped\":true},{\"title\":\"Piranesi\",\"shipped\":true},{\"title\":\"A Memory Called Empire\",\"shipped\":false,\"eta\":\"2025-06-12\"}]}"},
    {"role": "assistant", "content": "Your order 48213 was shipped in two parts. \"A Memory Called Empire\" is still on its way and should arrive around 12 June. The other two books were delivered."},
    {"role": "user", "content": [{"type": "input_text", "text": "Thanks. Could you also recommend something similar to Piranesi? I liked the atmosphere and the mystery, and I would prefer something standalone rather than a long series."}]}
  ],
  "tools": [{"type": "function", "name": "lookup_order", "description": "Look up an order by its id and return its status and items.", "parameters": {"type": "object", "properties": {"order_id": {"type": "string", "description": "The order id, digits only."}}, "required": ["order_id"], "additionalProperties": false}, "strict": true}],
  "tool_choice": "auto",
  "temperature": 0.7,
  "max_output_tokens": 512,
  "stream": true,
  "store": true,
  "metadata": {"session": "s-1872"}
}`

func BenchmarkDecodeRequest(b *testing.B) {
	body := []byte(typicalRequest)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeRequest(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStreamEncodeChunk measures one text delta through the stream
// encoder: the common chunk of a streamed answer.
func BenchmarkStreamEncodeChunk(b *testing.B) {
	req, err := DecodeRequest([]byte(typicalRequest))
	if err != nil {
		b.Fatal(err)
	}
	enc := NewStreamEncoder(&Meta{ID: "resp_67c9fdcecf488190bdd9a0409de3a1ec", CreatedAt: 1741290958, Request: req})
	var n int
	emit := func(_ string, data []byte) error {
		n += len(data)
		return nil
	}
	c := &llm.Chunk{Choices: []llm.Choice{{Message: llm.Message{Content: []llm.Part{llm.TextPart(" the atmosphere")}}}}}
	if err := enc.Encode(c, emit); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := enc.Encode(c, emit); err != nil {
			b.Fatal(err)
		}
	}
}
