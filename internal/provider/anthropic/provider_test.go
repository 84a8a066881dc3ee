package anthropic

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/tidwall/gjson"
	"go.uber.org/goleak"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/provider"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
	)
}

const secret = "sk-ant-secret-0123456789"

func newProvider(t *testing.T) (*Provider, *providertest.Anthropic) {
	t.Helper()
	f := providertest.NewAnthropic(t)
	c := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(c.CloseIdleConnections)
	p, err := New(Config{Name: "an", BaseURL: f.URL + "/", APIKey: secret, HTTPClient: c, Headers: map[string]string{"anthropic-beta": "b1"}})
	if err != nil {
		t.Fatal(err)
	}
	return p, f
}

func userReq(stream bool) *llm.ChatRequest {
	return &llm.ChatRequest{Model: "claude-x", Stream: stream, Messages: []llm.Message{{Role: llm.RoleUser, Content: []llm.Part{llm.TextPart("hi there")}}}}
}

func drain(t *testing.T, s llm.Stream) ([]*llm.Chunk, error) {
	t.Helper()
	defer s.Close()
	var out []*llm.Chunk
	for {
		c, err := s.Recv()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, c)
	}
}

func TestNewValidates(t *testing.T) {
	for _, c := range []Config{{}, {Name: "a", BaseURL: "api.anthropic.com"}, {Name: "a", BaseURL: "https://h/?q=1"}} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
	p, err := New(Config{Name: "a"})
	if err != nil || p.messageURL != "https://api.anthropic.com/v1/messages" || p.header.Get("anthropic-version") != "2023-06-01" {
		t.Fatalf("defaults: %v %+v", err, p)
	}
}

func TestChatHeadersAndUnary(t *testing.T) {
	p, f := newProvider(t)
	f.Enqueue(providertest.Response{Body: providertest.Load(t, "anthropic/message_tool_use.json")})
	s, err := p.Chat(context.Background(), userReq(false))
	if err != nil {
		t.Fatal(err)
	}
	chunks, err := drain(t, s)
	if err != nil || len(chunks) != 1 {
		t.Fatalf("%d chunks, %v", len(chunks), err)
	}
	m := chunks[0].Choices[0].Message
	if len(m.ToolCalls) != 2 || m.ToolCalls[0].ID != "toolu_01T1x1fJ34qAmk2tNTrN7Up6" || chunks[0].Choices[0].FinishReason != llm.FinishToolCalls {
		t.Errorf("message %+v", m)
	}
	if u := s.Usage(); u.CachedTokens != 256 || u.CacheCreationTokens != 128 || u.CompletionTokens != 89 {
		t.Errorf("usage %+v", u)
	}
	r := f.Requests()[0]
	if r.Path != "/v1/messages" || r.Header.Get("x-api-key") != secret || r.Header.Get("anthropic-version") != "2023-06-01" ||
		r.Header.Get("anthropic-beta") != "b1" || r.Header.Get("Authorization") != "" {
		t.Errorf("request %s headers %v", r.Path, r.Header)
	}
	if gjson.GetBytes(r.Body, "model").String() != "claude-x" || gjson.GetBytes(r.Body, "max_tokens").Int() != 4096 {
		t.Errorf("body %s", r.Body)
	}
}

func TestStreamDecoded(t *testing.T) {
	p, f := newProvider(t)
	f.Enqueue(providertest.Response{SSE: providertest.Load(t, "anthropic/stream_tool_use.sse"), Split: 1})
	s, err := p.Chat(context.Background(), userReq(true))
	if err != nil {
		t.Fatal(err)
	}
	chunks, err := drain(t, s)
	if err != nil {
		t.Fatal(err)
	}
	var acc llm.Accumulator
	for _, c := range chunks {
		acc.Add(c)
	}
	m := acc.Response().Choices[0].Message
	if len(m.ToolCalls) != 2 || m.ToolCalls[1].Arguments != `{"location": "Zürich"}` || m.Text() != "I'll check the weather in both cities." {
		t.Errorf("accumulated %+v", m)
	}
	if u := s.Usage(); u.PromptTokens != 472+128+256 || u.CompletionTokens != 89 {
		t.Errorf("usage %+v", u)
	}
}

func TestForward(t *testing.T) {
	p, f := newProvider(t)
	capture := providertest.Load(t, "anthropic/stream_text.sse")
	f.Enqueue(providertest.Response{SSE: capture, Split: 5}, providertest.Response{Body: providertest.Load(t, "anthropic/message_text.json")})
	body := []byte(`{"model":"client-name","messages":[{"role":"user","content":"hi"}]}`)
	orig := string(body)
	s, err := p.Forward(context.Background(), &provider.Forward{Body: body, Model: "claude-x", Stream: true})
	if err != nil {
		t.Fatal(err)
	}
	chunks, err := drain(t, s)
	if err != nil {
		t.Fatal(err)
	}
	events := providertest.Events(capture)
	if len(chunks) != len(events) {
		t.Fatalf("%d chunks for %d events", len(chunks), len(events))
	}
	for i, c := range chunks {
		if string(c.Raw) != string(events[i].Data) || c.RawProtocol != "anthropic" {
			t.Errorf("chunk %d = %s, want %s", i, c.Raw, events[i].Data)
		}
	}
	if u := s.Usage(); u.PromptTokens != 25 || u.CompletionTokens != 15 {
		t.Errorf("usage %+v", u)
	}
	if string(body) != orig {
		t.Errorf("the caller's body was modified: %s", body)
	}
	sent := f.Requests()[0].Body
	if gjson.GetBytes(sent, "model").String() != "claude-x" || !gjson.GetBytes(sent, "stream").Bool() || gjson.GetBytes(sent, "max_tokens").Int() != 4096 {
		t.Errorf("forwarded %s", sent)
	}
	s, err = p.Forward(context.Background(), &provider.Forward{Body: body, Model: "claude-x"})
	if err != nil {
		t.Fatal(err)
	}
	chunks, err = drain(t, s)
	if err != nil || len(chunks) != 1 || chunks[0].Usage == nil || chunks[0].Usage.CompletionTokens != 503 {
		t.Fatalf("unary forward: %v %+v", err, chunks)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name      string
		resp      providertest.Response
		stream    bool
		forward   bool
		kind      llm.Kind
		retryable bool
		chunks    int
	}{
		{"529 overloaded", providertest.Response{Status: 529, Body: providertest.Load(t, "anthropic/error_529.json")}, false, false, llm.KindUpstreamUnavailable, true, 0},
		{"429 rate limit", providertest.Response{Status: 429, Header: http.Header{"Retry-After": {"7"}}, Body: providertest.Load(t, "anthropic/error_429.json")}, true, false, llm.KindRateLimited, true, 0},
		{"400 invalid", providertest.Response{Status: 400, Body: providertest.Load(t, "anthropic/error_400.json")}, false, false, llm.KindInvalidRequest, false, 0},
		{"overloaded event mid-stream", providertest.Response{SSE: providertest.Load(t, "anthropic/stream_error_overloaded.sse")}, true, false, llm.KindUpstreamUnavailable, true, 2},
		{"overloaded event mid-stream, forwarded", providertest.Response{SSE: providertest.Load(t, "anthropic/stream_error_overloaded.sse")}, true, true, llm.KindUpstreamUnavailable, true, 3},
		{"rate limit event", providertest.Response{SSE: []byte("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":\"slow\"}}\n\n")}, true, true, llm.KindRateLimited, true, 0},
		{"truncated", providertest.Response{SSE: providertest.Load(t, "anthropic/stream_truncated.sse"), HangUp: true}, true, false, llm.KindUpstream, true, 2},
		{"no message_stop, forwarded", providertest.Response{SSE: providertest.Load(t, "anthropic/stream_text.sse")[:400]}, true, true, llm.KindUpstream, true, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, f := newProvider(t)
			f.Enqueue(tt.resp)
			var s llm.Stream
			var err error
			if tt.forward {
				s, err = p.Forward(context.Background(), &provider.Forward{Body: []byte(`{"model":"m","max_tokens":5,"messages":[]}`), Model: "m", Stream: tt.stream})
			} else {
				s, err = p.Chat(context.Background(), userReq(tt.stream))
			}
			var chunks []*llm.Chunk
			if err == nil {
				chunks, err = drain(t, s)
			}
			var e *llm.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T), want *llm.Error", err, err)
			}
			if e.Kind != tt.kind || e.Retryable() != tt.retryable || e.Provider != "an" {
				t.Errorf("kind %v retryable %v provider %q: %v", e.Kind, e.Retryable(), e.Provider, e)
			}
			if tt.chunks >= 0 && len(chunks) != tt.chunks {
				t.Errorf("%d chunks before the error, want %d", len(chunks), tt.chunks)
			}
			if tt.name == "429 rate limit" && e.RetryAfter.Seconds() != 7 {
				t.Errorf("RetryAfter %v", e.RetryAfter)
			}
		})
	}
}

func TestCountTokens(t *testing.T) {
	p, f := newProvider(t)
	f.Enqueue(providertest.Response{Body: providertest.Load(t, "anthropic/count_tokens.json")})
	n, err := p.CountTokens(context.Background(), userReq(false))
	if err != nil || n != 2095 {
		t.Fatalf("n %d err %v", n, err)
	}
	if r := f.Requests()[0]; r.Path != "/v1/messages/count_tokens" || gjson.GetBytes(r.Body, "max_tokens").Exists() {
		t.Errorf("request %s %s", r.Path, r.Body)
	}
	f.Enqueue(providertest.Response{Status: 529, Body: providertest.Load(t, "anthropic/error_529.json")})
	if _, err := p.CountTokens(context.Background(), userReq(false)); llm.AsError(err).Kind != llm.KindUpstreamUnavailable {
		t.Errorf("error %v", err)
	}
}

func TestCloseCancelsUpstream(t *testing.T) {
	p, f := newProvider(t)
	hold := make(chan struct{})
	defer close(hold)
	capture := providertest.Load(t, "anthropic/stream_text.sse")
	first := bytes.Index(capture, []byte("\n\n")) + 2
	f.Enqueue(providertest.Response{SSE: capture, Hold: hold, HoldAfter: first})
	s, err := p.Chat(context.Background(), userReq(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Recv(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.Recv()
		done <- err
	}()
	s.Close()
	if err := <-done; !errors.Is(err, llm.ErrStreamClosed) {
		t.Errorf("Recv after Close: %v", err)
	}
	<-f.Canceled()
}

func TestHeadroomReportedOnSuccess(t *testing.T) {
	p, f := newProvider(t)
	h := http.Header{}
	h.Set("anthropic-ratelimit-requests-limit", "1000")
	h.Set("anthropic-ratelimit-requests-remaining", "10")
	h.Set("anthropic-ratelimit-tokens-limit", "96000")
	h.Set("anthropic-ratelimit-tokens-remaining", "48000")
	for _, stream := range []bool{false, true} {
		r := providertest.Response{Header: h, Body: providertest.Load(t, "anthropic/message_tool_use.json")}
		if stream {
			r = providertest.Response{Header: h, SSE: providertest.Load(t, "anthropic/stream_tool_use.sse")}
		}
		f.Enqueue(r)
		var seen []provider.Headroom
		ctx := provider.WithHeadroomFunc(context.Background(), func(hr provider.Headroom) { seen = append(seen, hr) })
		s, err := p.Chat(ctx, userReq(stream))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := drain(t, s); err != nil {
			t.Fatal(err)
		}
		if len(seen) != 1 || seen[0].RemainingRequests != 10 || seen[0].LimitTokens != 96000 || seen[0].Fraction() != 0.01 {
			t.Errorf("stream %v: headroom reported %+v, want one report at 1%% of requests left", stream, seen)
		}
	}
}
