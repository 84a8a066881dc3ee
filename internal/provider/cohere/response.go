package cohere

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/llm"
)

// Cohere's finish reasons (ChatFinishReason).
const (
	finishComplete     = "COMPLETE"
	finishStopSequence = "STOP_SEQUENCE"
	finishMaxTokens    = "MAX_TOKENS"
	finishToolCall     = "TOOL_CALL"
	finishError        = "ERROR"
	finishTimeout      = "TIMEOUT"
)

// Public messages of a generation Cohere ended with ERROR or TIMEOUT.
const (
	errGeneration = "the upstream failed while generating the answer"
	errTimeout    = "the upstream timed out while generating the answer"
)

// wireResponse is Cohere's V2ChatResponse.
type wireResponse struct {
	ID           string     `json:"id"`
	FinishReason string     `json:"finish_reason"`
	Message      wireAnswer `json:"message"`
	Usage        *wireUsage `json:"usage"`
}

// wireAnswer is an AssistantMessageResponse.
type wireAnswer struct {
	Role      string              `json:"role"`
	ToolPlan  string              `json:"tool_plan"`
	ToolCalls []wireAnswerCall    `json:"tool_calls"`
	Content   []wireAnswerContent `json:"content"`
}

type wireAnswerContent struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	Thinking string `json:"thinking"`
}

type wireAnswerCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	} `json:"function"`
}

// wireUsage is Cohere's Usage: billed_units are what Cohere invoices,
// tokens what the model read and wrote (the prompt template included).
// Its cached_tokens is not read (see usage).
type wireUsage struct {
	BilledUnits *wireCount `json:"billed_units"`
	Tokens      *wireCount `json:"tokens"`
}

type wireCount struct {
	InputTokens  float64 `json:"input_tokens"`
	OutputTokens float64 `json:"output_tokens"`
}

// usage returns u in canonical form: the billed units, which Cohere
// invoices, or the raw token counts when no billed units are given.
// Cohere's cached_tokens are not reported as cached: Cohere publishes no
// price for them and does not say whether billed input includes them, and
// a cached token priced at a cache rate of nothing would lower the bill.
func (u *wireUsage) usage() llm.Usage {
	if u == nil {
		return llm.Usage{}
	}
	c := u.BilledUnits
	if c == nil || c.InputTokens == 0 && c.OutputTokens == 0 {
		c = u.Tokens
	}
	if c == nil {
		return llm.Usage{}
	}
	out := llm.Usage{PromptTokens: int(c.InputTokens), CompletionTokens: int(c.OutputTokens)}
	out.TotalTokens = out.PromptTokens + out.CompletionTokens
	return out
}

// finish maps a Cohere finish reason to the canonical one. ERROR and
// TIMEOUT are errors: a generation that failed is never passed off as a
// complete answer. STOP_SEQUENCE does not say which sequence matched: with
// one configured, it is that one.
func finish(reason, detail string, stops []string) (llm.FinishReason, string, error) {
	switch reason {
	case finishComplete, "":
		return llm.FinishStop, "", nil
	case finishStopSequence:
		if len(stops) == 1 {
			return llm.FinishStop, stops[0], nil
		}
		return llm.FinishStop, "", nil
	case finishMaxTokens:
		return llm.FinishLength, "", nil
	case finishToolCall:
		return llm.FinishToolCalls, "", nil
	case finishTimeout:
		return "", "", &llm.Error{Kind: llm.KindUpstreamTimeout, UpstreamStatus: http.StatusOK, Message: errTimeout,
			Err: fmt.Errorf("cohere: finish_reason %s", finishTimeout)}
	case finishError:
		return "", "", &llm.Error{Kind: llm.KindUpstream, UpstreamStatus: http.StatusOK, Message: errGeneration,
			Err: fmt.Errorf("cohere: finish_reason %s: %s", finishError, llm.Clip(detail))}
	}
	// A reason this version does not know ends the answer as complete.
	return llm.FinishStop, "", nil
}

// decodeResponse turns a V2ChatResponse into the one chunk of a unary
// answer. model is the model asked for: Cohere's answer does not name it.
func decodeResponse(b []byte, model string, stops []string) (*llm.Chunk, error) {
	var w wireResponse
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, err
	}
	fr, seq, err := finish(w.FinishReason, "", stops)
	if err != nil {
		return nil, err
	}
	m := llm.Message{Role: llm.RoleAssistant}
	if w.Message.ToolPlan != "" {
		m.Content = append(m.Content, llm.Part{Type: llm.PartThinking, Text: w.Message.ToolPlan})
	}
	var text string
	for _, c := range w.Message.Content {
		switch c.Type {
		case "text":
			text += c.Text
		case "thinking":
			m.Content = append(m.Content, llm.Part{Type: llm.PartThinking, Text: c.Thinking})
		}
	}
	if text != "" || len(w.Message.ToolCalls) == 0 {
		m.Content = append(m.Content, llm.TextPart(text))
	}
	for i, tc := range w.Message.ToolCalls {
		m.ToolCalls = append(m.ToolCalls, llm.ToolCall{Index: i, ID: tc.ID, Type: "function",
			Name: tc.Function.Name, Arguments: arguments(tc.Function.Arguments)})
	}
	u := w.Usage.usage()
	return &llm.Chunk{ID: w.ID, Model: model, Usage: &u,
		Choices: []llm.Choice{{Message: m, FinishReason: fr, StopSequence: seq}}}, nil
}

// arguments returns function arguments as JSON text: Cohere sends a
// string; an object is taken as its JSON text.
func arguments(raw json.RawMessage) string {
	r := gjson.ParseBytes(raw)
	switch {
	case r.Type == gjson.String:
		return r.Str
	case r.IsObject():
		return r.Raw
	}
	return ""
}

// decodeErrorMessage reads the message of a Cohere error body,
// {"id":...,"message":...}; Cohere's errors carry no code. An OpenAI-shaped
// {"error":{"message":...}} from a proxy in front is read too.
func decodeErrorMessage(body []byte) (message, code string) {
	if !gjson.ValidBytes(body) {
		return "", ""
	}
	root := gjson.ParseBytes(body)
	if m := root.Get("message"); m.Type == gjson.String {
		return m.Str, ""
	}
	if e := root.Get("error"); e.IsObject() {
		return e.Get("message").Str, e.Get("code").String()
	}
	return "", ""
}
