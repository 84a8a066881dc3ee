package openai

import (
	"testing"

	"github.com/llmgw/llmgw/internal/llm"
)

// typicalRequest is a ~2 KB chat request: a system prompt, a few turns with
// a tool call and its result, one tool and the usual sampling parameters.
const typicalRequest = `{
  "model": "gpt-4o-mini",
  "messages": [
    {"role": "system", "content": "You are a helpful assistant for an online bookshop. Answer briefly, cite the catalogue when you can, and never invent prices. If the customer asks about an order, look it up with the tool before answering."},
    {"role": "user", "content": "Hi! I ordered three books last week and only two arrived. Can you check order 48213 for me?"},
    {"role": "assistant", "content": null, "tool_calls": [{"id": "call_Qk3x9", "type": "function", "function": {"name": "lookup_order", "arguments": "{\"order_id\":\"48213\"}"}}]},
    {"role": "tool", "tool_call_id": "call_Qk3x9", "content": "{\"order_id\":\"48213\",\"status\":\"partially_shipped\",\"items\":[{\"title\":\"The Left Hand of Darkness\",\"shipped\":true},{\"title\":\"Piranesi\",\"shipped\":true},{\"title\":\"A Memory Called Empire\",\"shipped\":false,\"eta\":\"2025-06-12\"}]}"},
    {"role": "assistant", "content": "Your order 48213 was shipped in two parts. \"A Memory Called Empire\" is still on its way and should arrive around 12 June. The other two books were delivered."},
    {"role": "user", "content": "Thanks. Could you also recommend something similar to Piranesi? I liked the atmosphere and the mystery, and I would prefer something standalone rather than a long series."}
  ],
  "tools": [{"type": "function", "function": {"name": "lookup_order", "description": "Look up an order by its id and return its status and items.", "parameters": {"type": "object", "properties": {"order_id": {"type": "string", "description": "The order id, digits only."}}, "required": ["order_id"], "additionalProperties": false}, "strict": true}}],
  "tool_choice": "auto",
  "temperature": 0.7,
  "top_p": 1,
  "max_completion_tokens": 512,
  "stream": true,
  "stream_options": {"include_usage": true},
  "user": "customer-1872"
}`

func BenchmarkDecodeChatRequest(b *testing.B) {
	body := []byte(typicalRequest)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeChatRequest(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeChatRequest(b *testing.B) {
	req, err := DecodeChatRequest([]byte(typicalRequest))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := EncodeChatRequest(req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendChunk(b *testing.B) {
	c := &llm.Chunk{
		ID: "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG", Model: "gpt-4o-mini", Created: 1741570283, SystemFingerprint: "fp_44709d6fcb",
		Choices: []llm.Choice{{Message: llm.Message{Content: []llm.Part{llm.TextPart(" the atmosphere")}}}},
	}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = AppendChunk(buf[:0], c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeChunk(b *testing.B) {
	data := []byte(`{"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"content":" the atmosphere"},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"p9K3xT6w"}`)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeChunk(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkScanUsage(b *testing.B) {
	data := []byte(`{"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[],"usage":{"prompt_tokens":1117,"completion_tokens":46,"total_tokens":1163,"prompt_tokens_details":{"cached_tokens":1024,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := ScanUsage(data); !ok {
			b.Fatal("no usage")
		}
	}
}
