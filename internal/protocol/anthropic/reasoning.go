package anthropic

import (
	"encoding/json"
	"strconv"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/tidwall/gjson"
)

// MinThinkingBudget is the smallest budget_tokens Anthropic accepts.
const MinThinkingBudget = 1024

// EffortBudgets maps an OpenAI reasoning_effort to the extended thinking
// budget_tokens sent to Anthropic for it (the table in doc.go). "none" and
// values not listed leave thinking off.
var EffortBudgets = map[string]int{
	"minimal": 1024,
	"low":     2048,
	"medium":  8192,
	"high":    16384,
	"xhigh":   32768,
}

// ThinkingBudget returns the budget_tokens for reasoning effort effort
// under a client's output limit maxTokens (0 when the client set none), or
// 0 when thinking stays off. Anthropic requires budget_tokens below
// max_tokens, and thinking counts against max_tokens, so a budget is shrunk
// to half a client's limit to leave the answer the other half; when that is
// under MinThinkingBudget, thinking stays off rather than eat the answer.
// With no client limit, max_tokens is raised above the budget instead.
func ThinkingBudget(effort string, maxTokens int) int {
	b := EffortBudgets[effort]
	if b == 0 {
		return 0
	}
	if maxTokens > 0 {
		b = min(b, maxTokens/2)
	}
	if b < MinThinkingBudget {
		return 0
	}
	return b
}

// thinking is the thinking setting a request is sent with.
type thinking struct {
	raw    json.RawMessage
	budget int
	// derived is set when it comes from reasoning_effort, not from the
	// client's own thinking setting.
	derived bool
}

// thinkingFor returns the request's own thinking setting, or the one its
// reasoning_effort maps to: none when the request forces a tool, which
// Anthropic refuses with thinking on.
func thinkingFor(req *llm.ChatRequest) thinking {
	if len(req.Thinking) > 0 {
		return thinking{raw: req.Thinking, budget: int(gjson.GetBytes(req.Thinking, "budget_tokens").Int())}
	}
	if req.ReasoningEffort == "" || forcesTool(req) || unsignedToolTurn(req.Messages) {
		return thinking{}
	}
	b := ThinkingBudget(req.ReasoningEffort, req.MaxOutputTokens())
	if b == 0 {
		return thinking{}
	}
	raw := strconv.AppendInt([]byte(`{"type":"enabled","budget_tokens":`), int64(b), 10)
	return thinking{raw: append(raw, '}'), budget: b, derived: true}
}

// unsignedToolTurn reports whether the last assistant message calls tools
// without a signed thinking block before them: Anthropic refuses thinking
// on a request that continues such a turn (with thinking on, the assistant
// turn that called the tools must start with its thinking block), and an
// OpenAI client has no way to send one back.
func unsignedToolTurn(msgs []llm.Message) bool {
	for i := len(msgs) - 1; i >= 0; i-- {
		m := &msgs[i]
		if m.Role != llm.RoleAssistant {
			continue
		}
		if len(m.ToolCalls) == 0 {
			return false
		}
		for _, p := range m.Content {
			if (p.Type == llm.PartThinking && p.Signature != "") || p.Type == llm.PartRedactedThinking {
				return false
			}
		}
		return true
	}
	return false
}

func forcesTool(req *llm.ChatRequest) bool {
	tc := req.ToolChoice
	return tc != nil && len(req.Tools) > 0 && (tc.Mode == llm.ToolChoiceRequired || tc.Mode == llm.ToolChoiceFunction)
}
