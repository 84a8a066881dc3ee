package conformance

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/provider"
)

// errorsMarkdown renders the table of upstream error statuses
// (provider.StatusMappings) with what each client protocol is told, and the
// Anthropic headers the gateway forwards, as sections of the compatibility
// page: generated like the rest of it, so that it cannot drift from the
// code.
func errorsMarkdown() string {
	var b strings.Builder
	b.WriteString("\n## Upstream errors\n\n")
	b.WriteString("How an upstream's error status reaches the client. The status class of a refused request\n")
	b.WriteString("survives, as the SDKs pick their error class (BadRequestError, NotFoundError, ...) by\n")
	b.WriteString("status. \"Relayed\": the upstream's message reaches the client (secrets redacted, control\n")
	b.WriteString("characters dropped, at most 1 KiB), and a client speaking the upstream's protocol also gets\n")
	b.WriteString("the upstream's own error type, code and `param` as they came (when they are plain names);\n")
	b.WriteString("a client of the other protocol gets the type and code of the columns below, and no\n")
	b.WriteString("`param` from an Anthropic upstream, whose errors name no field. Otherwise the message is\n")
	b.WriteString("the gateway's and the upstream's words stay in the logs. A failure that ends in a retry\n")
	b.WriteString("on another target reaches the client only when every attempt failed.\n\n")
	b.WriteString("| upstream status | client status | OpenAI client `type` / `code` | Anthropic client `type` | relayed | note |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- |\n")
	for _, m := range provider.StatusMappings() {
		up := strconv.Itoa(m.Status)
		if m.Status == 0 {
			up = "other"
		}
		relay := "no"
		if m.Relay {
			relay = "yes"
		}
		k := m.Kind
		if m.Final != 0 {
			k = m.Final
		}
		fmt.Fprintf(&b, "| %s | %d | `%s` / `%s` | `%s` | %s | %s |\n", up, k.Status(),
			k.OpenAIType(), k.Code(), k.AnthropicType(), relay, m.Note)
	}
	loop := llm.KindLoopDetected
	fmt.Fprintf(&b, "\nA request that comes back to the gateway that forwarded it (a provider whose base URL\n"+
		"leads to the gateway itself) is refused at once with %d: `%s` / `%s` for an OpenAI client,\n"+
		"`%s` for an Anthropic one, with `x-should-retry: false` so that the SDKs do not retry it.\n",
		loop.Status(), loop.OpenAIType(), loop.Code(), loop.AnthropicType())
	b.WriteString("\n## Anthropic headers\n\n")
	b.WriteString("On `POST /v1/messages` and `/v1/messages/count_tokens`, the client's `anthropic-version` and\n")
	b.WriteString("`anthropic-beta` headers (the SDKs' `betas`) are forwarded to an Anthropic upstream, on the\n")
	b.WriteString("forwarded and the translated path alike, merged with the provider's configured `headers`:\n")
	b.WriteString("the betas are the union of both lists (configured first), and a configured\n")
	b.WriteString("`anthropic-version` wins over the client's. A value that is not a list of plain names\n")
	b.WriteString("(letters, digits, `-`, `_`, `.`; at most 64 betas of 128 bytes) is a 400.\n")
	b.WriteString("An OpenAI client reaching an Anthropic upstream has no betas: the upstream gets the\n")
	b.WriteString("configured ones only. No beta is honoured when the upstream is not Anthropic: the header\n")
	b.WriteString("goes nowhere, and a feature that needs one is translated only as far as the scenario table\n")
	b.WriteString("at the top of this page says.\n")
	return b.String()
}
