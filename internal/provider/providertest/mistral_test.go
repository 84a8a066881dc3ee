package providertest

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

func TestMistralCapturesAreValid(t *testing.T) {
	names, err := filepath.Glob(filepath.Join("testdata", "mistral", "*"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no captures: %v", err)
	}
	for _, path := range names {
		name := filepath.Base(path)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		switch filepath.Ext(name) {
		case ".json":
			if !gjson.ValidBytes(b) {
				t.Errorf("%s is not valid JSON", name)
			}
		case ".sse":
			p := DataPayloads(b)
			done := len(p) > 0 && string(p[len(p)-1]) == "[DONE]"
			if done == (name == "stream_truncated.sse") {
				t.Errorf("%s: [DONE] at its end is %v", name, done)
			}
			for i, d := range p {
				if string(d) != "[DONE]" && !gjson.ValidBytes(d) {
					t.Errorf("%s: event %d is not JSON: %s", name, i, d)
				}
			}
		}
	}
}

// The fake refuses what Mistral refuses, whatever is enqueued: a member its
// request schema does not list, and a tool call id that is not nine
// alphanumerics; the scripted answer is kept for the next request.
func TestMistralRefuses(t *testing.T) {
	f := NewMistral(t)
	f.Enqueue(Response{Body: Load(t, "mistral/chat_text.json")})
	for _, tc := range []struct {
		body   string
		status int
		want   string
	}{
		{`{"model":"m","messages":[{"role":"user","content":"hi"}],"stream_options":{"include_usage":true}}`, 422, `"stream_options"`},
		{`{"model":"m","messages":[{"role":"user","content":"hi"}],"seed":1}`, 422, `"seed"`},
		{`{"model":"m","input":"x","dimensions":3}`, 422, `"dimensions"`},
		{`{"model":"m","messages":[{"role":"tool","tool_call_id":"call_abc123","content":"18C"}]}`, 400, "Tool call id was call_abc123"},
		{`{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"abc","function":{"name":"f","arguments":"{}"}}]}]}`, 400, "Tool call id was abc"},
	} {
		path := "/chat/completions"
		if strings.Contains(tc.body, `"input"`) {
			path = "/embeddings"
		}
		resp := post(t, f.URL+path, tc.body)
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.want) {
			t.Errorf("%s: %d %s", tc.body, resp.StatusCode, b)
		}
	}
	resp := post(t, f.URL+"/chat/completions", `{"model":"m","messages":[{"role":"tool","tool_call_id":"D681PevKs","content":"18C"}],"random_seed":1,"safe_prompt":true}`)
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || gjson.GetBytes(b, "choices.0.message.content").Str != "Hello! How can I assist you today?" {
		t.Errorf("valid request: %d %s", resp.StatusCode, b)
	}
}

// With nothing enqueued the fake echoes in Mistral's format; a stream's
// last chunk carries the usage unasked, and [DONE] ends it.
func TestMistralEcho(t *testing.T) {
	f := NewMistral(t)
	resp := post(t, f.URL+"/chat/completions", `{"model":"m","stream":true,"messages":[{"role":"user","content":"one two"}]}`)
	b, _ := io.ReadAll(resp.Body)
	p := DataPayloads(b)
	if len(p) != 5 || string(p[4]) != "[DONE]" || gjson.GetBytes(p[3], "usage.completion_tokens").Int() != 2 ||
		gjson.GetBytes(p[3], "choices.0.finish_reason").Str != "stop" {
		t.Errorf("stream:\n%s", b)
	}
	resp = post(t, f.URL+"/embeddings", `{"model":"mistral-embed","input":["a","b"]}`)
	b, _ = io.ReadAll(resp.Body)
	if n := len(gjson.GetBytes(b, "data").Array()); resp.StatusCode != 200 || n != 2 {
		t.Errorf("embeddings: %d %s", resp.StatusCode, b)
	}
}
