package conformance

import (
	"strings"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/anthropic"
	"github.com/llmgw/llmgw/internal/protocol/openai"
)

// ParamsMarkdown renders the policy for request fields that the upstream's
// protocol has no equivalent for, from the tables the upstream adapters
// apply (anthropic.OpenAIParams, openai.AnthropicParams).
func ParamsMarkdown() []byte {
	var b strings.Builder
	b.WriteString("\n## Fields without equivalent\n\n")
	b.WriteString("A request field that the upstream's protocol cannot express is never lost silently. It is\n")
	b.WriteString("either **dropped**, when the answer means the same without it, and then named in the\n")
	b.WriteString("`x-llmgw-dropped-params` response header (comma-separated); or **refused** with an error in\n")
	b.WriteString("the client's shape naming the field (`param` for OpenAI clients, the start of the message for\n")
	b.WriteString("Anthropic ones), a 400 but for `thread` (see its row), when an answer without it would mean\n")
	b.WriteString("something else. With `server.unsupported_params: refuse` the dropped fields are refused too.\n")
	b.WriteString("A field of the client's protocol that is in neither table nor translated is dropped and\n")
	b.WriteString("named. A same-protocol pair passes every field on.\n\n")
	b.WriteString("### OpenAI client, Anthropic upstream\n\n")
	paramTable(&b, anthropic.OpenAIParams)
	b.WriteString("\n### Anthropic client, OpenAI upstream\n\n")
	paramTable(&b, openai.AnthropicParams)
	return []byte(b.String())
}

func paramTable(b *strings.Builder, rules []llm.ParamRule) {
	b.WriteString("| field | policy | why |\n| --- | --- | --- |\n")
	for _, r := range rules {
		b.WriteString("| `" + r.Name + "` | " + string(r.Policy) + " | " + r.Why + " |\n")
	}
}
