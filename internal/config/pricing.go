package config

import (
	"math"
	"strconv"
	"strings"
)

// Price is one entry of the pricing section: the USD prices of one
// upstream model on one provider, overriding or extending the built-in
// price table. Prices are US dollars per million tokens, with at most six
// decimals (a millionth of a dollar per million tokens).
type Price struct {
	// Provider is the name of a configured provider (providers[].name), not
	// a type: the entry applies to that provider only. Required.
	Provider string `yaml:"provider" json:"provider"`
	// Model is the upstream model id, as in a target's model. It also
	// matches the model's dated snapshots and versions ("gpt-4o" matches
	// "gpt-4o-2024-08-06"; see docs/pricing.md for the rule). Required.
	Model string `yaml:"model" json:"model"`
	// InputPerMTok is the price of prompt tokens neither read from nor
	// written to a prompt cache. Required.
	InputPerMTok *float64 `yaml:"input_per_mtok" json:"input_per_mtok"`
	// OutputPerMTok is the price of completion tokens. Required.
	OutputPerMTok *float64 `yaml:"output_per_mtok" json:"output_per_mtok"`
	// CachedInputPerMTok is the price of prompt tokens read from a prompt
	// cache. Default: the input price.
	CachedInputPerMTok *float64 `yaml:"cached_input_per_mtok,omitempty" json:"cached_input_per_mtok,omitempty"`
	// CacheWritePerMTok is the price of prompt tokens written to a prompt
	// cache (Anthropic's 5-minute writes). Default: the input price.
	CacheWritePerMTok *float64 `yaml:"cache_write_per_mtok,omitempty" json:"cache_write_per_mtok,omitempty"`
	// CacheWrite1hPerMTok is the price of prompt tokens written to a prompt
	// cache kept one hour (Anthropic's 1-hour writes). Default: the cache
	// write price.
	CacheWrite1hPerMTok *float64 `yaml:"cache_write_1h_per_mtok,omitempty" json:"cache_write_1h_per_mtok,omitempty"`
	// ReasoningPerMTok is the price of completion tokens spent on
	// reasoning. Default: the output price, as every provider in the
	// built-in table bills them.
	ReasoningPerMTok *float64 `yaml:"reasoning_per_mtok,omitempty" json:"reasoning_per_mtok,omitempty"`
	// LongContext, when set, prices every token of a request whose prompt
	// (cached and cache-write tokens included) is longer than its
	// threshold at its own rates.
	LongContext *LongContextPrice `yaml:"long_context,omitempty" json:"long_context,omitempty"`
}

// LongContextPrice is the tier of a price for long prompts. Its cached,
// cache-write and reasoning prices default as the entry's do, from the
// tier's own input and output prices.
type LongContextPrice struct {
	// ThresholdTokens is the prompt length above which the tier applies: a
	// prompt of exactly this many tokens is priced at the base rates.
	// Required, > 0.
	ThresholdTokens int64 `yaml:"threshold_tokens" json:"threshold_tokens"`
	// InputPerMTok is the tier's input price. Required.
	InputPerMTok *float64 `yaml:"input_per_mtok" json:"input_per_mtok"`
	// OutputPerMTok is the tier's output price. Required.
	OutputPerMTok *float64 `yaml:"output_per_mtok" json:"output_per_mtok"`
	// CachedInputPerMTok is the tier's cached input price.
	CachedInputPerMTok *float64 `yaml:"cached_input_per_mtok,omitempty" json:"cached_input_per_mtok,omitempty"`
	// CacheWritePerMTok is the tier's cache write price.
	CacheWritePerMTok *float64 `yaml:"cache_write_per_mtok,omitempty" json:"cache_write_per_mtok,omitempty"`
	// CacheWrite1hPerMTok is the tier's 1-hour cache write price.
	CacheWrite1hPerMTok *float64 `yaml:"cache_write_1h_per_mtok,omitempty" json:"cache_write_1h_per_mtok,omitempty"`
	// ReasoningPerMTok is the tier's reasoning price.
	ReasoningPerMTok *float64 `yaml:"reasoning_per_mtok,omitempty" json:"reasoning_per_mtok,omitempty"`
}

// MaxPricePerMTok is the highest price accepted, in USD per million
// tokens: far above any real price, low enough that a request's cost
// cannot overflow.
const MaxPricePerMTok = 100000

// CheckPrice returns what is wrong with a price in USD per million tokens,
// or "": it must be a finite number from 0 to MaxPricePerMTok with at most
// six decimals.
func CheckPrice(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "must be a finite number"
	case v < 0:
		return "must not be negative"
	case v > MaxPricePerMTok:
		return "must be at most " + strconv.Itoa(MaxPricePerMTok) + " (USD per million tokens)"
	}
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if _, frac, ok := strings.Cut(s, "."); ok && len(frac) > 6 {
		return "at most six decimals (a millionth of a dollar per million tokens)"
	}
	return ""
}

// validatePricing checks the pricing section; providers maps provider
// names to indexes.
func (c *Config) validatePricing(p *problems, providers map[string]int) {
	seen := make(map[[2]string]int, len(c.Pricing))
	for i := range c.Pricing {
		e := &c.Pricing[i]
		path := indexPath("pricing", i)
		switch {
		case e.Provider == "":
			p.add(fieldPath(path, "provider"), "required")
		default:
			if _, ok := providers[e.Provider]; !ok {
				p.add(fieldPath(path, "provider"), "unknown provider %q", e.Provider)
			}
		}
		switch {
		case e.Model == "":
			p.add(fieldPath(path, "model"), "required")
		case strings.TrimSpace(e.Model) != e.Model || strings.ContainsAny(e.Model, "*\n\r\t"):
			p.add(fieldPath(path, "model"), "an upstream model id, without spaces around it or wildcards")
		}
		if e.Provider != "" && e.Model != "" {
			key := [2]string{e.Provider, e.Model}
			if j, dup := seen[key]; dup {
				p.add(path, "duplicate price for provider %q and model %q (also at index %d)", e.Provider, e.Model, j)
			} else {
				seen[key] = i
			}
		}
		checkRates(p, path, rates{e.InputPerMTok, e.OutputPerMTok, e.CachedInputPerMTok,
			e.CacheWritePerMTok, e.CacheWrite1hPerMTok, e.ReasoningPerMTok})
		if lc := e.LongContext; lc != nil {
			lp := fieldPath(path, "long_context")
			if lc.ThresholdTokens <= 0 {
				p.add(fieldPath(lp, "threshold_tokens"), "required, > 0")
			}
			checkRates(p, lp, rates{lc.InputPerMTok, lc.OutputPerMTok, lc.CachedInputPerMTok,
				lc.CacheWritePerMTok, lc.CacheWrite1hPerMTok, lc.ReasoningPerMTok})
		}
	}
}

// rates are the price fields of an entry or tier, in field order.
type rates struct {
	input, output, cached, write, write1h, reasoning *float64
}

// checkRates checks the prices of an entry or tier at path.
func checkRates(p *problems, path string, r rates) {
	if r.input == nil {
		p.add(fieldPath(path, "input_per_mtok"), "required")
	}
	if r.output == nil {
		p.add(fieldPath(path, "output_per_mtok"), "required")
	}
	for _, f := range []struct {
		name string
		v    *float64
	}{
		{"input_per_mtok", r.input}, {"output_per_mtok", r.output},
		{"cached_input_per_mtok", r.cached}, {"cache_write_per_mtok", r.write},
		{"cache_write_1h_per_mtok", r.write1h}, {"reasoning_per_mtok", r.reasoning},
	} {
		if f.v == nil {
			continue
		}
		if msg := CheckPrice(*f.v); msg != "" {
			p.add(fieldPath(path, f.name), "%s", msg)
		}
	}
}

// clone returns a deep copy of e.
func (e Price) clone() Price {
	e.InputPerMTok = cloneFloat(e.InputPerMTok)
	e.OutputPerMTok = cloneFloat(e.OutputPerMTok)
	e.CachedInputPerMTok = cloneFloat(e.CachedInputPerMTok)
	e.CacheWritePerMTok = cloneFloat(e.CacheWritePerMTok)
	e.CacheWrite1hPerMTok = cloneFloat(e.CacheWrite1hPerMTok)
	e.ReasoningPerMTok = cloneFloat(e.ReasoningPerMTok)
	if e.LongContext != nil {
		lc := *e.LongContext
		lc.InputPerMTok = cloneFloat(lc.InputPerMTok)
		lc.OutputPerMTok = cloneFloat(lc.OutputPerMTok)
		lc.CachedInputPerMTok = cloneFloat(lc.CachedInputPerMTok)
		lc.CacheWritePerMTok = cloneFloat(lc.CacheWritePerMTok)
		lc.CacheWrite1hPerMTok = cloneFloat(lc.CacheWrite1hPerMTok)
		lc.ReasoningPerMTok = cloneFloat(lc.ReasoningPerMTok)
		e.LongContext = &lc
	}
	return e
}

// cloneFloat copies the value f points to, keeping nil as nil.
func cloneFloat(f *float64) *float64 {
	if f == nil {
		return nil
	}
	v := *f
	return &v
}
