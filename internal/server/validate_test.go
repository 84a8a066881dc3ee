package server

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/protocol/anthropic"
	"github.com/llmgw/llmgw/internal/protocol/openai"
)

// The fast path's shape check never refuses a request the full decoder
// accepts: it only moves errors earlier.
func FuzzChatShapeAgreesWithDecoder(f *testing.F) {
	addSeedFiles(f, "../protocol/openai/testdata/*.in.json")
	f.Add([]byte(`{"model":"m","messages":[{"role":"assistant","content":null,"tool_calls":[]}],"n":2,"stop":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if _, err := openai.DecodeChatRequest(body); err != nil {
			return
		}
		if err := checkChatShape(gjson.ParseBytes(body)); err != nil {
			t.Fatalf("the decoder accepts what the shape check refuses (%v):\n%s", err, body)
		}
	})
}

// The Anthropic fast path's shape check never refuses a request the full
// decoder accepts.
func FuzzMessagesShapeAgreesWithDecoder(f *testing.F) {
	addSeedFiles(f, "../protocol/anthropic/testdata/*.in.json")
	f.Add([]byte(`{"model":"m","max_tokens":5,"system":[{"type":"text","text":"s"}],"messages":[{"role":"user","content":[{"type":"text","text":"x"}]}],"top_k":3,"stop_sequences":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if _, err := anthropic.DecodeMessagesRequest(body); err != nil {
			return
		}
		if err := checkMessagesShape(gjson.ParseBytes(body)); err != nil {
			t.Fatalf("the decoder accepts what the shape check refuses (%v):\n%s", err, body)
		}
	})
}

// addSeedFiles adds the files matching glob to f's seed corpus.
func addSeedFiles(f *testing.F, glob string) {
	files, _ := filepath.Glob(glob)
	if len(files) == 0 {
		f.Fatal("no seed requests found")
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}
