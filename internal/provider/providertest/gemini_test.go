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

// Every capture is JSON, or events of one JSON object each ended by CRLF
// CRLF, the last with a finishReason, but for the truncated capture (cut
// mid-event) and the error capture (an error event).
func TestGeminiCapturesAreValid(t *testing.T) {
	names, err := filepath.Glob(filepath.Join("testdata", "gemini", "*"))
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
			events := bytes.Split(b, []byte("\r\n\r\n"))
			for i, ev := range events {
				last := i == len(events)-1
				if last {
					if len(ev) > 0 && name != "stream_truncated.sse" {
						t.Errorf("%s: trailing bytes %q", name, ev)
					}
					continue
				}
				data, ok := bytes.CutPrefix(ev, []byte("data: "))
				if !ok || !gjson.ValidBytes(data) {
					t.Errorf("%s: event %d is not a data event of JSON: %s", name, i, ev)
					continue
				}
				finished := gjson.GetBytes(data, "candidates.0.finishReason").Exists()
				final := i == len(events)-2 && name != "stream_error.sse" && name != "stream_truncated.sse"
				if finished != final {
					t.Errorf("%s: event %d finishReason %v", name, i, finished)
				}
			}
		}
	}
}

func geminiPost(t *testing.T, url, key, body string) (int, string, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if key != "" {
		req.Header.Set("x-goog-api-key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// The fake refuses what Gemini refuses, and echoes otherwise.
func TestGeminiFake(t *testing.T) {
	f := NewGemini(t)
	gen := f.URL + "/v1beta/models/gemini-2.5-flash:generateContent"
	ok := `{"contents":[{"role":"user","parts":[{"text":"hi there"}]}]}`
	for _, tc := range []struct {
		url, key, body string
		status         int
	}{
		{gen, "", ok, 403},
		{gen + "?key=k", "k", ok, 403},
		{gen, "k", `{"contents":[{"role":"assistant","parts":[{"text":"x"}]}]}`, 400},
		{gen, "k", `{"contents":[{"role":"user","parts":[]}]}`, 400},
		{gen, "k", `{"contents":[{"role":"model","parts":[{"functionCall":{"name":"f","args":"{}"}}]}]}`, 400},
		{gen, "k", `{"contents":[{"role":"user","parts":[{"functionResponse":{"name":"f","response":"x"}}]}]}`, 400},
		{gen, "k", ok, 200},
	} {
		status, _, b := geminiPost(t, tc.url, tc.key, tc.body)
		if status != tc.status {
			t.Errorf("%s %s: status %d: %s", tc.url, tc.body, status, b)
		}
	}
	_, _, b := geminiPost(t, gen, "k", ok)
	if gjson.GetBytes(b, "candidates.0.content.parts.0.text").Str != "hi there" {
		t.Errorf("echo %s", b)
	}
	stream := f.URL + "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
	_, ct, b := geminiPost(t, stream+"?alt=sse", "k", ok)
	if !strings.HasPrefix(ct, "text/event-stream") || !bytes.HasSuffix(b, []byte("\"totalTokenCount\":4}}\r\n\r\n")) {
		t.Errorf("stream %q %s", ct, b)
	}
	if _, _, b := geminiPost(t, stream, "k", ok); !gjson.ParseBytes(b).IsArray() {
		t.Errorf("stream without alt=sse: %s", b)
	}
}
