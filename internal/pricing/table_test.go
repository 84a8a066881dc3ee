package pricing

import (
	"strings"
	"testing"

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

// Every built-in entry names a source: an official page of its provider,
// read on a date no later than the table's.
func TestBuiltinEverySourced(t *testing.T) {
	tb := Builtin()
	official := map[string][]string{
		"anthropic": {"https://platform.claude.com/", "https://docs.anthropic.com/"},
		"openai":    {"https://developers.openai.com/", "https://platform.openai.com/", "https://openai.com/"},
	}
	for _, e := range tb.Entries {
		require.NotEmpty(t, e.Source, "%s %s", e.Provider, e.Model)
		require.True(t, isDate(e.Read), "%s %s", e.Provider, e.Model)
		require.LessOrEqual(t, e.Read, tb.Read, "%s %s", e.Provider, e.Model)
		prefixes, known := official[e.Provider]
		require.True(t, known, "%s %s: no official domain listed for the provider in this test", e.Provider, e.Model)
		require.True(t, hasAnyPrefix(e.Source, prefixes), "%s %s: %s is not the provider's page", e.Provider, e.Model, e.Source)
	}
	for _, s := range tb.Sources {
		used := false
		for _, e := range tb.Entries {
			used = used || e.Source == s.URL
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
// at least its input; cached reads cost at most the input, cache writes at
// least the cached read; a long-context tier costs at least the base.
func TestBuiltinPricesSane(t *testing.T) {
	for _, e := range Builtin().Entries {
		check := func(what string, r Rates) {
			name := e.Provider + " " + e.Model + " " + what
			require.Positive(t, r.Input, name)
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseTable([]byte(tt.data))
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
		})
	}
}
