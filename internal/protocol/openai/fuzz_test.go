package openai

import (
	"os"
	"path/filepath"
	"testing"
)

func FuzzDecodeChatRequest(f *testing.F) {
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
	f.Add([]byte(`{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:;base64,"}}]}]}`))
	f.Add([]byte(`{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"custom","custom":{"name":"x","input":""}}]}],"tool_choice":{"type":"custom","custom":{"name":"x"}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := DecodeChatRequest(body)
		if err != nil {
			return
		}
		enc, err := EncodeChatRequest(req)
		if err != nil {
			t.Fatalf("decoded request does not encode: %v\n%s", err, body)
		}
		if _, err := DecodeChatRequest(enc); err != nil {
			t.Fatalf("encoded request does not decode: %v\nin:  %s\nout: %s", err, body, enc)
		}
	})
}
