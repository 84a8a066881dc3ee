package llm

import (
	"context"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The canonical model is the vocabulary every other package shares, so it
// must not depend on any of them.
func TestImportsNothingInternal(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("glob: %v (%d files)", err, len(files))
	}
	fset := token.NewFileSet()
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		af, err := parser.ParseFile(fset, f, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			if strings.Contains(imp.Path.Value, "llmgw/internal") {
				t.Errorf("%s imports %s", f, imp.Path.Value)
			}
		}
	}
}

func TestAccumulatorStreamedToolCalls(t *testing.T) {
	chunks := []*Chunk{
		{ID: "c1", Model: "m", Created: 7, Choices: []Choice{{Index: 0, Message: Message{Role: RoleAssistant}}}},
		{Choices: []Choice{{Index: 0, Message: Message{ToolCalls: []ToolCall{{Index: 0, ID: "call_a", Type: "function", Name: "get_weather"}}}}}},
		{Choices: []Choice{{Index: 0, Message: Message{ToolCalls: []ToolCall{{Index: 0, Arguments: `{"ci`}}}}}},
		{Choices: []Choice{{Index: 0, Message: Message{ToolCalls: []ToolCall{{Index: 1, ID: "call_b", Name: "get_time", Arguments: `{"tz":`}}}}}},
		{Choices: []Choice{{Index: 0, Message: Message{ToolCalls: []ToolCall{{Index: 0, Arguments: `ty":"Paris"}`}}}}}},
		{Choices: []Choice{{Index: 0, Message: Message{ToolCalls: []ToolCall{{Index: 1, Arguments: `"CET"}`}}}}}},
		{Choices: []Choice{{Index: 0, FinishReason: FinishToolCalls}}},
		{Usage: &Usage{PromptTokens: 10, CompletionTokens: 5, TotalTokens: 15}},
	}
	var a Accumulator
	for _, c := range chunks {
		a.Add(c)
	}
	want := &Chunk{ID: "c1", Model: "m", Created: 7,
		Choices: []Choice{{Index: 0, FinishReason: FinishToolCalls, Message: Message{Role: RoleAssistant, ToolCalls: []ToolCall{
			{Index: 0, ID: "call_a", Type: "function", Name: "get_weather", Arguments: `{"city":"Paris"}`},
			{Index: 1, ID: "call_b", Type: "function", Name: "get_time", Arguments: `{"tz":"CET"}`},
		}}}},
		Usage: &Usage{PromptTokens: 10, CompletionTokens: 5, TotalTokens: 15},
	}
	if d := cmp.Diff(want, a.Response()); d != "" {
		t.Errorf("accumulated response (-want +got):\n%s", d)
	}
}

func TestAccumulatorTextChoicesAndLogprobs(t *testing.T) {
	var a Accumulator
	a.Add(&Chunk{Choices: []Choice{{Index: 1, Message: Message{Role: RoleAssistant, Content: []Part{TextPart("B")}}}}})
	a.Add(&Chunk{Choices: []Choice{{Index: 0, Message: Message{Role: RoleAssistant, Content: []Part{TextPart("Hel")}},
		Logprobs: []byte(`{"content":[{"token":"Hel","logprob":-0.1}]}`)}}})
	a.Add(&Chunk{Choices: []Choice{{Index: 0, Message: Message{Content: []Part{TextPart("lo")}},
		Logprobs: []byte(`{"content":[{"token":"lo","logprob":-0.2}]}`)}}})
	a.Add(&Chunk{Choices: []Choice{{Index: 0, Message: Message{Content: []Part{{Type: PartThinking, Text: "hm"}}}}}})
	a.Add(&Chunk{Choices: []Choice{{Index: 0, Message: Message{Content: []Part{{Type: PartThinking, Signature: "sig"}}}, FinishReason: FinishStop}}})
	r := a.Response()
	if len(r.Choices) != 2 || r.Choices[0].Index != 0 || r.Choices[1].Index != 1 {
		t.Fatalf("choices not in index order: %+v", r.Choices)
	}
	m := r.Choices[0].Message
	if got := m.Text(); got != "Hello" {
		t.Errorf("text = %q, want Hello", got)
	}
	if len(m.Content) != 2 || m.Content[1].Text != "hm" || m.Content[1].Signature != "sig" {
		t.Errorf("thinking part not merged: %+v", m.Content)
	}
	wantLP := `{"content":[{"token":"Hel","logprob":-0.1},{"token":"lo","logprob":-0.2}]}`
	if string(r.Choices[0].Logprobs) != wantLP {
		t.Errorf("logprobs = %s, want %s", r.Choices[0].Logprobs, wantLP)
	}
	if r.Choices[0].FinishReason != FinishStop || r.Choices[1].Message.Text() != "B" {
		t.Errorf("unexpected response %+v", r)
	}
}

func TestErrorKinds(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		status     int
		code       string
		public     string
		retryable  bool
		causeShown bool
	}{
		{"invalid", InvalidRequest("messages", "messages is required"), 400, "invalid_request_error", "messages is required", false, false},
		{"wrapped hides cause", Wrap(KindUpstream, errors.New("dial tcp 10.0.0.1:443: refused"), "upstream failed"), 502, "upstream_error", "upstream failed", true, false},
		{"plain error is internal", errors.New("secret-sk-123 boom"), 500, "internal_error", "internal error", false, false},
		{"canceled", fmt.Errorf("x: %w", context.Canceled), 499, "canceled", "the client closed the request", false, false},
		{"deadline", context.DeadlineExceeded, 504, "upstream_timeout", "the upstream provider timed out", true, false},
		{"upstream 429 retryable", &Error{Kind: KindRateLimited, UpstreamStatus: 429}, 429, "rate_limit_exceeded", "rate limit exceeded", true, false},
		{"own 429 not retryable", &Error{Kind: KindRateLimited}, 429, "rate_limit_exceeded", "rate limit exceeded", false, false},
		{"not found", NewError(KindNotFound, "model %q not found", "x"), 404, "model_not_found", `model "x" not found`, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := AsError(tt.err)
			if e.Status() != tt.status || e.Kind.Code() != tt.code || e.PublicMessage() != tt.public || e.Retryable() != tt.retryable {
				t.Errorf("got status %d code %q public %q retryable %v", e.Status(), e.Kind.Code(), e.PublicMessage(), e.Retryable())
			}
			if strings.Contains(e.PublicMessage(), "secret") || strings.Contains(e.PublicMessage(), "10.0.0.1") {
				t.Errorf("public message leaks the cause: %q", e.PublicMessage())
			}
		})
	}
}

func TestSliceStream(t *testing.T) {
	s := NewSliceStream(nil, &Chunk{ID: "a"}, &Chunk{Usage: &Usage{PromptTokens: 1}})
	if c, err := s.Recv(); err != nil || c.ID != "a" {
		t.Fatalf("Recv = %v, %v", c, err)
	}
	if _, err := s.Recv(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Recv(); err != io.EOF {
		t.Fatalf("want io.EOF, got %v", err)
	}
	if s.Usage().PromptTokens != 1 {
		t.Errorf("usage %+v", s.Usage())
	}
	_ = s.Close()
	if _, err := s.Recv(); !errors.Is(err, ErrStreamClosed) {
		t.Errorf("Recv after Close = %v", err)
	}
}

func TestUsageTotal(t *testing.T) {
	if got := (Usage{PromptTokens: 3, CompletionTokens: 4}).Total(); got != 7 {
		t.Errorf("Total = %d", got)
	}
	if got := (Usage{PromptTokens: 3, CompletionTokens: 4, TotalTokens: 9}).Total(); got != 9 {
		t.Errorf("Total = %d", got)
	}
}
