package pricing

import (
	"testing"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/stretchr/testify/require"
)

func f(v float64) *float64 { return &v }

// testConfig has two Anthropic accounts and an OpenAI one, and prices a
// model on one Anthropic account only.
func testConfig() *config.Config {
	return &config.Config{
		Providers: []config.Provider{
			{Name: "anthropic-main", Type: config.TypeAnthropic},
			{Name: "anthropic-discount", Type: config.TypeAnthropic},
			{Name: "openai-main", Type: config.TypeOpenAI},
		},
		Pricing: []config.Price{
			// An override of a built-in price, for one account.
			{Provider: "anthropic-discount", Model: "claude-3-5-haiku", InputPerMTok: f(0.4), OutputPerMTok: f(2)},
			// An extension: a model the table does not have.
			{Provider: "openai-main", Model: "gpt-4.1-mini", InputPerMTok: f(0.15), OutputPerMTok: f(0.6),
				CachedInputPerMTok: f(0.075)},
			{Provider: "openai-main", Model: "big", InputPerMTok: f(1.25), OutputPerMTok: f(10),
				LongContext: &config.LongContextPrice{ThresholdTokens: 200_000, InputPerMTok: f(2.5), OutputPerMTok: f(15)}},
		},
	}
}

func TestPricerOverrides(t *testing.T) {
	p, err := New(Builtin(), testConfig())
	require.NoError(t, err)
	u := usage(1_000_000, 1_000_000)

	// The override applies to its provider name, snapshots included.
	c, ok := p.Cost("anthropic-discount", "claude-3-5-haiku-20241022", u)
	require.True(t, ok)
	require.Equal(t, "2.4", c.Total.String())
	require.Equal(t, "config", c.Entry.Source)

	// Another account of the same type keeps the built-in price.
	c, ok = p.Cost("anthropic-main", "claude-3-5-haiku-20241022", u)
	require.True(t, ok)
	require.Equal(t, "4.8", c.Total.String())
	require.Contains(t, c.Entry.Source, "https://")

	// A name that is not configured is looked up as a type.
	c, ok = p.Cost("anthropic", "claude-3-5-haiku", u)
	require.True(t, ok)
	require.Equal(t, "4.8", c.Total.String())

	// An override replaces the built-in entry as a whole: its cached rate
	// is its own input rate, not the built-in cached rate.
	c, ok = p.Cost("anthropic-discount", "claude-3-5-haiku", llm.Usage{PromptTokens: 1_000_000, CachedTokens: 1_000_000})
	require.True(t, ok)
	require.Equal(t, "0.4", c.Total.String())

	// An extension prices a model the table lacks, on its provider only.
	c, ok = p.Cost("openai-main", "gpt-4.1-mini-2025-04-14", llm.Usage{PromptTokens: 2_000_000, CachedTokens: 1_000_000,
		CompletionTokens: 1_000_000})
	require.True(t, ok)
	require.Equal(t, "0.825", c.Total.String())
	_, ok = p.Cost("openai", "gpt-4.1-mini", u)
	require.False(t, ok)

	// Configured long-context tiers apply above their threshold.
	c, ok = p.Cost("openai-main", "big", usage(300_000, 0))
	require.True(t, ok)
	require.True(t, c.LongContext)
	require.Equal(t, "0.75", c.Total.String())
	est, ok := p.EstimateMax("openai-main", "big", 100_000, 1_000)
	require.True(t, ok)
	require.Equal(t, "0.135", est.String())
}

// An unknown model has no cost, which is not a cost of zero.
func TestPricerUnknownModel(t *testing.T) {
	p, err := New(Builtin(), testConfig())
	require.NoError(t, err)
	for _, tt := range [][2]string{{"openai-main", "no-such-model"}, {"nobody", "gpt-5-mini"}, {"anthropic-main", "gpt-5-mini"}} {
		c, ok := p.Cost(tt[0], tt[1], usage(10, 10))
		require.False(t, ok, "%v", tt)
		require.Equal(t, Cost{}, c)
		_, ok = p.EstimateMax(tt[0], tt[1], 10, 10)
		require.False(t, ok, "%v", tt)
		_, ok = p.Lookup(tt[0], tt[1])
		require.False(t, ok, "%v", tt)
	}
}

// New refuses what validation would have refused, rather than pricing it
// wrongly.
func TestNewRejects(t *testing.T) {
	cfg := testConfig()
	cfg.Pricing = append(cfg.Pricing,
		config.Price{Provider: "openai-main", Model: "gpt-4.1-mini", InputPerMTok: f(1), OutputPerMTok: f(1)},
		config.Price{Provider: "openai-main", Model: "x", InputPerMTok: f(0.0000001), OutputPerMTok: f(1)},
		config.Price{Provider: "openai-main", Model: "y", OutputPerMTok: f(1)},
		config.Price{Provider: "openai-main", Model: "z", InputPerMTok: f(1), OutputPerMTok: f(1),
			LongContext: &config.LongContextPrice{InputPerMTok: f(1), OutputPerMTok: f(1)}},
	)
	_, err := New(Builtin(), cfg)
	require.Error(t, err)
	for _, want := range []string{
		`pricing[3]: provider openai-main: model "gpt-4.1-mini" is listed twice`,
		"pricing[4]: price 1e-07",
		"pricing[5]: input and output prices are required",
		"pricing[6]: long_context.threshold_tokens must be > 0",
	} {
		require.Contains(t, err.Error(), want)
	}
}

// The configuration's pricing section, as written in a file, reaches the
// Pricer: the contract's sample prices gpt-4o-mini on openai-main.
func TestPricerFromParsedConfig(t *testing.T) {
	cfg, err := config.Parse([]byte(`
providers:
  - {name: openai-main, type: openai, api_key: k}
  - {name: claude, type: anthropic, api_key: k}
models:
  - {name: m, targets: [{provider: openai-main, model: gpt-4o-mini}]}
pricing:
  - { provider: openai-main, model: "gpt-4o-mini", input_per_mtok: 0.15, output_per_mtok: 0.6,
      cached_input_per_mtok: 0.075 }
  - { provider: claude, model: "claude-3-haiku", input_per_mtok: 0.2, output_per_mtok: 1 }
`), nil)
	require.NoError(t, err)
	p, err := New(Builtin(), cfg)
	require.NoError(t, err)
	c, ok := p.Cost("openai-main", "gpt-4o-mini", llm.Usage{PromptTokens: 1_000, CachedTokens: 1_000, CompletionTokens: 1_000})
	require.True(t, ok)
	require.Equal(t, "0.000675", c.Total.String())
	c, ok = p.Cost("claude", "claude-3-haiku-20240307", usage(1_000_000, 0))
	require.True(t, ok)
	require.Equal(t, "0.2", c.Total.String(), "the configured price overrides the built-in one")

	var nilTable *Table
	_, ok = nilTable.Lookup("anthropic", "claude-3-haiku")
	require.False(t, ok)
}
