package ollama

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
)

// wireResponse is an answer of POST /api/chat, or one line of its stream.
type wireResponse struct {
	Model     string `json:"model"`
	CreatedAt string `json:"created_at"`
	Message   *struct {
		Role      string         `json:"role"`
		Content   string         `json:"content"`
		Thinking  string         `json:"thinking"`
		ToolCalls []wireToolCall `json:"tool_calls"`
	} `json:"message"`
	Done            bool            `json:"done"`
	DoneReason      string          `json:"done_reason"`
	PromptEvalCount int             `json:"prompt_eval_count"`
	EvalCount       int             `json:"eval_count"`
	Error           json.RawMessage `json:"error"`
}

// decodeLine decodes one answer or stream line, checked first: one JSON
// value of bounded depth, valid UTF-8.
func decodeLine(b []byte, w *wireResponse) error {
	if err := jsonwire.CheckAnswer(b, nil); err != nil {
		return err
	}
	if err := json.Unmarshal(b, w); err != nil {
		return fmt.Errorf("ollama: decode answer: %w", err)
	}
	return nil
}

// hasError reports whether w is an error: Ollama's {"error":"..."}.
func (w *wireResponse) hasError() bool {
	return len(w.Error) > 0 && string(w.Error) != "null"
}

// finish returns the finish reason of a done answer. done_reason is stop
// or length; a stop after tool calls is tool_calls, as Ollama does not
// say so; none (servers before done_reason) is stop. load and unload
// answer a request with no messages, which the gateway never sends: no
// generation took place, and that is an upstream error.
func (p *Provider) finish(reason string, calls bool) (llm.FinishReason, error) {
	switch reason {
	case "length":
		return llm.FinishLength, nil
	case "load", "unload":
		return "", &llm.Error{Kind: llm.KindUpstream, Provider: p.name, UpstreamStatus: http.StatusOK,
			Message: "the upstream did not generate an answer", Err: fmt.Errorf("ollama: done_reason %q", reason)}
	}
	if calls {
		return llm.FinishToolCalls, nil
	}
	return llm.FinishStop, nil
}

// usage returns the token counts of a done answer. prompt_eval_count is
// left out by Ollama when the whole prompt came from its cache: zero then.
func usage(w *wireResponse) *llm.Usage {
	return &llm.Usage{PromptTokens: w.PromptEvalCount, CompletionTokens: w.EvalCount,
		TotalTokens: w.PromptEvalCount + w.EvalCount}
}

// created reads created_at (RFC 3339 with nanoseconds) as Unix seconds,
// now when it is absent or unreadable.
func created(s string) int64 {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.Unix()
	}
	return time.Now().Unix()
}

// newID returns a random id with prefix: Ollama gives neither its answers
// nor (before 0.12) its tool calls one, and clients need them.
func newID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// toolCalls translates calls, numbered from index on. Arguments are an
// object, taken as its JSON text; a string (from a proxy speaking
// OpenAI's shape) is taken as it is.
func toolCalls(calls []wireToolCall, index int) ([]llm.ToolCall, error) {
	out := make([]llm.ToolCall, 0, len(calls))
	for i := range calls {
		f := &calls[i].Function
		if f.Name == "" {
			return nil, errors.New("ollama: tool call without a function name")
		}
		args := string(f.Arguments)
		switch jsonwire.Kind(f.Arguments) {
		case "an object":
		case "a string":
			args, _ = jsonwire.Unquote(f.Arguments)
		case "nothing", "null":
			args = "{}"
		default:
			return nil, fmt.Errorf("ollama: tool call arguments of type %s", jsonwire.Kind(f.Arguments))
		}
		id := calls[i].ID
		if id == "" {
			id = newID("call_")
		}
		out = append(out, llm.ToolCall{Index: index + i, ID: id, Type: "function", Name: f.Name, Arguments: args})
	}
	return out, nil
}

// unary translates a whole answer.
func (p *Provider) unary(w *wireResponse) (*llm.Chunk, error) {
	m := llm.Message{Role: llm.RoleAssistant}
	var calls []wireToolCall
	if w.Message != nil {
		if w.Message.Thinking != "" {
			m.Content = append(m.Content, llm.Part{Type: llm.PartThinking, Text: w.Message.Thinking})
		}
		m.Content = append(m.Content, llm.TextPart(w.Message.Content))
		calls = w.Message.ToolCalls
	}
	tcs, err := toolCalls(calls, 0)
	if err != nil {
		return nil, p.up.Malformed(err, malformedChat)
	}
	m.ToolCalls = tcs
	fr, err := p.finish(w.DoneReason, len(tcs) > 0)
	if err != nil {
		return nil, err
	}
	return &llm.Chunk{
		ID: newID("chatcmpl-"), Model: w.Model, Created: created(w.CreatedAt),
		Choices: []llm.Choice{{Message: m, FinishReason: fr}},
		Usage:   usage(w),
	}, nil
}
