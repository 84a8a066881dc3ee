package providertest

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// Every capture is JSON, or newline-delimited JSON whose last line is the
// done line, but for the truncated capture (cut mid-line) and the error
// capture (an error line).
func TestOllamaCapturesAreValid(t *testing.T) {
	names, err := filepath.Glob(filepath.Join("testdata", "ollama", "*"))
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
		case ".ndjson":
			lines := bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
			for i, l := range lines {
				last := i == len(lines)-1
				if !gjson.ValidBytes(l) {
					if !(last && name == "stream_truncated.ndjson") {
						t.Errorf("%s: line %d is not JSON: %s", name, i, l)
					}
					continue
				}
				done := gjson.GetBytes(l, "done").Bool()
				if done != (last && name != "stream_error.ndjson") {
					t.Errorf("%s: line %d done %v", name, i, done)
				}
			}
		}
	}
}

func ollamaPost(t *testing.T, f *Ollama, path, body string) (int, string, []byte) {
	t.Helper()
	resp, err := http.Post(f.URL+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// The fake refuses what Ollama's decoder refuses, whatever is enqueued; the
// scripted answer is kept for the next request.
func TestOllamaRefuses(t *testing.T) {
	f := NewOllama(t)
	f.Enqueue(Response{Body: Load(t, "ollama/chat_text.json")})
	for _, body := range []string{
		`{"model":"m","messages":[{"role":"assistant","content":"","tool_calls":[{"function":{"name":"f","arguments":"{}"}}]}]}`,
		`{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]}`,
		`{"model":"m","messages":[{"role":"user","content":"hi","images":[{"url":"x"}]}]}`,
	} {
		status, _, b := ollamaPost(t, f, "/api/chat", body)
		if status != 400 || !gjson.GetBytes(b, "error").Exists() {
			t.Errorf("%s: %d %s", body, status, b)
		}
	}
	status, _, b := ollamaPost(t, f, "/api/chat", `{"model":"m","stream":false,"messages":[{"role":"user","content":"hi"}]}`)
	if status != 200 || gjson.GetBytes(b, "message.content").String() != "Hello! How are you today?" {
		t.Errorf("scripted answer lost: %d %s", status, b)
	}
}

// With nothing enqueued the fake echoes, streamed as newline-delimited JSON
// unless stream is false, and embeds.
func TestOllamaEcho(t *testing.T) {
	f := NewOllama(t)
	status, ct, b := ollamaPost(t, f, "/api/chat", `{"model":"m","messages":[{"role":"user","content":"one two"}]}`)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if status != 200 || ct != NDJSON || len(lines) != 3 || !gjson.Get(lines[2], "done").Bool() ||
		gjson.Get(lines[0], "message.content").String()+gjson.Get(lines[1], "message.content").String() != "one two" {
		t.Errorf("stream %d %q:\n%s", status, ct, b)
	}
	_, _, b = ollamaPost(t, f, "/api/chat", `{"model":"m","stream":false,"messages":[{"role":"user","content":"one two"}]}`)
	if gjson.GetBytes(b, "message.content").String() != "one two" || gjson.GetBytes(b, "eval_count").Int() != 2 {
		t.Errorf("answer %s", b)
	}
	_, _, b = ollamaPost(t, f, "/api/embed", `{"model":"e","input":["a","bb"]}`)
	if n := len(gjson.GetBytes(b, "embeddings").Array()); n != 2 {
		t.Errorf("embeddings %s", b)
	}
}
