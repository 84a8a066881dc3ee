package providertest

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// Every capture is JSON, and every stream but the truncated one ends with
// message-end, its events named both by their event: line and their type.
func TestCohereCapturesAreValid(t *testing.T) {
	names, err := filepath.Glob(filepath.Join("testdata", "cohere", "*"))
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
			last := len(p) > 0 && gjson.GetBytes(p[len(p)-1], "type").Str == "message-end"
			if last == (name == "stream_truncated.sse") {
				t.Errorf("%s: message-end at its end is %v", name, last)
			}
			events := strings.Count(string(b), "event: ")
			if name == "stream_truncated.sse" {
				events-- // the event it stops in has no data yet
			}
			if events != len(p) {
				t.Errorf("%s: %d event: lines for %d events", name, events, len(p))
			}
			for i, d := range p {
				if !gjson.ValidBytes(d) && !(name == "stream_truncated.sse" && i == len(p)-1) {
					t.Errorf("%s: event %d is not JSON: %s", name, i, d)
				}
			}
		}
	}
}

// The fake refuses what Cohere's schema does not take, whatever is
// enqueued; the scripted answer is kept for the next request.
func TestCohereRefuses(t *testing.T) {
	f := NewCohere(t)
	f.Enqueue(Response{Body: Load(t, "cohere/chat_text.json")})
	for _, tc := range []struct{ path, body, want string }{
		{"/v2/chat", `{"model":"m","messages":[{"role":"user","content":"hi"}],"top_p":0.5}`, "top_p"},
		{"/v2/chat", `{"model":"m","messages":[{"role":"user","content":"hi"}],"tool_choice":"auto"}`, "tool_choice"},
		{"/v2/chat", `{"model":"m","messages":[{"role":"developer","content":"hi"}]}`, "developer"},
		{"/v2/chat", `{"model":"m","messages":[{"role":"tool","content":"18C"}]}`, "tool_call_id"},
		{"/v2/embed", `{"model":"m","texts":["x"]}`, "input_type"},
		{"/v2/embed", `{"model":"m","texts":["x"],"input_type":"search_query","dimensions":3}`, "dimensions"},
	} {
		resp, err := http.Post(f.URL+tc.path, "application/json", strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(gjson.GetBytes(b, "message").Str, tc.want) {
			t.Errorf("%s: %d %s", tc.body, resp.StatusCode, b)
		}
	}
	resp, err := http.Post(f.URL+"/v2/chat", "application/json", strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if gjson.GetBytes(b, "id").Str != "c14c80c3-18eb-4519-9460-6c92edd8cfb4" {
		t.Errorf("the scripted answer was not kept: %s", b)
	}
}
