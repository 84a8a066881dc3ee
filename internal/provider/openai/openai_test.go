package openai

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
	"go.uber.org/goleak"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/provider"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const testKey = "sk-test-PLANTED-0123456789abcdef"

func newProvider(t testing.TB, f *providertest.OpenAI, mod func(*Config)) *Provider {
	t.Helper()
	c := Config{Name: "oai", Type: TypeOpenAI, BaseURL: f.URL, APIKey: testKey, HTTPClient: provider.NewHTTPClient(provider.ClientOptions{})}
	if mod != nil {
		mod(&c)
	}
	p, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.HTTPClient.CloseIdleConnections)
	return p
}

func chatRequest(stream bool) *llm.ChatRequest {
	return &llm.ChatRequest{
		Model:    "gpt-4o-mini",
		Messages: []llm.Message{{Role: llm.RoleUser, Content: []llm.Part{llm.TextPart("Say hello")}}},
		Stream:   stream,
	}
}

// drain receives every chunk until an error, which it returns (io.EOF at a
// proper end).
// drain receives the whole stream and keeps copies of its chunks: a stream
// may reuse a chunk, its Raw and its Usage for the next one (llm.Stream).
func drain(t testing.TB, s llm.Stream) ([]*llm.Chunk, error) {
	t.Helper()
	var chunks []*llm.Chunk
	for {
		c, err := s.Recv()
		if err != nil {
			return chunks, err
		}
		chunks = append(chunks, keep(c))
	}
}

// keep returns a copy of c that a later Recv cannot change.
func keep(c *llm.Chunk) *llm.Chunk {
	k := *c
	k.Raw = bytes.Clone(c.Raw)
	if c.Usage != nil {
		u := *c.Usage
		k.Usage = &u
	}
	return &k
}

func text(chunks []*llm.Chunk) string {
	var sb strings.Builder
	for _, c := range chunks {
		for _, ch := range c.Choices {
			sb.WriteString(ch.Message.Text())
		}
	}
	return sb.String()
}

// captureText is the content a stream capture spells out.
func captureText(capture []byte) string {
	var sb strings.Builder
	for _, d := range providertest.DataPayloads(capture) {
		sb.WriteString(gjson.GetBytes(d, "choices.0.delta.content").String())
	}
	return sb.String()
}

func TestChatUnary(t *testing.T) {
	f := providertest.NewOpenAI(t)
	f.Enqueue(providertest.Response{Body: providertest.Load(t, "openai/chat_text.json")})
	p := newProvider(t, f, func(c *Config) { c.Headers = map[string]string{"OpenAI-Organization": "org-1"} })

	s, err := p.Chat(context.Background(), chatRequest(false))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := llm.Usage{PromptTokens: 19, CompletionTokens: 10, TotalTokens: 29}
	if got := s.Usage(); got != want {
		t.Errorf("Usage before Recv = %+v, want %+v", got, want)
	}
	chunks, err := drain(t, s)
	if err != io.EOF || len(chunks) != 1 {
		t.Fatalf("got %d chunks, err %v", len(chunks), err)
	}
	c := chunks[0]
	if got := text(chunks); got != "Hello! How can I assist you today?" || c.Choices[0].FinishReason != llm.FinishStop {
		t.Errorf("text %q, finish %q", got, c.Choices[0].FinishReason)
	}
	if c.Usage == nil || *c.Usage != want {
		t.Errorf("chunk usage = %+v", c.Usage)
	}

	reqs := f.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	checks := map[string][2]string{
		"path":          {r.Path, "/v1/chat/completions"},
		"method":        {r.Method, http.MethodPost},
		"content type":  {r.Header.Get("Content-Type"), "application/json"},
		"accept":        {r.Header.Get("Accept"), "application/json"},
		"authorization": {r.Header.Get("Authorization"), "Bearer " + testKey},
		"extra header":  {r.Header.Get("OpenAI-Organization"), "org-1"},
		"model":         {gjson.GetBytes(r.Body, "model").String(), "gpt-4o-mini"},
		"stream":        {gjson.GetBytes(r.Body, "stream").Raw, ""},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", name, c[0], c[1])
		}
	}
}

func TestChatStreamText(t *testing.T) {
	capture := providertest.Load(t, "openai/stream_text.sse")
	for _, split := range []int{0, 1, 7} {
		t.Run(fmt.Sprintf("split=%d", split), func(t *testing.T) {
			f := providertest.NewOpenAI(t)
			f.Enqueue(providertest.Response{SSE: capture, Split: split})
			p := newProvider(t, f, nil)
			s, err := p.Chat(context.Background(), chatRequest(true))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			chunks, err := drain(t, s)
			if err != io.EOF {
				t.Fatalf("stream ended with %v, want io.EOF", err)
			}
			if got, want := text(chunks), captureText(capture); got != want || !strings.Contains(got, "Ça") {
				t.Errorf("text = %q, want %q", got, want)
			}
			want := llm.Usage{PromptTokens: 12, CompletionTokens: 9, TotalTokens: 21}
			if got := s.Usage(); got != want {
				t.Errorf("Usage = %+v, want %+v", got, want)
			}
			r := f.Requests()[0]
			if r.Header.Get("Accept") != "text/event-stream" || !gjson.GetBytes(r.Body, "stream_options.include_usage").Bool() {
				t.Errorf("request: accept %q, body %s", r.Header.Get("Accept"), r.Body)
			}
		})
	}
}

func TestChatStreamToolCalls(t *testing.T) {
	capture := providertest.Load(t, "openai/stream_tool_calls.sse")
	for _, split := range []int{0, 1} {
		f := providertest.NewOpenAI(t)
		f.Enqueue(providertest.Response{SSE: capture, Split: split})
		p := newProvider(t, f, nil)
		s, err := p.Chat(context.Background(), chatRequest(true))
		if err != nil {
			t.Fatal(err)
		}
		chunks, err := drain(t, s)
		s.Close()
		if err != io.EOF {
			t.Fatalf("split %d: stream ended with %v", split, err)
		}
		var acc llm.Accumulator
		for _, c := range chunks {
			acc.Add(c)
		}
		resp := acc.Response()
		if len(resp.Choices) != 1 || resp.Choices[0].FinishReason != llm.FinishToolCalls {
			t.Fatalf("split %d: choices %+v", split, resp.Choices)
		}
		want := []llm.ToolCall{
			{Index: 0, ID: "call_7bnK1ZQ0mDd1rTfJ3bNvw0Ck", Type: "function", Name: "get_weather", Arguments: `{"location": "Paris, France", "unit": "celsius"}`},
			{Index: 1, ID: "call_Xq2Vb6Ln0sPq8YtR4mKd1EeZ", Type: "function", Name: "get_weather", Arguments: `{"location": "Zürich"}`},
		}
		got := resp.Choices[0].Message.ToolCalls
		if len(got) != len(want) {
			t.Fatalf("split %d: tool calls %+v", split, got)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("split %d: tool call %d = %+v, want %+v", split, i, got[i], want[i])
			}
		}
		if u := s.Usage(); u.CachedTokens != 64 || u.TotalTokens != 135 {
			t.Errorf("split %d: usage %+v", split, u)
		}
	}
}

func TestStreamFailures(t *testing.T) {
	full := providertest.Load(t, "openai/stream_text.sse")
	noDone := full[:len(full)-len("data: [DONE]\n\n")]
	tests := []struct {
		name    string
		resp    providertest.Response
		chunks  int
		message string
	}{
		{"error inside 200", providertest.Response{SSE: providertest.Load(t, "openai/stream_error_in_200.sse")}, 2,
			"The server had an error while processing your request. Sorry about that!"},
		{"truncated mid-event", providertest.Response{SSE: providertest.Load(t, "openai/stream_truncated.sse")}, 2,
			"upstream stream ended before completion"},
		{"clean end without done", providertest.Response{SSE: noDone}, 10, "upstream stream ended before completion"},
		{"hang up", providertest.Response{SSE: providertest.Load(t, "openai/stream_truncated.sse"), HangUp: true}, 2, ""},
	}
	for _, tt := range tests {
		for _, forward := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/forward=%v", tt.name, forward), func(t *testing.T) {
				f := providertest.NewOpenAI(t)
				f.Enqueue(tt.resp)
				p := newProvider(t, f, nil)
				s := openForTest(t, p, forward)
				defer s.Close()
				chunks, err := drain(t, s)
				var e *llm.Error
				if !errors.As(err, &e) {
					t.Fatalf("stream ended with %v, want an *llm.Error", err)
				}
				if e.Kind != llm.KindUpstream || e.Provider != "oai" || !e.Retryable() {
					t.Errorf("error %v: kind %v", e, e.Kind)
				}
				if tt.message != "" && e.PublicMessage() != tt.message {
					t.Errorf("PublicMessage = %q, want %q", e.PublicMessage(), tt.message)
				}
				if len(chunks) != tt.chunks {
					t.Errorf("%d chunks before the error, want %d", len(chunks), tt.chunks)
				}
				if _, again := s.Recv(); again != err {
					t.Errorf("second Recv = %v, want the same error", again)
				}
			})
		}
	}
}

// openForTest opens a stream by Chat or by Forward.
func openForTest(t testing.TB, p *Provider, forward bool) llm.Stream {
	t.Helper()
	var s llm.Stream
	var err error
	if forward {
		s, err = p.Forward(context.Background(), &provider.Forward{Body: []byte(`{"model":"x","stream":true,"messages":[]}`), Model: "gpt-4o-mini", Stream: true})
	} else {
		s, err = p.Chat(context.Background(), chatRequest(true))
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestErrorStatuses(t *testing.T) {
	tests := []struct {
		name       string
		resp       providertest.Response
		kind       llm.Kind
		retryAfter time.Duration
	}{
		{"429 retry-after-ms", providertest.Response{Status: 429, Body: providertest.Load(t, "openai/error_429.json"),
			Header: http.Header{"Retry-After-Ms": {"1500"}, "Retry-After": {"2"}}}, llm.KindRateLimited, 1500 * time.Millisecond},
		{"429 retry-after", providertest.Response{Status: 429, Body: providertest.Load(t, "openai/error_429.json"),
			Header: http.Header{"Retry-After": {"20"}}}, llm.KindRateLimited, 20 * time.Second},
		{"500", providertest.Response{Status: 500, Body: providertest.Load(t, "openai/error_500.json")}, llm.KindUpstream, 0},
		{"401 quoting the key", providertest.Response{Status: 401, Body: providertest.Load(t, "openai/error_401.json")}, llm.KindUpstream, 0},
		{"400 quoting the key", providertest.Response{Status: 400,
			Body: []byte(`{"error":{"message":"bad key ` + testKey + ` in messages","type":"invalid_request_error","param":"messages","code":null}}`)},
			llm.KindInvalidRequest, 0},
		{"404 model", providertest.Response{Status: 404,
			Body: []byte(`{"error":{"message":"The model 'gpt-9' does not exist","type":"invalid_request_error","param":null,"code":"model_not_found"}}`)},
			llm.KindNotFound, 0},
		{"redirect not followed", providertest.Response{Status: 307, Header: http.Header{"Location": {"http://127.0.0.1:1/steal"}}}, llm.KindUpstream, 0},
	}
	for _, tt := range tests {
		for _, stream := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/stream=%v", tt.name, stream), func(t *testing.T) {
				f := providertest.NewOpenAI(t)
				f.Enqueue(tt.resp)
				p := newProvider(t, f, nil)
				s, err := p.Chat(context.Background(), chatRequest(stream))
				if err == nil {
					s.Close()
					t.Fatal("Chat succeeded")
				}
				var e *llm.Error
				if !errors.As(err, &e) {
					t.Fatalf("err = %T %v", err, err)
				}
				if e.Kind != tt.kind || e.RetryAfter != tt.retryAfter || e.UpstreamStatus != tt.resp.Status {
					t.Errorf("kind %v retry %v status %d", e.Kind, e.RetryAfter, e.UpstreamStatus)
				}
				if strings.Contains(e.Error(), testKey) || strings.Contains(e.PublicMessage(), testKey) {
					t.Errorf("the API key leaked: %q / %q", e.Error(), e.PublicMessage())
				}
				if len(f.Requests()) != 1 {
					t.Errorf("%d requests reached the fake", len(f.Requests()))
				}
			})
		}
	}
}

func TestStreamIdleTimeout(t *testing.T) {
	capture := providertest.Load(t, "openai/stream_text.sse")
	hold := make(chan struct{})
	t.Cleanup(func() { close(hold) })
	for _, forward := range []bool{false, true} {
		f := providertest.NewOpenAI(t)
		f.Enqueue(providertest.Response{SSE: capture, Hold: hold, HoldAfter: firstEventEnd(capture)})
		p := newProvider(t, f, func(c *Config) { c.StreamIdleTimeout = 50 * time.Millisecond })
		s := openForTest(t, p, forward)
		chunks, err := drain(t, s)
		var e *llm.Error
		if !errors.As(err, &e) || e.Kind != llm.KindUpstreamTimeout {
			t.Fatalf("forward %v: stream ended with %v, want an upstream timeout", forward, err)
		}
		if len(chunks) != 1 || !strings.Contains(e.PublicMessage(), "idle for longer than 50ms") {
			t.Errorf("forward %v: %d chunks, message %q", forward, len(chunks), e.PublicMessage())
		}
		waitCanceled(t, f)
		s.Close()
	}
}

func firstEventEnd(capture []byte) int {
	return strings.Index(string(capture), "\n\n") + 2
}

func waitCanceled(t *testing.T, f *providertest.OpenAI) {
	t.Helper()
	select {
	case <-f.Canceled():
	case <-time.After(time.Second):
		t.Fatal("the upstream did not see the request canceled")
	}
}

func TestCloseMidStream(t *testing.T) {
	capture := providertest.Load(t, "openai/stream_text.sse")
	hold := make(chan struct{})
	t.Cleanup(func() { close(hold) })
	for _, forward := range []bool{false, true} {
		f := providertest.NewOpenAI(t)
		f.Enqueue(providertest.Response{SSE: capture, Hold: hold, HoldAfter: firstEventEnd(capture)})
		p := newProvider(t, f, nil)
		s := openForTest(t, p, forward)
		if _, err := s.Recv(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := s.Recv() // blocks: the upstream holds
			done <- err
		}()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-done; !errors.Is(err, llm.ErrStreamClosed) {
			t.Errorf("forward %v: blocked Recv returned %v, want ErrStreamClosed", forward, err)
		}
		waitCanceled(t, f)
		if err := s.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	}
}

func TestCallerCancelMidStream(t *testing.T) {
	capture := providertest.Load(t, "openai/stream_text.sse")
	hold := make(chan struct{})
	t.Cleanup(func() { close(hold) })
	f := providertest.NewOpenAI(t)
	f.Enqueue(providertest.Response{SSE: capture, Hold: hold, HoldAfter: firstEventEnd(capture)})
	p := newProvider(t, f, nil)
	ctx, cancel := context.WithCancel(context.Background())
	s, err := p.Chat(ctx, chatRequest(true))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Recv(); err != nil {
		t.Fatal(err)
	}
	cancel()
	_, err = s.Recv()
	if e := llm.AsError(err); e.Kind != llm.KindCanceled {
		t.Fatalf("Recv after cancel = %v, want KindCanceled", err)
	}
	waitCanceled(t, f)
}

// OpenAI itself is sent max_completion_tokens (its reasoning models refuse
// max_tokens); other OpenAI-compatible servers get the field as it came.
func TestOutputCapField(t *testing.T) {
	for _, tc := range []struct {
		typ, want, absent string
	}{
		{TypeOpenAI, "max_completion_tokens", "max_tokens"},
		{TypeVLLM, "max_tokens", "max_completion_tokens"},
		{TypeOpenAICompatible, "max_tokens", "max_completion_tokens"},
	} {
		f := providertest.NewOpenAI(t)
		p := newProvider(t, f, func(c *Config) { c.Type = tc.typ })
		req := chatRequest(false)
		n := 77
		req.MaxTokens = &n
		s, err := p.Chat(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		body := f.Requests()[0].Body
		if gjson.GetBytes(body, tc.want).Int() != 77 || gjson.GetBytes(body, tc.absent).Exists() {
			t.Errorf("%s: upstream body %s, want %s=77 only", tc.typ, body, tc.want)
		}
		if req.MaxTokens == nil || req.MaxCompletionTokens != nil {
			t.Errorf("%s: the caller's request was modified", tc.typ)
		}
	}
}

// Extended thinking becomes reasoning_effort only for OpenAI's reasoning
// models: gpt-4o would refuse the field, and other OpenAI-compatible
// servers differ in what they take. A client's own effort is kept.
func TestThinkingToReasoningEffort(t *testing.T) {
	for _, tc := range []struct {
		typ, model, effort, want string
	}{
		{TypeOpenAI, "o4-mini", "", "medium"},
		{TypeOpenAI, "gpt-5.1", "", "medium"},
		{TypeOpenAI, "gpt-4o", "", ""},
		{TypeOpenAI, "gpt-5-chat-latest", "", ""},
		{TypeOpenAICompatible, "o4-mini", "", ""},
		{TypeVLLM, "gpt-5", "", ""},
		{TypeOpenAI, "o3", "high", "high"},
		{TypeOpenAI, "gpt-4o", "low", "low"},
	} {
		f := providertest.NewOpenAI(t)
		p := newProvider(t, f, func(c *Config) { c.Type = tc.typ })
		req := chatRequest(false)
		req.Model = tc.model
		req.ReasoningEffort = tc.effort
		req.Thinking = []byte(`{"type":"enabled","budget_tokens":10000}`)
		s, err := p.Chat(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		body := f.Requests()[0].Body
		if got := gjson.GetBytes(body, "reasoning_effort").String(); got != tc.want || gjson.GetBytes(body, "thinking").Exists() {
			t.Errorf("%s %s: upstream body %s, want reasoning_effort %q and no thinking", tc.typ, tc.model, body, tc.want)
		}
		if req.ReasoningEffort != tc.effort {
			t.Errorf("%s %s: the caller's request was modified", tc.typ, tc.model)
		}
	}
}
