package gemini

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
)

// wireResponse is a GenerateContentResponse, whole or one event of a
// stream; Error is set on an error object sent in its place.
type wireResponse struct {
	Candidates []struct {
		Content *struct {
			Role  string     `json:"role"`
			Parts []wirePart `json:"parts"`
		} `json:"content"`
		FinishReason string `json:"finishReason"`
		Index        int    `json:"index"`
	} `json:"candidates"`
	PromptFeedback *struct {
		BlockReason string `json:"blockReason"`
	} `json:"promptFeedback"`
	UsageMetadata *wireUsage      `json:"usageMetadata"`
	ModelVersion  string          `json:"modelVersion"`
	ResponseID    string          `json:"responseId"`
	Error         json.RawMessage `json:"error"`
}

type wireUsage struct {
	PromptTokenCount        int `json:"promptTokenCount"`
	CandidatesTokenCount    int `json:"candidatesTokenCount"`
	TotalTokenCount         int `json:"totalTokenCount"`
	CachedContentTokenCount int `json:"cachedContentTokenCount"`
	ThoughtsTokenCount      int `json:"thoughtsTokenCount"`
	ToolUsePromptTokenCount int `json:"toolUsePromptTokenCount"`
}

// decode decodes one answer or stream event, checked first: one JSON value
// of bounded depth, valid UTF-8.
func decode(b []byte, w *wireResponse) error {
	if err := jsonwire.CheckAnswer(b, nil); err != nil {
		return err
	}
	if err := json.Unmarshal(b, w); err != nil {
		return fmt.Errorf("gemini: decode answer: %w", err)
	}
	return nil
}

// hasError reports whether w is an error object.
func (w *wireResponse) hasError() bool {
	return len(w.Error) > 0 && string(w.Error) != "null"
}

// usage returns the token counts of usageMetadata. candidatesTokenCount
// leaves out the thought tokens, which are output all the same: the
// completion is both, and the thoughts are its reasoning tokens.
// promptTokenCount includes the cached tokens; the tokens of tool-use
// prompts, counted apart, are input too.
func (u *wireUsage) usage() llm.Usage {
	out := llm.Usage{
		PromptTokens:     u.PromptTokenCount + u.ToolUsePromptTokenCount,
		CompletionTokens: u.CandidatesTokenCount + u.ThoughtsTokenCount,
		TotalTokens:      u.TotalTokenCount,
		CachedTokens:     u.CachedContentTokenCount,
		ReasoningTokens:  u.ThoughtsTokenCount,
	}
	if out.TotalTokens == 0 {
		out.TotalTokens = out.PromptTokens + out.CompletionTokens
	}
	return out
}

// Public messages of answers that are not what the API promises, or that
// hold no answer.
const (
	malformedChat   = "the upstream sent a malformed response"
	malformedEmbed  = "the upstream sent a malformed embeddings response"
	malformedStream = "the upstream sent a malformed stream event"
	errGeneration   = "the upstream failed while generating the answer"
)

// finish returns the finish reason of a candidate. STOP is stop, or
// tool_calls after function calls, as Gemini does not say so; MAX_TOKENS is
// length; the reasons of a block (SAFETY, RECITATION, BLOCKLIST,
// PROHIBITED_CONTENT, SPII, LANGUAGE and the image ones) are
// content_filter. MALFORMED_FUNCTION_CALL, UNEXPECTED_TOOL_CALL, OTHER,
// NO_IMAGE, IMAGE_OTHER, FINISH_REASON_UNSPECIFIED and any reason unknown
// here mean the generation failed: an upstream error, never an incomplete
// answer passed off as complete.
func (p *Provider) finish(reason string, calls bool) (llm.FinishReason, error) {
	switch reason {
	case "STOP":
		if calls {
			return llm.FinishToolCalls, nil
		}
		return llm.FinishStop, nil
	case "MAX_TOKENS":
		return llm.FinishLength, nil
	case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "LANGUAGE",
		"IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION":
		return llm.FinishContentFilter, nil
	}
	return "", &llm.Error{Kind: llm.KindUpstream, Provider: p.name, UpstreamStatus: http.StatusOK,
		Message: errGeneration, Err: fmt.Errorf("gemini: finishReason %q", llm.Clip(reason))}
}

// newID returns a random id with prefix: Gemini's answers carry a
// responseId but its function calls, before the id field, carry none.
func newID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// parts translates the parts of a candidate's content into msg: text, or
// reasoning when thought is set, and function calls numbered from index
// on. It returns the number of calls.
func parts(ps []wirePart, msg *llm.Message, index int) (int, error) {
	n := 0
	for i := range ps {
		p := &ps[i]
		switch {
		case p.FunctionCall != nil:
			fc := p.FunctionCall
			if fc.Name == "" {
				return n, errors.New("gemini: function call without a name")
			}
			var args string
			switch jsonwire.Kind(fc.Args) {
			case "an object":
				var b bytes.Buffer
				if err := json.Compact(&b, fc.Args); err != nil {
					return n, fmt.Errorf("gemini: function call args: %w", err)
				}
				args = b.String()
			case "nothing", "null":
				args = "{}"
			default:
				return n, fmt.Errorf("gemini: function call args of type %s", jsonwire.Kind(fc.Args))
			}
			id := fc.ID
			if id == "" {
				id = newID("call_")
			}
			msg.ToolCalls = append(msg.ToolCalls, llm.ToolCall{Index: index + n, ID: id, Type: "function", Name: fc.Name, Arguments: args})
			n++
		case p.Text != nil && p.Thought:
			if *p.Text != "" || p.ThoughtSignature != "" {
				msg.Content = append(msg.Content, llm.Part{Type: llm.PartThinking, Text: *p.Text, Signature: p.ThoughtSignature})
			}
		case p.Text != nil:
			if *p.Text != "" {
				msg.Content = append(msg.Content, llm.TextPart(*p.Text))
			}
		}
	}
	return n, nil
}

// unary translates a whole answer. An answer with no candidate whose
// prompt was blocked (promptFeedback.blockReason) is an empty answer
// stopped by the content filter.
func (p *Provider) unary(w *wireResponse, model string) (*llm.Chunk, error) {
	c := &llm.Chunk{ID: w.ResponseID, Model: w.ModelVersion}
	if c.ID == "" {
		c.ID = newID("chatcmpl-")
	}
	if c.Model == "" {
		c.Model = model
	}
	if w.UsageMetadata != nil {
		u := w.UsageMetadata.usage()
		c.Usage = &u
	}
	if len(w.Candidates) == 0 {
		if w.PromptFeedback == nil || w.PromptFeedback.BlockReason == "" {
			return nil, p.up.Malformed(errors.New("gemini: answer without candidates"), malformedChat)
		}
		c.Choices = []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant, Content: []llm.Part{llm.TextPart("")}}, FinishReason: llm.FinishContentFilter}}
		return c, nil
	}
	for i := range w.Candidates {
		cand := &w.Candidates[i]
		m := llm.Message{Role: llm.RoleAssistant}
		calls := 0
		if cand.Content != nil {
			var err error
			if calls, err = parts(cand.Content.Parts, &m, 0); err != nil {
				return nil, p.up.Malformed(err, malformedChat)
			}
		}
		if len(m.Content) == 0 || m.Content[len(m.Content)-1].Type != llm.PartText {
			m.Content = append(m.Content, llm.TextPart(""))
		}
		fr, err := p.finish(cand.FinishReason, calls > 0)
		if err != nil {
			return nil, err
		}
		c.Choices = append(c.Choices, llm.Choice{Index: cand.Index, Message: m, FinishReason: fr})
	}
	return c, nil
}

// decodeErrorMessage reads Google's error body,
// {"error":{"code":400,"message":"...","status":"INVALID_ARGUMENT"}},
// also as the one-element array streamGenerateContent answers without
// alt=sse; the code returned is the status.
func decodeErrorMessage(body []byte) (message, code string) {
	if !gjson.ValidBytes(body) {
		return "", ""
	}
	r := gjson.ParseBytes(body)
	if r.IsArray() {
		r = r.Get("0")
	}
	e := r.Get("error")
	if e.IsObject() {
		return e.Get("message").Str, e.Get("status").Str
	}
	return e.Str, ""
}
