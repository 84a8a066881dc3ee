package pricing

import "github.com/llmgw/llmgw/internal/llm"

// usage returns a usage of prompt and completion tokens, nothing cached.
func usage(prompt, completion int) llm.Usage {
	return llm.Usage{PromptTokens: prompt, CompletionTokens: completion, TotalTokens: prompt + completion}
}

// mustParse parses a table or panics.
func mustParse(data string) *Table {
	t, err := parseTable([]byte(data))
	if err != nil {
		panic(err)
	}
	return t
}
