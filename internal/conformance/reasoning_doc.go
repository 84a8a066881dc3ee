package conformance

import (
	"fmt"
	"strings"

	"github.com/llmgw/llmgw/internal/protocol/anthropic"
	"github.com/llmgw/llmgw/internal/protocol/openai"
)

// Document is the whole compatibility page: the table, then the reasoning
// mapping and the fields without equivalent, generated from the tables the
// translation uses so that the page cannot drift from them.
func Document(tb *Table) []byte {
	b := append(tb.Markdown(), ReasoningMarkdown()...)
	return append(b, ParamsMarkdown()...)
}

// ReasoningMarkdown renders how reasoning settings cross protocols.
func ReasoningMarkdown() []byte {
	var b strings.Builder
	b.WriteString("\n## Reasoning settings\n\n")
	b.WriteString("An OpenAI client's `reasoning_effort` toward an Anthropic model becomes extended thinking,\n")
	b.WriteString("`thinking: {type: enabled, budget_tokens: N}`:\n\n")
	b.WriteString("| reasoning_effort | budget_tokens |\n| --- | --- |\n")
	b.WriteString("| none | thinking off |\n")
	for _, e := range []string{"minimal", "low", "medium", "high", "xhigh"} {
		fmt.Fprintf(&b, "| %s | %d |\n", e, anthropic.EffortBudgets[e])
	}
	fmt.Fprintf(&b, "\nAnthropic requires budget_tokens of at least %d and below max_tokens. Without a client\n", anthropic.MinThinkingBudget)
	fmt.Fprintf(&b, "max_tokens, max_tokens becomes the budget plus %d; with one, the budget is at most half of\n", anthropic.DefaultMaxTokens)
	b.WriteString("it (the answer keeps the other half), and thinking stays off when that is under the minimum.\n")
	b.WriteString("Thinking also stays off with a forced tool choice, and when the request answers tool calls of an\n")
	b.WriteString("assistant turn without a signed thinking block (OpenAI clients cannot send one back); with thinking\n")
	b.WriteString("on, temperature, top_p and top_k are not sent. Anthropic refuses each of these combinations.\n\n")
	b.WriteString("An Anthropic client's thinking toward an OpenAI model becomes `reasoning_effort` only for OpenAI's\n")
	b.WriteString("reasoning models (provider type `openai`, model ids of the o1, o3, o4, gpt-5 families but not\n")
	b.WriteString("`-chat`, codex-mini); gpt-4o, gpt-4.1 and other models refuse the field with a 400 and get none,\n")
	b.WriteString("and `thinking` is then named in `x-llmgw-dropped-params`:\n\n")
	b.WriteString("| budget_tokens | reasoning_effort |\n| --- | --- |\n")
	for _, budget := range []int{1024, 4096, 16384} {
		e := openai.ReasoningEffortFor(fmt.Appendf(nil, `{"type":"enabled","budget_tokens":%d}`, budget))
		fmt.Fprintf(&b, "| from %d | %s |\n", budget, e)
	}
	b.WriteString("| adaptive or disabled | none sent |\n\n")
	b.WriteString("Reasoning text that OpenAI-compatible servers send as `reasoning_content` or `reasoning`\n")
	b.WriteString("reaches Anthropic clients as thinking blocks (without a signature), and OpenAI clients as\n")
	b.WriteString("`reasoning_content` when translated, as sent when forwarded.\n")
	return []byte(b.String())
}
