package pricing

import (
	"slices"
	"strings"
	"testing"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/stretchr/testify/require"
)

// The embedded table parses, and a known entry reads back with the exact
// prices the data file writes.
func TestBuiltinRoundTrip(t *testing.T) {
	tb := Builtin()
	require.NotEmpty(t, tb.Entries)
	e, ok := tb.Lookup("anthropic", "claude-sonnet-4-20250514")
	require.True(t, ok)
	require.Equal(t, "claude-sonnet-4", e.Model)
	require.Equal(t, Rates{Input: 3_000_000, Output: 15_000_000, CachedInput: 300_000, CacheWrite: 3_750_000,
		CacheWrite1h: 6_000_000, Reasoning: 15_000_000}, e.Rates)
	require.NotNil(t, e.Long)
	require.Equal(t, int64(200_000), e.Long.Threshold)
	require.Equal(t, Price(6_000_000), e.Long.Input)
	require.Equal(t, Price(22_500_000), e.Long.Output)

	// OpenAI's long-context tier starts above 272K prompt tokens.
	e, ok = tb.Lookup("openai", "gpt-6.2-sol")
	require.True(t, ok)
	require.Equal(t, "0.544", e.Cost(usage(272_000, 0)).Total.String())
	long := e.Cost(usage(272_001, 1_000_000))
	require.True(t, long.LongContext)
	require.Equal(t, "16.088004", long.Total.String())

	e, ok = tb.Lookup("openai", "gpt-5-mini-2025-08-07")
	require.True(t, ok)
	require.Equal(t, Rates{Input: 250_000, Output: 2_000_000, CachedInput: 25_000, CacheWrite: 250_000,
		CacheWrite1h: 250_000, Reasoning: 2_000_000}, e.Rates)
}

// Every built-in entry names its sources, read on a date no later than the
// table's: one official page of its provider, or at least two secondary
// sources of different sites, each marked secondary and none on the
// provider's own site.
func TestBuiltinEverySourced(t *testing.T) {
	tb := Builtin()
	official := map[string][]string{
		"anthropic":    {"https://platform.claude.com/", "https://docs.anthropic.com/"},
		"openai":       {"https://developers.openai.com/", "https://platform.openai.com/", "https://openai.com/"},
		"gemini":       {"https://ai.google.dev/"},
		"vertex":       {"https://cloud.google.com/"},
		"bedrock":      {"https://aws.amazon.com/", "https://docs.aws.amazon.com/"},
		"azure_openai": {"https://azure.microsoft.com/", "https://learn.microsoft.com/"},
		"mistral":      {"https://mistral.ai/", "https://docs.mistral.ai/"},
		"cohere":       {"https://cohere.com/", "https://docs.cohere.com/"},
	}
	secondary := make(map[string]bool)
	for _, s := range tb.Sources {
		secondary[s.URL] = s.Secondary
	}
	for _, e := range tb.Entries {
		name := e.Provider + " " + e.Model
		require.NotEmpty(t, e.Sources, name)
		require.Equal(t, e.Sources[0], e.Source, name)
		require.True(t, isDate(e.Read), name)
		require.LessOrEqual(t, e.Read, tb.Read, name)
		prefixes, known := official[e.Provider]
		require.True(t, known, "%s: no official domain listed for the provider in this test", name)
		if !e.Secondary {
			require.Len(t, e.Sources, 1, name)
			require.False(t, secondary[e.Source], name)
			require.True(t, hasAnyPrefix(e.Source, prefixes), "%s: %s is not the provider's page", name, e.Source)
			continue
		}
		require.GreaterOrEqual(t, len(e.Sources), 2, "%s: a secondary price needs two sources", name)
		sites := make(map[string]bool)
		for _, u := range e.Sources {
			require.True(t, secondary[u], "%s: %s is not marked secondary", name, u)
			require.False(t, hasAnyPrefix(u, prefixes), "%s: %s is the provider's own page", name, u)
			require.False(t, sites[host(u)], "%s: two sources from %s", name, host(u))
			sites[host(u)] = true
		}
	}
	for _, s := range tb.Sources {
		used := false
		for _, e := range tb.Entries {
			used = used || slices.Contains(e.Sources, s.URL)
		}
		require.True(t, used, "source %s is listed but prices nothing", s.ID)
	}
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// Built-in prices are sane: every entry is a chat model, whose output costs
// at least its input, or an embedding model, which bills no output;
// cached reads cost at most the input, cache writes at least the cached
// read; a long-context tier costs at least the base.
func TestBuiltinPricesSane(t *testing.T) {
	for _, e := range Builtin().Entries {
		embedding := strings.Contains(e.Model, "embedding")
		check := func(what string, r Rates) {
			name := e.Provider + " " + e.Model + " " + what
			require.Positive(t, r.Input, name)
			if embedding {
				require.Zero(t, r.Output, name+": an embedding model bills no output")
				require.Nil(t, e.Long, name)
				return
			}
			require.GreaterOrEqual(t, r.Output, r.Input, name+": output below input")
			require.LessOrEqual(t, r.CachedInput, r.Input, name+": cached input above input")
			require.GreaterOrEqual(t, r.CacheWrite, r.CachedInput, name+": cache write below cached input")
			require.GreaterOrEqual(t, r.CacheWrite1h, r.CacheWrite, name+": 1h write below 5m write")
			require.GreaterOrEqual(t, r.Reasoning, r.Output, name+": reasoning below output")
		}
		check("base", e.Rates)
		if e.Long != nil {
			check("long context", e.Long.Rates)
			require.GreaterOrEqual(t, e.Long.Input, e.Rates.Input, e.Model)
			require.GreaterOrEqual(t, e.Long.Output, e.Rates.Output, e.Model)
		}
	}
}

func TestParseTableRejects(t *testing.T) {
	const head = "read: \"2026-12-02\"\nsources: [{id: s, url: \"https://example.com/p\", read: \"2026-12-02\"}]\n"
	const two = "read: \"2026-12-02\"\nsources: [{id: s, url: \"https://example.com/p\", read: \"2026-12-02\"}, " +
		"{id: o, url: \"https://other.example/p\", read: \"2026-12-02\"}]\n"
	const secondaries = "read: \"2026-12-02\"\nsources: [{id: s, url: \"https://example.com/p\", read: \"2026-12-02\"}, " +
		"{id: a, url: \"https://a.example/x\", read: \"2026-12-02\", secondary: true}, " +
		"{id: a2, url: \"https://a.example/y\", read: \"2026-12-02\", secondary: true}, " +
		"{id: b, url: \"https://b.example/x\", read: \"2026-12-02\", secondary: true}, " +
		"{id: g, url: \"https://github.com/o/r/wiki/P\", read: \"2026-12-02\", secondary: true}, " +
		"{id: g2, url: \"https://raw.githubusercontent.com/o/r/main/p.json\", read: \"2026-12-02\", secondary: true}]\n"
	tests := []struct {
		name, data, want string
	}{
		{"unknown field", head + "models: [{provider: p, model: m, input: \"1\", output: \"1\", source: s, inputt: \"2\"}]",
			"field inputt not found"},
		{"unknown source", head + "models: [{provider: p, model: m, input: \"1\", output: \"1\", source: x}]",
			`unknown source "x"`},
		{"missing output", head + "models: [{provider: p, model: m, input: \"1\", source: s}]",
			"input and output prices are required"},
		{"negative price", head + "models: [{provider: p, model: m, input: \"-1\", output: \"1\", source: s}]",
			"want a number of US dollars"},
		{"seven decimals", head + "models: [{provider: p, model: m, input: \"0.0000001\", output: \"1\", source: s}]",
			"want a number of US dollars"},
		{"duplicate model", head + "models: [{provider: p, model: m, input: \"1\", output: \"1\", source: s}, " +
			"{provider: p, model: n, aliases: [m], input: \"1\", output: \"1\", source: s}]", `model "m" is listed twice`},
		{"no model", head + "models: [{provider: p, input: \"1\", output: \"1\", source: s}]", "provider and model are required"},
		{"bad threshold", head + "models: [{provider: p, model: m, input: \"1\", output: \"1\", source: s, " +
			"long_context: {threshold_tokens: 0, input: \"2\", output: \"2\"}}]", "threshold_tokens must be > 0"},
		{"tier without output", head + "models: [{provider: p, model: m, input: \"1\", output: \"1\", source: s, " +
			"long_context: {threshold_tokens: 5, input: \"2\"}}]", "long_context: input and output prices are required"},
		{"source without date", "read: \"2026-12-02\"\nsources: [{id: s, url: \"https://example.com/p\"}]\nmodels: []",
			"want an id, an https URL and the date"},
		{"source not https", "read: \"2026-12-02\"\nsources: [{id: s, url: \"http://example.com/p\", read: \"2026-12-02\"}]\nmodels: []",
			"want an id, an https URL and the date"},
		{"no table date", "sources: []\nmodels: []", "read: want a date"},
		{"no source", head + "models: [{provider: p, model: m, input: \"1\", output: \"1\"}]", "a source is required"},
		{"source and sources", head + "models: [{provider: p, model: m, input: \"1\", output: \"1\", source: s, sources: [s]}]",
			"give source or sources, not both"},
		{"two own pages", two + "models: [{provider: p, model: m, input: \"1\", output: \"1\", sources: [s, o]}]",
			"names that page alone"},
		{"one secondary source", secondaries + "models: [{provider: p, model: m, input: \"1\", output: \"1\", sources: [a]}]",
			"needs two of them that agree"},
		{"secondary given as source", secondaries + "models: [{provider: p, model: m, input: \"1\", output: \"1\", source: a}]",
			"needs two of them that agree"},
		{"secondary sources of one site", secondaries + "models: [{provider: p, model: m, input: \"1\", output: \"1\", sources: [a, a2]}]",
			"a.example is named twice"},
		{"secondary sources of one repository", secondaries + "models: [{provider: p, model: m, input: \"1\", output: \"1\", sources: [g, g2]}]",
			"github.com/o/r is named twice"},
		{"own page and secondary mixed", secondaries + "models: [{provider: p, model: m, input: \"1\", output: \"1\", sources: [s, a, b]}]",
			"are not mixed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseTable([]byte(tt.data))
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
		})
	}
}

// An entry may rest on two secondary sources of different sites; it then
// carries both and is marked secondary.
func TestParseTableSecondary(t *testing.T) {
	tb := mustParse(`
read: "2026-12-02"
sources:
  - {id: own, url: "https://example.com/p", read: "2026-12-01"}
  - {id: a, url: "https://a.example/x", read: "2026-12-01", secondary: true}
  - {id: b, url: "https://github.com/o/r/wiki/P", read: "2026-12-02", secondary: true}
models:
  - {provider: p, model: m, input: "1", output: "2", sources: [a, b]}
  - {provider: p, model: n, input: "1", output: "2", source: own}
`)
	e, ok := tb.Lookup("p", "m")
	require.True(t, ok)
	require.True(t, e.Secondary)
	require.Equal(t, []string{"https://a.example/x", "https://github.com/o/r/wiki/P"}, e.Sources)
	require.Equal(t, "https://a.example/x", e.Source)
	require.Equal(t, "2026-12-02", e.Read, "the latest date a source was read")
	require.True(t, tb.Sources[1].Secondary)
	e, ok = tb.Lookup("p", "n")
	require.True(t, ok)
	require.False(t, e.Secondary)
	require.Equal(t, []string{"https://example.com/p"}, e.Sources)
}

// Costs of entries priced from secondary sources, computed by hand from the
// sources' numbers, so that a mistyped price fails.
func TestBuiltinSecondaryCosts(t *testing.T) {
	tb := Builtin()
	cost := func(provider, model string, u llm.Usage) Cost {
		t.Helper()
		e, ok := tb.Lookup(provider, model)
		require.True(t, ok, "%s %s", provider, model)
		return e.Cost(u)
	}
	// OpenAI gpt-4o: 600K input at $2.50, 400K cached at $1.25, 100K
	// output at $10: 1.5 + 0.5 + 1.0.
	require.Equal(t, "3", cost("openai", "gpt-4o",
		llm.Usage{PromptTokens: 1_000_000, CachedTokens: 400_000, CompletionTokens: 100_000}).Total.String())
	// gpt-4o-mini: 1M input at $0.15, 1M cached at $0.075, 1M output at
	// $0.60.
	require.Equal(t, "0.825", cost("openai", "gpt-4o-mini-2024-07-18",
		llm.Usage{PromptTokens: 2_000_000, CachedTokens: 1_000_000, CompletionTokens: 1_000_000}).Total.String())
	// o3: 1M input at $2, 1M cached at $0.50, 1M output (reasoning
	// included) at $8.
	require.Equal(t, "10.5", cost("openai", "o3-2025-04-16",
		llm.Usage{PromptTokens: 2_000_000, CachedTokens: 1_000_000, CompletionTokens: 1_000_000, ReasoningTokens: 600_000}).Total.String())
	// o4-mini: 1M input at $1.10, 1M cached at $0.275, 500K output at
	// $4.40: 1.1 + 0.275 + 2.2.
	require.Equal(t, "3.575", cost("openai", "o4-mini",
		llm.Usage{PromptTokens: 2_000_000, CachedTokens: 1_000_000, CompletionTokens: 500_000}).Total.String())
	// Embeddings: input only, $0.02 and $0.13 a million.
	require.Equal(t, "0.02", cost("openai", "text-embedding-3-small", usage(1_000_000, 0)).Total.String())
	require.Equal(t, "0.13", cost("openai", "text-embedding-3-large", usage(1_000_000, 0)).Total.String())

	// Gemini 2.5 Pro: at 200K prompt tokens the base rates ($1.25, $10):
	// 0.25 + 0.1; one token more and the whole request is at $2.50 and
	// $15: 0.5000025 + 0.15.
	c := cost("gemini", "gemini-2.5-pro", usage(200_000, 10_000))
	require.False(t, c.LongContext)
	require.Equal(t, "0.35", c.Total.String())
	c = cost("gemini", "gemini-2.5-pro", usage(200_001, 10_000))
	require.True(t, c.LongContext)
	require.Equal(t, "0.6500025", c.Total.String())
	// Gemini 2.5 Flash: $0.30 and $2.50; cached tokens at the input rate.
	require.Equal(t, "2.8", cost("gemini", "gemini-2.5-flash",
		llm.Usage{PromptTokens: 1_000_000, CachedTokens: 500_000, CompletionTokens: 1_000_000}).Total.String())
	// Gemini 2.5 Flash-Lite: 500K input at $0.10, 500K cached at $0.01,
	// 1M output at $0.40: 0.05 + 0.005 + 0.4.
	require.Equal(t, "0.455", cost("gemini", "gemini-2.5-flash-lite",
		llm.Usage{PromptTokens: 1_000_000, CachedTokens: 500_000, CompletionTokens: 1_000_000}).Total.String())

	// Bedrock Nova: 1M input and 1M output.
	require.Equal(t, "4", cost("bedrock", "amazon.nova-pro-v1:0", usage(1_000_000, 1_000_000)).Total.String())
	require.Equal(t, "0.3", cost("bedrock", "amazon.nova-lite-v1:0", usage(1_000_000, 1_000_000)).Total.String())
	require.Equal(t, "0.175", cost("bedrock", "amazon.nova-micro-v1:0", usage(1_000_000, 1_000_000)).Total.String())

	// Cohere Command R: 2M input at $0.15, 500K output at $0.60: 0.3 + 0.3.
	require.Equal(t, "0.6", cost("cohere", "command-r-08-2024", usage(2_000_000, 500_000)).Total.String())
}

// The built-in entries match the ids their upstreams take, and not the
// neighbouring models they do not price.
func TestBuiltinProviderIDs(t *testing.T) {
	tb := Builtin()
	tests := []struct {
		provider, model, want string // want "" means no match
	}{
		{"openai", "gpt-4o", "gpt-4o"},
		{"openai", "gpt-4o-2024-05-13", ""}, // priced apart; the entry is exact
		{"openai", "gpt-4o-2024-08-06", ""},
		{"openai", "gpt-4o-mini-2024-07-18", "gpt-4o-mini"},
		{"openai", "o3", "o3"},
		{"openai", "o3-2025-04-16", "o3"},
		{"openai", "o3-mini", ""},
		{"openai", "o3-pro", ""},
		{"openai", "o4-mini-2025-04-16", "o4-mini"},
		{"openai", "gpt-4.1", ""},
		{"openai", "text-embedding-3-small", "text-embedding-3-small"},
		{"openai", "text-embedding-ada-002", ""},
		{"gemini", "gemini-2.5-pro", "gemini-2.5-pro"},
		{"gemini", "gemini-2.5-flash", "gemini-2.5-flash"},
		{"gemini", "gemini-2.5-flash-lite", "gemini-2.5-flash-lite"},
		{"gemini", "gemini-2.5-flash-preview-05-20", ""},
		{"gemini", "gemini-2.5-flash-image", ""},
		{"gemini", "gemini-2.0-flash", ""},
		{"vertex", "gemini-2.5-pro", ""}, // a vertex id is never priced by a gemini entry
		{"bedrock", "amazon.nova-pro-v1:0", "amazon.nova-pro"},
		{"bedrock", "amazon.nova-lite-v1:0", "amazon.nova-lite"},
		{"bedrock", "amazon.nova-micro-v1:0", "amazon.nova-micro"},
		{"bedrock", "amazon.nova-2-lite-v1:0", ""},
		{"bedrock", "us.amazon.nova-pro-v1:0", ""}, // an inference profile needs its own entry
		{"azure_openai", "gpt-4o", ""},
		{"cohere", "command-r", "command-r"},
		{"cohere", "command-r-08-2024", "command-r"},
		{"cohere", "command-r-03-2024", ""}, // MM-YYYY is not read as a date
		{"cohere", "command-r-plus", ""},
		{"cohere", "command-r7b-12-2024", ""},
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
