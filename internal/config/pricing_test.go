package config

import (
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

func ptr(v float64) *float64 { return &v }

// validPrice returns a valid price entry for the provider "openai" of
// validConfig.
func validPrice() Price {
	return Price{Provider: "openai", Model: "gpt-4o-mini", InputPerMTok: ptr(0.15), OutputPerMTok: ptr(0.6),
		CachedInputPerMTok: ptr(0.075)}
}

func TestValidatePricing(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *Config)
		want   []string
	}{
		{"valid", func(c *Config) {}, nil},
		{"valid with every field", func(c *Config) {
			c.Pricing[0].CacheWritePerMTok = ptr(0.1875)
			c.Pricing[0].CacheWrite1hPerMTok = ptr(0.3)
			c.Pricing[0].ReasoningPerMTok = ptr(0.6)
			c.Pricing[0].LongContext = &LongContextPrice{ThresholdTokens: 200000, InputPerMTok: ptr(0.3), OutputPerMTok: ptr(1.2),
				CachedInputPerMTok: ptr(0.15), CacheWritePerMTok: ptr(0.375), CacheWrite1hPerMTok: ptr(0.6), ReasoningPerMTok: ptr(1.2)}
		}, nil},
		{"free model", func(c *Config) { c.Pricing[0].InputPerMTok = ptr(0); c.Pricing[0].OutputPerMTok = ptr(0) }, nil},
		{"six decimals", func(c *Config) { c.Pricing[0].InputPerMTok = ptr(0.000001) }, nil},
		{"provider required", func(c *Config) { c.Pricing[0].Provider = "" }, []string{"pricing[0].provider: required"}},
		{"unknown provider", func(c *Config) { c.Pricing[0].Provider = "openia" },
			[]string{`pricing[0].provider: unknown provider "openia"`}},
		{"provider type is not a name", func(c *Config) { c.Pricing[0].Provider = "anthropic" },
			[]string{`pricing[0].provider: unknown provider "anthropic"`}},
		{"model required", func(c *Config) { c.Pricing[0].Model = "" }, []string{"pricing[0].model: required"}},
		{"model with spaces", func(c *Config) { c.Pricing[0].Model = " gpt-4o" },
			[]string{"pricing[0].model: an upstream model id, without spaces around it or wildcards"}},
		{"model wildcard", func(c *Config) { c.Pricing[0].Model = "gpt-*" },
			[]string{"pricing[0].model: an upstream model id, without spaces around it or wildcards"}},
		{"input and output required", func(c *Config) { c.Pricing[0].InputPerMTok = nil; c.Pricing[0].OutputPerMTok = nil },
			[]string{"pricing[0].input_per_mtok: required", "pricing[0].output_per_mtok: required"}},
		{"negative prices", func(c *Config) {
			c.Pricing[0].InputPerMTok = ptr(-1)
			c.Pricing[0].CachedInputPerMTok = ptr(-0.01)
			c.Pricing[0].CacheWritePerMTok = ptr(-2)
			c.Pricing[0].CacheWrite1hPerMTok = ptr(-3)
			c.Pricing[0].ReasoningPerMTok = ptr(-4)
		}, []string{
			"pricing[0].input_per_mtok: must not be negative",
			"pricing[0].cached_input_per_mtok: must not be negative",
			"pricing[0].cache_write_per_mtok: must not be negative",
			"pricing[0].cache_write_1h_per_mtok: must not be negative",
			"pricing[0].reasoning_per_mtok: must not be negative",
		}},
		{"too many decimals", func(c *Config) { c.Pricing[0].OutputPerMTok = ptr(0.0000001) },
			[]string{"pricing[0].output_per_mtok: at most six decimals (a millionth of a dollar per million tokens)"}},
		{"too large", func(c *Config) { c.Pricing[0].OutputPerMTok = ptr(1e9) },
			[]string{"pricing[0].output_per_mtok: must be at most 100000 (USD per million tokens)"}},
		{"duplicate", func(c *Config) { c.Pricing = append(c.Pricing, validPrice()) },
			[]string{`pricing[1]: duplicate price for provider "openai" and model "gpt-4o-mini" (also at index 0)`}},
		{"same model on another provider is no duplicate", func(c *Config) {
			p := validPrice()
			p.Provider = "mock"
			c.Pricing = append(c.Pricing, p)
		}, nil},
		{"long context", func(c *Config) {
			c.Pricing[0].LongContext = &LongContextPrice{InputPerMTok: ptr(-1)}
		}, []string{
			"pricing[0].long_context.threshold_tokens: required, > 0",
			"pricing[0].long_context.output_per_mtok: required",
			"pricing[0].long_context.input_per_mtok: must not be negative",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			c.Pricing = []Price{validPrice()}
			tt.mutate(c)
			if diff := cmp.Diff(tt.want, problemLines(c.Validate())); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckPriceNotFinite(t *testing.T) {
	for _, v := range []float64{nan(), inf(1), inf(-1)} {
		require.Equal(t, "must be a finite number", CheckPrice(v), "%v", v)
	}
}

func TestParsePricing(t *testing.T) {
	const doc = `
providers: [{name: openai-main, type: openai, api_key: k}]
models: [{name: m, targets: [{provider: openai-main, model: gpt-4o-mini}]}]
pricing:
  - { provider: openai-main, model: "gpt-4o-mini", input_per_mtok: 0.15, output_per_mtok: 0.6,
      cached_input_per_mtok: 0.075 }
  - provider: openai-main
    model: big
    input_per_mtok: 1.25
    output_per_mtok: 10
    long_context: {threshold_tokens: 200000, input_per_mtok: 2.5, output_per_mtok: 15}
`
	c, err := Parse([]byte(doc), nil)
	require.NoError(t, err)
	require.Len(t, c.Pricing, 2)
	require.Equal(t, 0.075, *c.Pricing[0].CachedInputPerMTok)
	require.Nil(t, c.Pricing[0].CacheWritePerMTok)
	require.Equal(t, int64(200000), c.Pricing[1].LongContext.ThresholdTokens)

	// The clone behind Redacted shares no price with the original.
	r := c.Redacted()
	*r.Pricing[1].LongContext.InputPerMTok = 99
	*r.Pricing[0].InputPerMTok = 99
	require.Equal(t, 2.5, *c.Pricing[1].LongContext.InputPerMTok)
	require.Equal(t, 0.15, *c.Pricing[0].InputPerMTok)
}

func TestParsePricingProblems(t *testing.T) {
	const doc = `
providers: [{name: p, type: openai, api_key: k}]
models: [{name: m, targets: [{provider: p, model: x}]}]
pricing:
  - {provider: p, model: x, input_per_mtok: .nan, output_per_mtok: "cheap", output_per_mtokk: 1}
  - {provider: q, input_per_mtok: 1, output_per_mtok: 2}
`
	_, err := Parse([]byte(doc), nil)
	require.Error(t, err)
	got := problemLines(err)
	want := []string{
		"pricing[0].output_per_mtok: expected a number, got a string \"cheap\"",
		"pricing[0].output_per_mtokk: unknown field",
		"pricing[0].input_per_mtok: must be a finite number",
		`pricing[1].provider: unknown provider "q"`,
		"pricing[1].model: required",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s\nall: %s", diff, strings.Join(got, "\n"))
	}
}

func nan() float64         { return math.NaN() }
func inf(sign int) float64 { return math.Inf(sign) }
