package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/provider"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

func TestForwardBody(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		stream bool
		want   string
	}{
		{"unary keeps unknown fields",
			`{"model":"alias","messages":[{"role":"user","content":"hi"}],"x_vendor":{"a": [1, 2.50]},"temperature":0.7}`, false,
			`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"x_vendor":{"a": [1, 2.50]},"temperature":0.7}`},
		{"stream forces usage",
			`{"model":"alias","stream":true,"stream_options":{"include_usage":false},"x":"\u00e9"}`, true,
			`{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"x":"\u00e9"}`},
		{"stream adds options",
			`{"stream":true,"messages":[]}`, true,
			`{"stream":true,"messages":[],"model":"gpt-4o-mini","stream_options":{"include_usage":true}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Spare capacity tempts an in-place rewrite.
			in := append(make([]byte, 0, len(tt.body)+4096), tt.body...)
			spare := in[:cap(in)]
			before := bytes.Clone(spare)
			f := &provider.Forward{Body: in, Model: "gpt-4o-mini", Stream: tt.stream}
			got, err := forwardBody(f)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("body\n got %s\nwant %s", got, tt.want)
			}
			if !bytes.Equal(spare, before) {
				t.Error("forwardBody wrote into the client's body")
			}
			got[0] = 'X'
			if f.Body[0] != '{' {
				t.Error("the upstream body aliases the client's body")
			}
		})
	}
}

func TestForwardUnary(t *testing.T) {
	f := providertest.NewOpenAI(t)
	body := providertest.Load(t, "openai/chat_text.json")
	f.Enqueue(providertest.Response{Body: body})
	p := newProvider(t, f, nil)
	in := []byte(`{"model":"alias","messages":[{"role":"user","content":"hi"}],"vendor_knob":true}`)
	s, err := p.Forward(context.Background(), &provider.Forward{Body: in, Model: "gpt-4o-mini"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	chunks, err := drain(t, s)
	if err != io.EOF || len(chunks) != 1 {
		t.Fatalf("%d chunks, %v", len(chunks), err)
	}
	if !bytes.Equal(chunks[0].Raw, body) || chunks[0].RawProtocol != "openai" {
		t.Error("Raw is not the upstream body")
	}
	if u := s.Usage(); u.TotalTokens != 29 || u.PromptTokens != 19 {
		t.Errorf("usage %+v", u)
	}
	sent := f.Requests()[0].Body
	if string(sent) != `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"vendor_knob":true}` {
		t.Errorf("upstream body %s", sent)
	}
	if p.Protocol() != "openai" {
		t.Errorf("Protocol = %q", p.Protocol())
	}
}

func TestForwardUnaryErrorIn200(t *testing.T) {
	f := providertest.NewOpenAI(t)
	f.Enqueue(providertest.Response{Body: []byte(`{"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}`)})
	p := newProvider(t, f, nil)
	_, err := p.Forward(context.Background(), &provider.Forward{Body: []byte(`{"model":"a","messages":[]}`), Model: "m"})
	if e := llm.AsError(err); e.Kind != llm.KindUpstream || e.PublicMessage() != "The server had an error" || e.Provider != "oai" {
		t.Fatalf("err = %v", err)
	}
}

func TestForwardStream(t *testing.T) {
	for _, name := range []string{"stream_text.sse", "stream_tool_calls.sse"} {
		capture := providertest.Load(t, "openai/"+name)
		for _, split := range []int{0, 1} {
			f := providertest.NewOpenAI(t)
			f.Enqueue(providertest.Response{SSE: capture, Split: split})
			p := newProvider(t, f, nil)
			s := openForTest(t, p, true)
			chunks, err := drain(t, s)
			s.Close()
			if err != io.EOF {
				t.Fatalf("%s split %d: ended with %v", name, split, err)
			}
			want := providertest.DataPayloads(capture)
			want = want[:len(want)-1] // [DONE] ends the stream, it is no chunk
			if len(chunks) != len(want) {
				t.Fatalf("%s split %d: %d chunks, want %d", name, split, len(chunks), len(want))
			}
			var usageChunks int
			for i, c := range chunks {
				if !bytes.Equal(c.Raw, want[i]) || c.RawProtocol != "openai" {
					t.Errorf("%s split %d: chunk %d\n got %s\nwant %s", name, split, i, c.Raw, want[i])
				}
				if c.Usage != nil {
					usageChunks++
				}
			}
			wantUsage := scanCaptureUsage(t, want[len(want)-1])
			if got := s.Usage(); got != wantUsage || usageChunks != 1 {
				t.Errorf("%s split %d: usage %+v (from %d chunks), want %+v", name, split, got, usageChunks, wantUsage)
			}
			if !gjson.GetBytes(f.Requests()[0].Body, "stream_options.include_usage").Bool() {
				t.Errorf("include_usage not forced: %s", f.Requests()[0].Body)
			}
		}
	}
}

func scanCaptureUsage(t *testing.T, payload []byte) llm.Usage {
	t.Helper()
	var w struct {
		Usage struct {
			Prompt     int `json:"prompt_tokens"`
			Completion int `json:"completion_tokens"`
			Total      int `json:"total_tokens"`
			Details    struct {
				Cached int `json:"cached_tokens"`
			} `json:"prompt_tokens_details"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(payload, &w); err != nil {
		t.Fatal(err)
	}
	return llm.Usage{PromptTokens: w.Usage.Prompt, CompletionTokens: w.Usage.Completion,
		TotalTokens: w.Usage.Total, CachedTokens: w.Usage.Details.Cached}
}

func TestIsErrorPayload(t *testing.T) {
	tests := map[string]bool{
		`{"error":{"message":"x"}}`:   true,
		`{ "error" :{}}`:              true,
		`{"id":"c","error":null}`:     false,
		`{"id":"chatcmpl","choices"}`: false,
		`[DONE]`:                      false,
		``:                            false,
	}
	for in, want := range tests {
		if got := isErrorPayload([]byte(in)); got != want {
			t.Errorf("isErrorPayload(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestEmbed(t *testing.T) {
	f := providertest.NewOpenAI(t)
	body := providertest.Load(t, "openai/embeddings.json")
	f.Enqueue(providertest.Response{Body: body})
	p := newProvider(t, f, nil)
	r, err := p.Embed(context.Background(), &llm.EmbedRequest{Model: "text-embedding-3-small", Input: json.RawMessage(`"The food was delicious"`)})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Data) != 1 || r.Usage.PromptTokens != 8 || r.Model != "text-embedding-3-small" {
		t.Errorf("response %+v", r)
	}
	if !bytes.Equal(r.Raw, body) || r.RawProtocol != "openai" {
		t.Error("Raw is not the upstream body")
	}
	req := f.Requests()[0]
	if req.Path != "/v1/embeddings" || gjson.GetBytes(req.Body, "input").String() != "The food was delicious" {
		t.Errorf("request %s %s", req.Path, req.Body)
	}

	f.Enqueue(providertest.Response{Status: 503, Body: []byte(`{"error":{"message":"overloaded"}}`)})
	if _, err := p.Embed(context.Background(), &llm.EmbedRequest{Model: "m", Input: json.RawMessage(`"x"`)}); llm.AsError(err).Kind != llm.KindUpstreamUnavailable {
		t.Errorf("503: %v", err)
	}
}

func TestAuthorizationHeader(t *testing.T) {
	tests := []struct {
		name, key, want string
	}{
		{"key", "sk-abc", "Bearer sk-abc"},
		{"no key", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := providertest.NewOpenAI(t)
			p := newProvider(t, f, func(c *Config) { c.APIKey, c.Type = tt.key, TypeVLLM })
			s, err := p.Chat(context.Background(), chatRequest(false))
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
			h := f.Requests()[0].Header
			if got := h.Get("Authorization"); got != tt.want {
				t.Errorf("Authorization = %q, want %q", got, tt.want)
			}
			if _, present := h["Authorization"]; present != (tt.want != "") {
				t.Errorf("Authorization present = %v", present)
			}
		})
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
		chatURL string
	}{
		{"ok", Config{Name: "a", Type: TypeOpenAI, BaseURL: "https://api.openai.com/v1"}, "", "https://api.openai.com/v1/chat/completions"},
		{"trailing slash", Config{Name: "a", Type: TypeOpenAICompatible, BaseURL: "http://localhost:8000/v1/"}, "", "http://localhost:8000/v1/chat/completions"},
		{"vllm", Config{Name: "a", Type: TypeVLLM, BaseURL: "http://vllm:8000/v1"}, "", "http://vllm:8000/v1/chat/completions"},
		{"relative", Config{Name: "a", Type: TypeOpenAI, BaseURL: "/v1"}, "not an absolute", ""},
		{"no scheme", Config{Name: "a", Type: TypeOpenAI, BaseURL: "api.openai.com/v1"}, "not an absolute", ""},
		{"ftp", Config{Name: "a", Type: TypeOpenAI, BaseURL: "ftp://h/v1"}, "not an absolute", ""},
		{"query", Config{Name: "a", Type: TypeOpenAI, BaseURL: "https://h/v1?x=1"}, "query", ""},
		{"user info", Config{Name: "a", Type: TypeOpenAI, BaseURL: "https://u:p@h/v1"}, "user info", ""},
		{"empty", Config{Name: "a", Type: TypeOpenAI}, "not an absolute", ""},
		{"bad type", Config{Name: "a", Type: "anthropic", BaseURL: "https://h"}, "unsupported type", ""},
		{"no name", Config{Type: TypeOpenAI, BaseURL: "https://h"}, "name is empty", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.chatURL != tt.chatURL || p.Name() != "a" {
				t.Errorf("chat URL %q", p.chatURL)
			}
		})
	}
}

func BenchmarkChatUnary(b *testing.B) {
	f := providertest.NewOpenAI(b)
	p := newProvider(b, f, nil)
	req := chatRequest(false)
	b.ReportAllocs()
	for b.Loop() {
		s, err := p.Chat(context.Background(), req)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Recv(); err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

func BenchmarkForwardUnary(b *testing.B) {
	f := providertest.NewOpenAI(b)
	p := newProvider(b, f, nil)
	fw := &provider.Forward{Body: []byte(`{"model":"alias","messages":[{"role":"user","content":"Say hello"}]}`), Model: "gpt-4o-mini"}
	b.ReportAllocs()
	for b.Loop() {
		s, err := p.Forward(context.Background(), fw)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Recv(); err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

func benchmarkStream(b *testing.B, forward bool) {
	f := providertest.NewOpenAI(b)
	p := newProvider(b, f, nil)
	capture := providertest.Load(b, "openai/stream_text.sse")
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		f.Enqueue(providertest.Response{SSE: capture})
		b.StartTimer()
		s := openForTest(b, p, forward)
		var err error
		for err == nil {
			_, err = s.Recv() // as a relay does: nothing kept, nothing copied
		}
		if err != io.EOF {
			b.Fatal(err)
		}
		s.Close()
	}
}

func BenchmarkChatStream(b *testing.B)    { benchmarkStream(b, false) }
func BenchmarkForwardStream(b *testing.B) { benchmarkStream(b, true) }

// Forward's stream reuses one chunk, its Raw and its Usage, for every event
// (llm.Stream allows it until the next chunk), and leaves the last chunk
// intact when the stream then ends, cleanly or not: a caller may still use
// it after the Recv that reports the end, or after Close.
func TestForwardStreamReusesChunk(t *testing.T) {
	for _, name := range []string{"stream_text.sse", "stream_truncated.sse"} {
		capture := providertest.Load(t, "openai/"+name)
		f := providertest.NewOpenAI(t)
		f.Enqueue(providertest.Response{SSE: capture})
		p := newProvider(t, f, nil)
		s := openForTest(t, p, true)
		var last *llm.Chunk
		var lastRaw []byte
		var usage *llm.Usage
		n := 0
		var err error
		for {
			var c *llm.Chunk
			if c, err = s.Recv(); err != nil {
				break
			}
			if last != nil && c != last {
				t.Fatalf("%s: chunk %d is a new one, want the first reused", name, n)
			}
			if c.Usage != nil {
				if usage != nil && c.Usage != usage {
					t.Errorf("%s: chunk %d has a new Usage", name, n)
				}
				usage = c.Usage
			}
			last, lastRaw = c, bytes.Clone(c.Raw)
			n++
		}
		s.Close()
		want := providertest.DataPayloads(capture)
		if name == "stream_text.sse" {
			if err != io.EOF || n != len(want)-1 {
				t.Fatalf("%s: %d chunks then %v", name, n, err)
			}
			if !bytes.Equal(last.Raw, want[n-1]) || last.Usage == nil {
				t.Errorf("%s: last chunk changed after the end: %s", name, last.Raw)
			}
		} else if err == nil || err == io.EOF || n == 0 {
			t.Fatalf("%s: %d chunks then %v, want a failure", name, n, err)
		}
		if !bytes.Equal(last.Raw, lastRaw) {
			t.Errorf("%s: last chunk changed after the end\n got %s\nwant %s", name, last.Raw, lastRaw)
		}
	}
}
