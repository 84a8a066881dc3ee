package responses

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/llmgw/llmgw/internal/llm"
)

// FuzzDecodeRequest checks that no body panics the decoder, that every
// refusal is an invalid-request *llm.Error, and that a request it accepts
// gives a response object that is valid JSON, whatever it echoes.
func FuzzDecodeRequest(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "request_*.in.json"))
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
	f.Add([]byte(`{"model":"m","input":[{"type":"reasoning","summary":[],"encrypted_content":"x"},{"type":"function_call","call_id":"c","name":"f","arguments":""}]}`))
	f.Add([]byte(`{"model":"m","input":"x","text":{"format":{"type":"json_schema","name":"s","schema":{}}},"reasoning":{"summary":"auto"},"metadata":{"a":"\u00e9"}}`))
	f.Add([]byte(`{"model":"m","input":[{"role":"user","content":[{"type":"input_image","image_url":"data:;base64,"}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := DecodeRequest(body)
		if err != nil {
			var e *llm.Error
			if !errors.As(err, &e) || e.Status() != 400 {
				t.Fatalf("refusal is not a 400 *llm.Error: %v", err)
			}
			return
		}
		if !json.Valid(req.Input) {
			t.Fatalf("Input is not JSON: %s", req.Input)
		}
		out, err := EncodeResponse(&llm.Chunk{Choices: []llm.Choice{{Message: llm.Message{Content: []llm.Part{llm.TextPart("ok")}}}}}, &Meta{ID: "resp_1", Request: req})
		if err != nil || !json.Valid(out) {
			t.Fatalf("response is not JSON (%v):\n%s\nfrom %s", err, out, body)
		}
	})
}
