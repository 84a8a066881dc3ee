package mock

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/llmgw/llmgw/internal/llm"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var testTime = time.Unix(1_700_000_000, 0)

// fakeClock records the waits it is asked for instead of waiting.
type fakeClock struct {
	mu    sync.Mutex
	slept []time.Duration
}

func (f *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	f.slept = append(f.slept, d)
	f.mu.Unlock()
	return nil
}

func (f *fakeClock) waits() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.slept...)
}

func newTest(opts Options) (*Provider, *fakeClock) {
	p := New("mock", opts)
	f := &fakeClock{}
	p.sleep = f.sleep
	p.now = func() time.Time { return testTime }
	return p, f
}

func userReq(text string) *llm.ChatRequest {
	return &llm.ChatRequest{
		Model:    "mock",
		Messages: []llm.Message{{Role: llm.RoleUser, Content: []llm.Part{llm.TextPart(text)}}},
	}
}

func ptr[T any](v T) *T { return &v }

// collect reads s to io.EOF and closes it.
func collect(t *testing.T, s llm.Stream) []*llm.Chunk {
	t.Helper()
	defer s.Close()
	var out []*llm.Chunk
	for {
		c, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("Recv: %v", err)
		}
		out = append(out, c)
	}
}

func chat(t *testing.T, p *Provider, req *llm.ChatRequest) []*llm.Chunk {
	t.Helper()
	s, err := p.Chat(context.Background(), req)
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}
	return collect(t, s)
}

// deltaText concatenates the text deltas of choice index in chunks.
func deltaText(chunks []*llm.Chunk, index int) string {
	var b strings.Builder
	for _, c := range chunks {
		for _, ch := range c.Choices {
			if ch.Index == index {
				b.WriteString(ch.Message.Text())
			}
		}
	}
	return b.String()
}

func TestChatAnswers(t *testing.T) {
	tests := []struct {
		name       string
		req        *llm.ChatRequest
		wantText   string
		wantFinish llm.FinishReason
	}{
		{name: "echo", req: userReq("Hello brave new world"), wantText: "Hello brave new world", wantFinish: llm.FinishStop},
		{
			name: "last user message",
			req: &llm.ChatRequest{Model: "mock", Messages: []llm.Message{
				{Role: llm.RoleSystem, Content: []llm.Part{llm.TextPart("be brief")}},
				{Role: llm.RoleUser, Content: []llm.Part{llm.TextPart("first question")}},
				{Role: llm.RoleAssistant, Content: []llm.Part{llm.TextPart("first answer")}},
				{Role: llm.RoleUser, Content: []llm.Part{llm.TextPart("second "), {Type: llm.PartImage, Image: &llm.Image{URL: "https://x/y.png"}}, llm.TextPart("question")}},
				{Role: llm.RoleAssistant, Content: []llm.Part{llm.TextPart("prefill")}},
			}},
			wantText:   "second question",
			wantFinish: llm.FinishStop,
		},
		{name: "whitespace kept", req: userReq("  two\n\nlines\tand  tabs \n"), wantText: "  two\n\nlines\tand  tabs \n", wantFinish: llm.FinishStop},
		{name: "no user message", req: &llm.ChatRequest{Model: "mock"}, wantText: fallbackText, wantFinish: llm.FinishStop},
		{name: "empty user text", req: userReq("   "), wantText: fallbackText, wantFinish: llm.FinishStop},
		{
			name:       "max tokens truncates",
			req:        func() *llm.ChatRequest { r := userReq("one two three four five"); r.MaxTokens = ptr(3); return r }(),
			wantText:   "one two three",
			wantFinish: llm.FinishLength,
		},
		{
			name: "max completion tokens preferred",
			req: func() *llm.ChatRequest {
				r := userReq("one two three four five")
				r.MaxTokens, r.MaxCompletionTokens = ptr(1), ptr(4)
				return r
			}(),
			wantText:   "one two three four",
			wantFinish: llm.FinishLength,
		},
		{
			name:       "max tokens equal to words",
			req:        func() *llm.ChatRequest { r := userReq("one two three"); r.MaxTokens = ptr(3); return r }(),
			wantText:   "one two three",
			wantFinish: llm.FinishStop,
		},
		{
			name: "stop sequence",
			req: func() *llm.ChatRequest {
				r := userReq("alpha beta. gamma END delta")
				r.Stop = []string{"END", "."}
				return r
			}(),
			wantText:   "alpha beta",
			wantFinish: llm.FinishStop,
		},
		{
			name: "length before stop",
			req: func() *llm.ChatRequest {
				r := userReq("a b c d STOP e")
				r.Stop, r.MaxTokens = []string{"STOP"}, ptr(2)
				return r
			}(),
			wantText:   "a b",
			wantFinish: llm.FinishLength,
		},
		{
			name:       "stop at start",
			req:        func() *llm.ChatRequest { r := userReq("STOP now"); r.Stop = []string{"STOP"}; return r }(),
			wantText:   "",
			wantFinish: llm.FinishStop,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := newTest(Options{})
			whole := chat(t, p, tt.req)
			if len(whole) != 1 {
				t.Fatalf("non-stream chunks = %d, want 1", len(whole))
			}
			if got := deltaText(whole, 0); got != tt.wantText {
				t.Errorf("non-stream text = %q, want %q", got, tt.wantText)
			}
			if got := whole[0].Choices[0].FinishReason; got != tt.wantFinish {
				t.Errorf("finish = %q, want %q", got, tt.wantFinish)
			}

			sreq := *tt.req
			sreq.Stream = true
			ps, _ := newTest(Options{})
			chunks := chat(t, ps, &sreq)
			if got := deltaText(chunks, 0); got != tt.wantText {
				t.Errorf("stream text = %q, want %q", got, tt.wantText)
			}
			if got, want := len(chunks), countWords(tt.wantText)+3; got != want {
				t.Errorf("stream chunks = %d, want %d (role, one per word, finish, usage)", got, want)
			}
			var acc llm.Accumulator
			for _, c := range chunks {
				acc.Add(c)
			}
			if diff := cmp.Diff(whole[0], acc.Response()); diff != "" {
				t.Errorf("accumulated stream differs from non-stream response (-whole +stream):\n%s", diff)
			}
		})
	}
}

func TestStreamChunks(t *testing.T) {
	p, _ := newTest(Options{})
	req := userReq("Hello brave world")
	req.Stream = true
	req.N = ptr(2)
	got := chat(t, p, req)

	text := func(s string) llm.Message { return llm.Message{Content: []llm.Part{llm.TextPart(s)}} }
	both := func(m llm.Message, fr llm.FinishReason) []llm.Choice {
		return []llm.Choice{{Index: 0, Message: m, FinishReason: fr}, {Index: 1, Message: m, FinishReason: fr}}
	}
	chunk := func(ch []llm.Choice) *llm.Chunk {
		return &llm.Chunk{ID: "chatcmpl-mock-1", Model: "mock", Created: testTime.Unix(), Choices: ch}
	}
	role := llm.Message{Role: llm.RoleAssistant, Content: []llm.Part{llm.TextPart("")}}
	prompt := perMessageTokens + 3
	want := []*llm.Chunk{
		chunk(both(role, "")),
		chunk(both(text("Hello"), "")),
		chunk(both(text(" brave"), "")),
		chunk(both(text(" world"), "")),
		chunk(both(llm.Message{}, llm.FinishStop)),
		{ID: "chatcmpl-mock-1", Model: "mock", Created: testTime.Unix(),
			Usage: &llm.Usage{PromptTokens: prompt, CompletionTokens: 6, TotalTokens: prompt + 6}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("chunks (-want +got):\n%s", diff)
	}
}

func TestChoices(t *testing.T) {
	p, _ := newTest(Options{})
	req := userReq("same answer")
	req.N = ptr(3)
	c := chat(t, p, req)[0]
	if len(c.Choices) != 3 {
		t.Fatalf("choices = %d, want 3", len(c.Choices))
	}
	for i, ch := range c.Choices {
		if ch.Index != i || ch.Message.Text() != "same answer" || ch.Message.Role != llm.RoleAssistant {
			t.Errorf("choice %d = %+v", i, ch)
		}
	}
	if c.Usage.CompletionTokens != 6 {
		t.Errorf("completion tokens = %d, want 6 (3 choices x 2 words)", c.Usage.CompletionTokens)
	}
}

func TestInvalidRequest(t *testing.T) {
	tests := []struct {
		name      string
		mod       func(*llm.ChatRequest)
		wantParam string
	}{
		{"n zero", func(r *llm.ChatRequest) { r.N = ptr(0) }, "n"},
		{"n too large", func(r *llm.ChatRequest) { r.N = ptr(maxChoices + 1) }, "n"},
		{"negative max tokens", func(r *llm.ChatRequest) { r.MaxTokens = ptr(-1) }, "max_tokens"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := newTest(Options{})
			req := userReq("x")
			tt.mod(req)
			_, err := p.Chat(context.Background(), req)
			var e *llm.Error
			if !errors.As(err, &e) || e.Kind != llm.KindInvalidRequest || e.Param != tt.wantParam {
				t.Fatalf("err = %v, want invalid request on %q", err, tt.wantParam)
			}
		})
	}
}

func TestIDsAndCreated(t *testing.T) {
	p, _ := newTest(Options{})
	for i, want := range []string{"chatcmpl-mock-1", "chatcmpl-mock-2", "chatcmpl-mock-3"} {
		c := chat(t, p, userReq("hi"))[0]
		if c.ID != want || c.Created != testTime.Unix() || c.Model != "mock" {
			t.Errorf("call %d: id %q created %d model %q, want %q %d mock", i, c.ID, c.Created, c.Model, want, testTime.Unix())
		}
	}
	if p.Name() != "mock" {
		t.Errorf("Name() = %q", p.Name())
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name string
		req  *llm.ChatRequest
		want llm.Usage
	}{
		{
			name: "one message",
			req:  userReq("Hello brave new world"),
			want: llm.Usage{PromptTokens: 4 + 4, CompletionTokens: 4, TotalTokens: 12},
		},
		{
			name: "conversation with tool call",
			req: &llm.ChatRequest{Model: "mock", Messages: []llm.Message{
				{Role: llm.RoleSystem, Content: []llm.Part{llm.TextPart("You are terse.")}},
				{Role: llm.RoleUser, Content: []llm.Part{llm.TextPart("weather in Paris")}},
				{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "c1", Name: "weather", Arguments: `{"city": "Paris"}`}}},
				{Role: llm.RoleTool, ToolCallID: "c1", Content: []llm.Part{llm.TextPart("sunny")}},
				{Role: llm.RoleUser, Content: []llm.Part{llm.TextPart("thanks")}},
			}},
			// (4+3) + (4+3) + (4+1+2) + (4+1) + (4+1)
			want: llm.Usage{PromptTokens: 31, CompletionTokens: 1, TotalTokens: 32},
		},
		{
			name: "truncated",
			req:  func() *llm.ChatRequest { r := userReq("a b c d e"); r.MaxTokens = ptr(2); return r }(),
			want: llm.Usage{PromptTokens: 9, CompletionTokens: 2, TotalTokens: 11},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := newTest(Options{})
			c := chat(t, p, tt.req)[0]
			if diff := cmp.Diff(&tt.want, c.Usage); diff != "" {
				t.Errorf("non-stream usage (-want +got):\n%s", diff)
			}
			req := *tt.req
			req.Stream = true
			s, err := p.Chat(context.Background(), &req)
			if err != nil {
				t.Fatal(err)
			}
			chunks := collect(t, s)
			last := chunks[len(chunks)-1]
			if len(last.Choices) != 0 {
				t.Errorf("usage chunk has %d choices, want none", len(last.Choices))
			}
			if diff := cmp.Diff(&tt.want, last.Usage); diff != "" {
				t.Errorf("stream usage chunk (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, s.Usage()); diff != "" {
				t.Errorf("stream Usage() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestToolCall(t *testing.T) {
	tools := []llm.Tool{
		{Type: "web_search", Raw: []byte(`{"type":"web_search"}`)},
		{Type: "function", Name: "lookup"},
		{Type: "function", Name: "weather"},
	}
	tests := []struct {
		name     string
		tools    []llm.Tool
		choice   *llm.ToolChoice
		wantName string // "" = a text answer
	}{
		{"required picks first function", tools, &llm.ToolChoice{Mode: llm.ToolChoiceRequired}, "lookup"},
		{"named function", tools, &llm.ToolChoice{Mode: llm.ToolChoiceFunction, Name: "weather"}, "weather"},
		{"auto answers text", tools, &llm.ToolChoice{Mode: llm.ToolChoiceAuto}, ""},
		{"none answers text", tools, &llm.ToolChoice{Mode: llm.ToolChoiceNone}, ""},
		{"no choice answers text", tools, nil, ""},
		{"required without tools", nil, &llm.ToolChoice{Mode: llm.ToolChoiceRequired}, ""},
	}
	const text = `Paris "today" <now>`
	const args = `{"input":"Paris \"today\" \u003cnow\u003e"}`
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := newTest(Options{})
			req := userReq(text)
			req.Tools, req.ToolChoice = tt.tools, tt.choice
			ch := chat(t, p, req)[0].Choices[0]
			if tt.wantName == "" {
				if ch.Message.Text() != text || len(ch.Message.ToolCalls) != 0 || ch.FinishReason != llm.FinishStop {
					t.Fatalf("want text answer, got %+v", ch)
				}
				return
			}
			want := llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{
				{ID: "call_mock_1_0", Type: "function", Name: tt.wantName, Arguments: args},
			}}
			if diff := cmp.Diff(want, ch.Message); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
			if ch.FinishReason != llm.FinishToolCalls {
				t.Errorf("finish = %q, want tool_calls", ch.FinishReason)
			}

			sreq := *req
			sreq.Stream = true
			ps, _ := newTest(Options{})
			chunks := chat(t, ps, &sreq)
			if len(chunks) != 4 {
				t.Fatalf("stream chunks = %d, want 4 (role, tool call, finish, usage)", len(chunks))
			}
			if got := chunks[1].Choices[0].Message.ToolCalls; len(got) != 1 || got[0].Name != tt.wantName || got[0].Arguments != args {
				t.Errorf("tool call delta = %+v", got)
			}
			if got := chunks[2].Choices[0].FinishReason; got != llm.FinishToolCalls {
				t.Errorf("stream finish = %q", got)
			}
			if got, want := chunks[3].Usage.CompletionTokens, 1+countWords(args); got != want {
				t.Errorf("completion tokens = %d, want %d", got, want)
			}
		})
	}
}

func TestSplitWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", []string{}},
		{" \n ", []string{}},
		{"one", []string{"one"}},
		{"Hello  world ", []string{"Hello", "  world "}},
		{"  Hi there", []string{"  Hi", " there"}},
		{"a\u00a0b\u3000c", []string{"a", "\u00a0b", "\u3000c"}},
	}
	for _, tt := range tests {
		got := splitWords(tt.in)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("splitWords(%q) (-want +got):\n%s", tt.in, diff)
		}
		if n := countWords(tt.in); n != len(tt.want) {
			t.Errorf("countWords(%q) = %d, want %d", tt.in, n, len(tt.want))
		}
	}
}
