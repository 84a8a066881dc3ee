package pricing

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestVersionSuffix(t *testing.T) {
	yes := []string{
		"2024-08-06", "20241022", "0613", "2411", "002", "v1:0", "v2", "latest",
		"20240307-v1:0", "2024-08-06-v1", "001-latest",
	}
	no := []string{
		"", "mini", "5", "45", "1-20250805", "5-20251101", "mini-2024-07-18", "2024-08", "2024-8-06",
		"12345", "1234567", "v", "v:1", "v1:", "preview", "preview-05-20", "20241022-", "-20241022",
		"2024-08-06x", "latestx", "v1:0x", "0613-mini",
	}
	for _, s := range yes {
		require.True(t, versionSuffix(s), "%q", s)
	}
	for _, s := range no {
		require.False(t, versionSuffix(s), "%q", s)
	}
}

// table is a synthetic table exercising the matching rule.
const table = `
read: "2026-12-02"
sources: [{id: s, title: t, url: "https://example.com/p", read: "2026-12-02"}]
models:
  - {provider: openai, model: gpt-4o, input: "2.5", output: "10", source: s}
  - {provider: openai, model: gpt-4o-mini, input: "0.15", output: "0.6", source: s}
  - {provider: openai, model: gpt-4, aliases: [gpt-4-0613], exact: true, input: "30", output: "60", source: s}
  - {provider: anthropic, model: claude-opus-4, aliases: [claude-opus-4-0], input: "15", output: "75", source: s}
  - {provider: anthropic, model: claude-opus-4-1, input: "15", output: "75", source: s}
  - {provider: anthropic, model: claude-3-5-haiku, aliases: [claude-haiku-3-5], input: "0.8", output: "4", source: s}
  - {provider: bedrock, model: anthropic.claude-3-haiku, input: "0.25", output: "1.25", source: s}
`

func TestLookupMatching(t *testing.T) {
	tb := mustParse(table)
	tests := []struct {
		provider, model, want string // want "" means no match
	}{
		{"openai", "gpt-4o", "gpt-4o"},
		{"openai", "gpt-4o-2024-08-06", "gpt-4o"},
		{"openai", "gpt-4o-mini", "gpt-4o-mini"},
		{"openai", "gpt-4o-mini-2024-07-18", "gpt-4o-mini"},
		{"openai", "gpt-4o-latest", "gpt-4o"},
		{"openai", "gpt-4o-audio-preview", ""},
		{"openai", "gpt-4o-mini-tts", ""},
		{"openai", "gpt-4o-", ""},
		{"openai", "gpt-4", "gpt-4"},
		{"openai", "gpt-4-0613", "gpt-4"},
		{"openai", "gpt-4-0314", ""}, // exact: other snapshots are not priced by it
		{"openai", "GPT-4O", ""},
		{"openai", "gpt-4.1", ""},
		{"anthropic", "gpt-4o", ""},
		{"anthropic", "claude-opus-4-20250514", "claude-opus-4"},
		{"anthropic", "claude-opus-4-0", "claude-opus-4"},
		{"anthropic", "claude-opus-4-1-20250805", "claude-opus-4-1"},
		{"anthropic", "claude-opus-4-5", ""},
		{"anthropic", "claude-opus-4-5-20251101", ""},
		{"anthropic", "claude-3-5-haiku-20241022", "claude-3-5-haiku"},
		{"anthropic", "claude-haiku-3-5-latest", "claude-3-5-haiku"},
		{"bedrock", "anthropic.claude-3-haiku-20240307-v1:0", "anthropic.claude-3-haiku"},
		{"bedrock", "anthropic.claude-3-haiku-v1:0", "anthropic.claude-3-haiku"},
		{"unknown", "gpt-4o", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		e, ok := tb.Lookup(tt.provider, tt.model)
		if tt.want == "" {
			require.False(t, ok, "%s %s matched %v", tt.provider, tt.model, e)
			continue
		}
		require.True(t, ok, "%s %s", tt.provider, tt.model)
		require.Equal(t, tt.want, e.Model, "%s %s", tt.provider, tt.model)
	}
}

// The longest listed id wins whatever the order of the entries.
func TestLookupLongestPrefixWins(t *testing.T) {
	tb := mustParse(`
read: "2026-12-02"
sources: [{id: s, url: "https://example.com/p", read: "2026-12-02"}]
models:
  - {provider: p, model: m-2024, input: "2", output: "2", source: s}
  - {provider: p, model: m, input: "1", output: "1", source: s}
`)
	e, ok := tb.Lookup("p", "m-2024-0101")
	require.True(t, ok)
	require.Equal(t, "m-2024", e.Model)
	e, ok = tb.Lookup("p", "m-2025")
	require.True(t, ok)
	require.Equal(t, "m", e.Model)
}

func TestLookupAllocatesNothing(t *testing.T) {
	tb := mustParse(table)
	n := testing.AllocsPerRun(100, func() {
		if _, ok := tb.Lookup("anthropic", "claude-3-5-haiku-20241022"); !ok {
			t.Fatal("no match")
		}
	})
	require.Zero(t, n)
}

// providerStyles is a synthetic table with ids in the style of each
// provider beyond OpenAI and Anthropic, so that entries added for them are
// known to match the ids their upstreams take (TestBuiltinProviderIDs
// checks the built-in entries themselves).
const providerStyles = `
read: "2026-12-02"
sources: [{id: s, url: "https://example.com/p", read: "2026-12-02"}]
models:
  - {provider: gemini, model: gemini-2.5-flash, input: "1", output: "1", source: s}
  - {provider: gemini, model: gemini-2.5-flash-lite, input: "1", output: "1", source: s}
  - {provider: gemini, model: gemini-2.0-flash, input: "1", output: "1", source: s}
  - {provider: gemini, model: gemini-1.5-pro, input: "1", output: "1", source: s}
  - {provider: vertex, model: gemini-2.5-pro, input: "1", output: "1", source: s}
  - {provider: bedrock, model: anthropic.claude-3-5-haiku, input: "1", output: "1", source: s}
  - {provider: bedrock, model: amazon.nova-pro, input: "1", output: "1", source: s}
  - {provider: bedrock, model: meta.llama3-1-70b-instruct, input: "1", output: "1", source: s}
  - {provider: bedrock, model: mistral.mistral-large-2407, input: "1", output: "1", source: s}
  - {provider: azure_openai, model: gpt-4o, input: "1", output: "1", source: s}
  - {provider: mistral, model: mistral-large, input: "1", output: "1", source: s}
  - {provider: cohere, model: command-r-plus, aliases: [command-r-plus-08-2024], input: "1", output: "1", source: s}
  - {provider: cohere, model: command-a, input: "1", output: "1", source: s}
`

func TestLookupProviderIDStyles(t *testing.T) {
	tb := mustParse(providerStyles)
	tests := []struct {
		provider, model, want string // want "" means no match
	}{
		// Gemini: stable ids, three-digit revisions; a "-lite" or preview
		// model is another model.
		{"gemini", "gemini-2.5-flash", "gemini-2.5-flash"},
		{"gemini", "gemini-2.5-flash-lite", "gemini-2.5-flash-lite"},
		{"gemini", "gemini-2.0-flash-001", "gemini-2.0-flash"},
		{"gemini", "gemini-1.5-pro-002", "gemini-1.5-pro"},
		{"gemini", "gemini-2.5-flash-preview-05-20", ""},
		{"gemini", "gemini-1.5-pro-latest", "gemini-1.5-pro"},
		{"vertex", "gemini-2.5-pro", "gemini-2.5-pro"},
		{"vertex", "gemini-2.0-flash-001", ""}, // a vertex id is never priced by a gemini entry
		// Bedrock: dates and "-v1:0" after the model; a snapshot priced
		// apart (Mistral Large 2402 and 2407) is its own entry.
		{"bedrock", "anthropic.claude-3-5-haiku-20241022-v1:0", "anthropic.claude-3-5-haiku"},
		{"bedrock", "amazon.nova-pro-v1:0", "amazon.nova-pro"},
		{"bedrock", "meta.llama3-1-70b-instruct-v1:0", "meta.llama3-1-70b-instruct"},
		{"bedrock", "mistral.mistral-large-2407-v1:0", "mistral.mistral-large-2407"},
		{"bedrock", "mistral.mistral-large-2402-v1:0", ""},
		{"bedrock", "meta.llama3-1-405b-instruct-v1:0", ""},
		// A cross-region inference profile id has a region prefix, which
		// the rule does not strip: such ids need entries of their own.
		{"bedrock", "us.anthropic.claude-3-5-haiku-20241022-v1:0", ""},
		// Azure OpenAI: deployments named after the OpenAI model.
		{"azure_openai", "gpt-4o-2024-11-20", "gpt-4o"},
		{"azure_openai", "gpt-4o-mini", ""},
		// Mistral: YYMM snapshots and "-latest".
		{"mistral", "mistral-large-2411", "mistral-large"},
		{"mistral", "mistral-large-latest", "mistral-large"},
		{"mistral", "mistral-large-3", ""},
		// Cohere dates its snapshots MM-YYYY, which is not read as a date
		// (a two-digit part is a version): they match only when listed.
		{"cohere", "command-r-plus-08-2024", "command-r-plus"},
		{"cohere", "command-a-03-2025", ""},
		{"cohere", "command-a", "command-a"},
	}
	for _, tt := range tests {
		e, ok := tb.Lookup(tt.provider, tt.model)
		if tt.want == "" {
			require.False(t, ok, "%s %s matched %v", tt.provider, tt.model, e)
			continue
		}
		require.True(t, ok, "%s %s", tt.provider, tt.model)
		require.Equal(t, tt.want, e.Model, "%s %s", tt.provider, tt.model)
	}
}
