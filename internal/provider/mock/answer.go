package mock

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/llmgw/llmgw/internal/llm"
)

// fallbackText answers a request that has no user text.
const fallbackText = "Hello from the mock provider."

// perMessageTokens is the prompt-token overhead of each message.
const perMessageTokens = 4

// answer is the precomputed response to one request.
type answer struct {
	seq     uint64 // numbers the response and tool call ids
	model   string
	created int64
	n       int // choices

	pieces []string      // word deltas; they concatenate to the text
	tool   *llm.ToolCall // set when answering with a tool call
	finish llm.FinishReason

	prompt     int // prompt tokens
	completion int // completion tokens of one choice
}

// answer computes the response to req.
func (p *Provider) answer(req *llm.ChatRequest) (*answer, error) {
	n := 1
	if req.N != nil {
		n = *req.N
	}
	if n < 1 || n > maxChoices {
		return nil, llm.InvalidRequest("n", "n must be between 1 and %d", maxChoices)
	}
	maxTokens := req.MaxOutputTokens()
	if maxTokens < 0 {
		return nil, llm.InvalidRequest("max_tokens", "max_tokens must not be negative")
	}
	a := &answer{
		seq:     p.nextID(),
		model:   req.Model,
		created: p.now().Unix(),
		n:       n,
		finish:  llm.FinishStop,
		prompt:  promptTokens(req.Messages),
	}
	text := lastUserText(req.Messages)
	if name, ok := forcedTool(req); ok {
		args, _ := json.Marshal(struct {
			Input string `json:"input"`
		}{text})
		a.tool = &llm.ToolCall{Type: "function", Name: name, Arguments: string(args)}
		a.finish = llm.FinishToolCalls
		a.completion = 1 + countWords(a.tool.Arguments)
		return a, nil
	}
	if strings.TrimSpace(text) == "" {
		text = fallbackText
	}
	text = cutAtStop(text, req.Stop)
	a.pieces = splitWords(text)
	if maxTokens > 0 && len(a.pieces) > maxTokens {
		a.pieces = a.pieces[:maxTokens]
		a.finish = llm.FinishLength
	}
	a.completion = len(a.pieces)
	return a, nil
}

// deltas returns the number of content deltas a stream of a yields.
func (a *answer) deltas() int {
	if a.tool != nil {
		return 1
	}
	return len(a.pieces)
}

// usage returns the final token counts.
func (a *answer) usage() llm.Usage {
	c := a.n * a.completion
	return llm.Usage{PromptTokens: a.prompt, CompletionTokens: c, TotalTokens: a.prompt + c}
}

// chunk returns a chunk of a with choices.
func (a *answer) chunk(choices []llm.Choice) *llm.Chunk {
	return &llm.Chunk{ID: chatID(a.seq), Model: a.model, Created: a.created, Choices: choices}
}

// toolCall returns the tool call of choice i.
func (a *answer) toolCall(i int) llm.ToolCall {
	tc := *a.tool
	tc.ID = "call_mock_" + strconv.FormatUint(a.seq, 10) + "_" + strconv.Itoa(i)
	return tc
}

// whole returns the non-streamed response: one chunk with whole messages.
func (a *answer) whole() *llm.Chunk {
	choices := make([]llm.Choice, a.n)
	var text string
	if a.tool == nil {
		text = strings.Join(a.pieces, "")
	}
	for i := range choices {
		m := llm.Message{Role: llm.RoleAssistant}
		if a.tool != nil {
			m.ToolCalls = []llm.ToolCall{a.toolCall(i)}
		} else {
			m.Content = []llm.Part{llm.TextPart(text)}
		}
		choices[i] = llm.Choice{Index: i, Message: m, FinishReason: a.finish}
	}
	c := a.chunk(choices)
	u := a.usage()
	c.Usage = &u
	return c
}

// lastUserText returns the text of the last user message, or "".
func lastUserText(msgs []llm.Message) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == llm.RoleUser {
			return msgs[i].Text()
		}
	}
	return ""
}

// forcedTool returns the function a request forces the model to call: the
// one tool_choice names, or the first function tool when tool_choice is
// "required".
func forcedTool(req *llm.ChatRequest) (string, bool) {
	if len(req.Tools) == 0 || req.ToolChoice == nil {
		return "", false
	}
	switch req.ToolChoice.Mode {
	case llm.ToolChoiceFunction:
		if req.ToolChoice.Name != "" {
			return req.ToolChoice.Name, true
		}
	case llm.ToolChoiceRequired:
	default:
		return "", false
	}
	for _, t := range req.Tools {
		if (t.Type == "function" || t.Type == "") && t.Name != "" {
			return t.Name, true
		}
	}
	return "", false
}

// cutAtStop returns text up to the earliest occurrence of any stop sequence.
func cutAtStop(text string, stops []string) string {
	end := len(text)
	for _, s := range stops {
		if s == "" {
			continue
		}
		if i := strings.Index(text[:end], s); i >= 0 {
			end = i
		}
	}
	return text[:end]
}

// splitWords splits s into one piece per word, each piece holding its word
// and the whitespace before it (the first also any leading whitespace, the
// last any trailing whitespace), so the pieces concatenate to s. A string
// without words yields no pieces.
func splitWords(s string) []string {
	pieces := make([]string, 0, countWords(s))
	start, prevEnd := 0, -1
	inWord := false
	for i, r := range s {
		space := isSpace(r)
		switch {
		case inWord && space:
			inWord = false
			prevEnd = i
		case !inWord && !space:
			inWord = true
			if prevEnd >= 0 {
				pieces = append(pieces, s[start:prevEnd])
				start = prevEnd
			}
		}
	}
	if inWord || prevEnd >= 0 {
		pieces = append(pieces, s[start:])
	}
	return pieces
}

// countWords returns the number of runs of non-space characters in s.
func countWords(s string) int {
	n := 0
	inWord := false
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		i += size
		space := isSpace(r)
		if !space && !inWord {
			n++
		}
		inWord = !space
	}
	return n
}

func isSpace(r rune) bool {
	if r < utf8.RuneSelf {
		return r == ' ' || r == '\n' || r == '\t' || r == '\r' || r == '\v' || r == '\f'
	}
	return unicode.IsSpace(r)
}

// promptTokens estimates the prompt tokens of msgs (see the package
// documentation for the formula).
func promptTokens(msgs []llm.Message) int {
	n := 0
	for i := range msgs {
		m := &msgs[i]
		n += perMessageTokens
		for j := range m.Content {
			if m.Content[j].Type == llm.PartText {
				n += countWords(m.Content[j].Text)
			}
		}
		for j := range m.ToolCalls {
			n += 1 + countWords(m.ToolCalls[j].Arguments)
		}
	}
	return n
}
