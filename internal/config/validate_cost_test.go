package config

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestValidateCostCaps(t *testing.T) {
	usd := func(f float64) *float64 { return &f }
	tests := []struct {
		name   string
		mutate func(c *Config)
		want   []string
	}{
		{"key cap", func(c *Config) { c.Keys[0].MaxCostUSD = usd(0.05) }, nil},
		{"key cap largest", func(c *Config) { c.Keys[0].MaxCostUSD = usd(9_000_000) }, nil},
		{"key caps bad", func(c *Config) {
			c.Keys[0].MaxCostUSD = usd(0)
			c.Keys[1].MaxCostUSD = usd(-1)
		}, []string{
			"keys[0].max_cost_usd: must be above 0 and at most 9000000 (US dollars)",
			"keys[1].max_cost_usd: must be above 0 and at most 9000000 (US dollars)",
		}},
		{"key cap too large", func(c *Config) { c.Keys[0].MaxCostUSD = usd(9_000_000.01) },
			[]string{"keys[0].max_cost_usd: must be above 0 and at most 9000000 (US dollars)"}},
		{"key cap NaN", func(c *Config) { c.Keys[0].MaxCostUSD = usd(math.NaN()) },
			[]string{"keys[0].max_cost_usd: must be above 0 and at most 9000000 (US dollars)"}},
		{"key cap below a picodollar", func(c *Config) { c.Keys[0].MaxCostUSD = usd(1e-13) },
			[]string{"keys[0].max_cost_usd: must be above 0 and at most 9000000 (US dollars)"}},
		{"cost fallback", func(c *Config) { c.Models[0].CostFallback = "mock" }, nil},
		{"cost fallback served by a wildcard", func(c *Config) { c.Models[0].CostFallback = "openai/gpt-4o-mini" }, nil},
		{"cost fallback to itself", func(c *Config) { c.Models[0].CostFallback = "gpt" },
			[]string{"models[0].cost_fallback: a model cannot be its own cost fallback"}},
		{"cost fallback unknown", func(c *Config) { c.Models[0].CostFallback = "nope" },
			[]string{`models[0].cost_fallback: unknown model "nope"`}},
		{"cost fallback to a wildcard", func(c *Config) { c.Models[0].CostFallback = "openai/*" },
			[]string{`models[0].cost_fallback: cannot be a wildcard; name a model it serves, such as "openai/gpt-4o-mini"`}},
		{"cost fallback loop", func(c *Config) {
			c.Models[0].CostFallback = "mock"
			c.Models[1].CostFallback = "gpt"
		}, []string{
			`models[0].cost_fallback: the chain of cost fallbacks from "gpt" comes back to it`,
			`models[1].cost_fallback: the chain of cost fallbacks from "mock" comes back to it`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.mutate(c)
			if diff := cmp.Diff(tt.want, problemLines(c.Validate())); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseCostCaps(t *testing.T) {
	c, err := Parse([]byte(`
providers: [{name: mock, type: mock}]
models:
  - {name: big, targets: [{provider: mock, model: mock}], cost_fallback: small}
  - {name: small, targets: [{provider: mock, model: mock}]}
keys:
  - {name: k, key: sk-k-0123456789, max_cost_usd: 0.25}
`), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	if c.Models[0].CostFallback != "small" || c.Keys[0].MaxCostPico() != 250_000_000_000 {
		t.Errorf("cost_fallback %q, max cost %d pico", c.Models[0].CostFallback, c.Keys[0].MaxCostPico())
	}
	if _, err := Parse([]byte(`
providers: [{name: mock, type: mock}]
models: [{name: m, targets: [{provider: mock, model: mock}]}]
keys: [{name: k, key: sk-k-0123456789, max_cost_usd: "cheap"}]
`), func(string) (string, bool) { return "", false }); err == nil {
		t.Error("a string max_cost_usd was accepted")
	}
}
