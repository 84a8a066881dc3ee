package anthropic

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/llmgw/llmgw/internal/protocol/openai"
)

func FuzzDecodeMessagesRequest(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.in.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds: %v", err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"model":"m","max_tokens":1,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"a","name":"f","input":{"x":[1,{"y":"\u00e9"}]}}]}]}`))
	f.Add([]byte(`{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"a","content":[]}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := DecodeMessagesRequest(body)
		if err != nil {
			return
		}
		enc, err := EncodeMessagesRequest(req)
		if err != nil {
			t.Fatalf("decoded request does not encode: %v\n%s", err, body)
		}
		if _, err := DecodeMessagesRequest(enc); err != nil {
			t.Fatalf("encoded request does not decode: %v\nin:  %s\nout: %s", err, body, enc)
		}
		// The cross-protocol encoding must not fail either.
		if _, err := openai.EncodeChatRequest(req); err != nil {
			t.Fatalf("decoded request does not encode for OpenAI: %v\n%s", err, body)
		}
		EstimateTokens(req)
	})
}

func FuzzStreamDecoder(f *testing.F) {
	f.Add("content_block_start", []byte(`{"type":"content_block_start","index":3,"content_block":{"type":"tool_use","id":"a","name":"f"}}`))
	f.Add("content_block_delta", []byte(`{"type":"content_block_delta","index":-1,"delta":{"type":"input_json_delta","partial_json":"{"}}`))
	f.Add("content_block_stop", []byte(`{"type":"content_block_stop","index":0}`))
	f.Add("message_delta", []byte(`{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":1}}`))
	f.Fuzz(func(t *testing.T, typ string, data []byte) {
		d := NewStreamDecoder()
		start := []byte(`{"type":"content_block_start","index":0,"content_block":{"type":"server_tool_use","id":"s","name":"w","input":{}}}`)
		_, _ = d.Decode("content_block_start", start)
		_, _ = d.Decode(typ, data)
		_, _ = d.Decode("content_block_stop", []byte(`{"type":"content_block_stop","index":0}`))
		_ = d.Usage()
	})
}

// FuzzOutputSchema checks that any JSON schema is rewritten into valid JSON
// (or refused for its depth), and that openai.StrictSchema judges it without
// failing.
func FuzzOutputSchema(f *testing.F) {
	f.Add([]byte(`{"type":"object","properties":{"a":{"type":"string","pattern":"x","format":"uri"}},"required":["a"],"$defs":{"b":{"$ref":"#"}}}`))
	f.Add([]byte(`{"anyOf":[{"type":["string","null"],"minLength":1},true],"oneOf":"x","properties":5,"description":{"a":1}}`))
	f.Add([]byte(`{"type":"array","items":[{"type":"object"}],"minItems":1,"prefixItems":[]}`))
	f.Fuzz(func(t *testing.T, schema []byte) {
		if !json.Valid(schema) {
			return
		}
		openai.StrictSchema(schema)
		out, err := OutputSchema(schema)
		if err != nil {
			if err != errSchemaDepth {
				t.Fatalf("OutputSchema(%s): %v", schema, err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("OutputSchema(%s) = %s: not JSON", schema, out)
		}
	})
}
