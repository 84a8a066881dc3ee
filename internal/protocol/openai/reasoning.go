package openai

import (
	"encoding/json"
	"strings"

	"github.com/tidwall/gjson"
)

// Thinking budgets at which ReasoningEffortFor moves up a level.
const (
	mediumEffortBudget = 4096
	highEffortBudget   = 16384
)

// ReasoningEffortFor returns the reasoning_effort for an extended thinking
// setting (ChatRequest.Thinking, Anthropic's {"type":"enabled",
// "budget_tokens":N}): low under 4096 tokens, medium under 16384, high from
// there. It is "" for thinking disabled, adaptive (the model decides, as an
// OpenAI reasoning model does with no effort given) or absent. Only low,
// medium and high are used, the levels every OpenAI reasoning model takes.
func ReasoningEffortFor(thinking json.RawMessage) string {
	if len(thinking) == 0 || gjson.GetBytes(thinking, "type").Str != "enabled" {
		return ""
	}
	switch b := gjson.GetBytes(thinking, "budget_tokens").Int(); {
	case b < mediumEffortBudget:
		return "low"
	case b < highEffortBudget:
		return "medium"
	}
	return "high"
}

// ReasoningModel reports whether model is an OpenAI reasoning model id, one
// that accepts reasoning_effort: the o1, o3 and o4 families, gpt-5 and its
// versions (gpt-5.1, gpt-5-mini, gpt-5-codex, ...) but not their -chat
// variants, and codex-mini. Other models (gpt-4o, gpt-4.1, ...) answer 400
// to reasoning_effort, so the gateway sends one translated from thinking
// only to these.
func ReasoningModel(model string) bool {
	m := strings.ToLower(model)
	for _, family := range [...]string{"o1", "o3", "o4"} {
		if rest, ok := strings.CutPrefix(m, family); ok && (rest == "" || rest[0] == '-') {
			return true
		}
	}
	if rest, ok := strings.CutPrefix(m, "gpt-5"); ok && (rest == "" || rest[0] == '-' || rest[0] == '.') {
		return !strings.Contains(rest, "-chat")
	}
	return strings.HasPrefix(m, "codex-mini")
}
