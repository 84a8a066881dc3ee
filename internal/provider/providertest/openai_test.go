package providertest

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func post(t *testing.T, url, body string) *http.Response {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestCapturesAreValid(t *testing.T) {
	for _, name := range []string{"chat_text.json", "chat_tool_calls.json", "error_429.json", "error_401.json", "error_500.json", "embeddings.json"} {
		if !gjson.ValidBytes(Load(t, "openai/"+name)) {
			t.Errorf("%s is not valid JSON", name)
		}
	}
	tests := []struct {
		name   string
		events int
		done   bool
	}{
		{"stream_text.sse", 11, true},
		{"stream_tool_calls.sse", 20, true},
		{"stream_error_in_200.sse", 3, false},
		{"stream_truncated.sse", 2, false},
	}
	for _, tt := range tests {
		p := DataPayloads(Load(t, "openai/"+tt.name))
		if len(p) != tt.events {
			t.Errorf("%s: %d events, want %d", tt.name, len(p), tt.events)
			continue
		}
		for i, d := range p {
			if string(d) == "[DONE]" {
				if i != len(p)-1 || !tt.done {
					t.Errorf("%s: unexpected [DONE] at %d", tt.name, i)
				}
			} else if !gjson.ValidBytes(d) {
				t.Errorf("%s: event %d is not JSON: %s", tt.name, i, d)
			}
		}
	}
}

func TestOpenAIDefaultCompletion(t *testing.T) {
	f := NewOpenAI(t)
	resp := post(t, f.URL+"/chat/completions", `{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"hi there"}]}]}`)
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || gjson.GetBytes(b, "choices.0.message.content").String() != "hi there" ||
		gjson.GetBytes(b, "model").String() != "m" || gjson.GetBytes(b, "usage.completion_tokens").Int() != 2 {
		t.Fatalf("status %d, body %s", resp.StatusCode, b)
	}
	reqs := f.Requests()
	if len(reqs) != 1 || reqs[0].Path != "/v1/chat/completions" || !bytes.Contains(reqs[0].Body, []byte("hi there")) {
		t.Fatalf("recorded %+v", reqs)
	}
}

func TestOpenAIDefaultStream(t *testing.T) {
	f := NewOpenAI(t)
	resp := post(t, f.URL+"/chat/completions", `{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"a b c"}]}`)
	b, _ := io.ReadAll(resp.Body)
	p := DataPayloads(b)
	var text strings.Builder
	for _, d := range p[:len(p)-1] {
		text.WriteString(gjson.GetBytes(d, "choices.0.delta.content").String())
	}
	if text.String() != "a b c" || string(p[len(p)-1]) != "[DONE]" ||
		gjson.GetBytes(p[len(p)-2], "usage.completion_tokens").Int() != 3 ||
		gjson.GetBytes(p[1], "usage").Type != gjson.Null {
		t.Fatalf("stream:\n%s", b)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Errorf("Content-Type = %q", ct)
	}
}

func TestOpenAIScriptedSplitStream(t *testing.T) {
	f := NewOpenAI(t)
	capture := Load(t, "openai/stream_text.sse")
	f.Enqueue(Response{SSE: capture, Split: 1, Header: http.Header{"X-Request-Id": {"req_1"}}})
	resp := post(t, f.URL+"/chat/completions", `{}`)
	b, _ := io.ReadAll(resp.Body)
	if !bytes.Equal(b, capture) || resp.Header.Get("X-Request-Id") != "req_1" {
		t.Fatalf("body differs from the capture or header missing")
	}
}

func TestOpenAIErrorResponse(t *testing.T) {
	f := NewOpenAI(t)
	f.Enqueue(Response{Status: 429, Header: http.Header{"Retry-After": {"20"}}, Body: Load(t, "openai/error_429.json")})
	resp := post(t, f.URL+"/chat/completions", `{}`)
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "20" || gjson.GetBytes(b, "error.code").String() != "rate_limit_exceeded" {
		t.Fatalf("status %d body %s", resp.StatusCode, b)
	}
	// The queue is drained: the next request gets the default answer.
	if resp := post(t, f.URL+"/chat/completions", `{"messages":[]}`); resp.StatusCode != 200 {
		t.Fatalf("second status %d", resp.StatusCode)
	}
}

func TestOpenAIHoldObservesCancel(t *testing.T) {
	f := NewOpenAI(t)
	hold := make(chan struct{})
	defer close(hold)
	capture := Load(t, "openai/stream_text.sse")
	first := bytes.Index(capture, []byte("\n\n")) + 2
	f.Enqueue(Response{SSE: capture, Hold: hold, HoldAfter: first})
	resp := post(t, f.URL+"/chat/completions", `{}`)
	got := make([]byte, first)
	if _, err := io.ReadFull(resp.Body, got); err != nil || !bytes.Equal(got, capture[:first]) {
		t.Fatalf("first event: %q, %v", got, err)
	}
	resp.Body.Close()
	select {
	case <-f.Canceled():
	case <-time.After(time.Second):
		t.Fatal("the fake did not observe the client going away")
	}
}

func TestOpenAIHangUp(t *testing.T) {
	f := NewOpenAI(t)
	f.Enqueue(Response{SSE: Load(t, "openai/stream_truncated.sse"), HangUp: true})
	resp := post(t, f.URL+"/chat/completions", `{}`)
	if _, err := io.ReadAll(resp.Body); err != io.ErrUnexpectedEOF {
		t.Fatalf("read error = %v, want io.ErrUnexpectedEOF", err)
	}
}

func TestOpenAIUnknownPath(t *testing.T) {
	f := NewOpenAI(t)
	resp := post(t, f.URL+"/nope", `{}`)
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 404 || !gjson.GetBytes(b, "error.message").Exists() {
		t.Fatalf("status %d body %s", resp.StatusCode, b)
	}
}

func TestOpenAIDefaultEmbeddings(t *testing.T) {
	f := NewOpenAI(t)
	resp := post(t, f.URL+"/embeddings", `{"model":"e","input":["a","b"]}`)
	b, _ := io.ReadAll(resp.Body)
	if n := len(gjson.GetBytes(b, "data").Array()); n != 2 || gjson.GetBytes(b, "data.1.index").Int() != 1 {
		t.Fatalf("body %s", b)
	}
}
