package pricing

import (
	"errors"
	"fmt"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/llm"
)

// Pricer prices requests by provider name and upstream model: the
// configuration's pricing entries for that provider first, then the
// built-in table's entries for the provider's type. It is immutable and
// safe for concurrent use; a configuration reload builds a new one.
type Pricer struct {
	table     *Table
	types     map[string]string      // provider name -> type
	overrides map[string]*modelIndex // provider name -> configured entries
}

// New returns a Pricer for the providers and pricing section of cfg, over
// the table t (Builtin() in the gateway). cfg must have been validated; New
// still reports an entry it cannot use rather than pricing it wrongly.
func New(t *Table, cfg *config.Config) (*Pricer, error) {
	p := &Pricer{table: t, types: make(map[string]string), overrides: make(map[string]*modelIndex)}
	for _, pr := range cfg.Providers {
		p.types[pr.Name] = pr.Type
	}
	var errs []error
	for i := range cfg.Pricing {
		e, err := fromConfig(&cfg.Pricing[i])
		if err != nil {
			errs = append(errs, fmt.Errorf("pricing[%d]: %w", i, err))
			continue
		}
		x := p.overrides[e.Provider]
		if x == nil {
			x = &modelIndex{exact: make(map[string]*Entry)}
			p.overrides[e.Provider] = x
		}
		if err := x.add(e); err != nil {
			errs = append(errs, fmt.Errorf("pricing[%d]: provider %s: %w", i, e.Provider, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, x := range p.overrides {
		x.sort()
	}
	return p, nil
}

// Lookup returns the entry pricing model on the named provider: a
// configured entry for that provider name, else the built-in entry for its
// type. A provider that is not configured is looked up as a type, so
// Lookup("anthropic", m) finds the built-in price of m. ok is false when
// no entry prices the model: its cost is unknown, which is not zero.
func (p *Pricer) Lookup(provider, model string) (e *Entry, ok bool) {
	if e, ok := p.overrides[provider].find(model); ok {
		return e, true
	}
	typ, configured := p.types[provider]
	if !configured {
		typ = provider
	}
	return p.table.Lookup(typ, model)
}

// Cost returns the cost of usage u of model on the named provider; ok is
// false when the model has no price.
func (p *Pricer) Cost(provider, model string, u llm.Usage) (Cost, bool) {
	e, ok := p.Lookup(provider, model)
	if !ok {
		return Cost{}, false
	}
	return e.Cost(u), true
}

// EstimateMax returns an upper bound of the cost of a request to model on
// the named provider, before it is sent (see Entry.EstimateMax); ok is
// false when the model has no price.
func (p *Pricer) EstimateMax(provider, model string, promptTokens, maxOutputTokens int) (Amount, bool) {
	e, ok := p.Lookup(provider, model)
	if !ok {
		return 0, false
	}
	return e.EstimateMax(promptTokens, maxOutputTokens), true
}

// fromConfig converts a configured price into an entry, with the same
// defaults as the data file's.
func fromConfig(c *config.Price) (*Entry, error) {
	r, listed, err := configRates(c.InputPerMTok, c.OutputPerMTok, c.CachedInputPerMTok,
		c.CacheWritePerMTok, c.CacheWrite1hPerMTok, c.ReasoningPerMTok)
	if err != nil {
		return nil, err
	}
	e := &Entry{Provider: c.Provider, Model: c.Model, Source: "config", Rates: r, listed: listed}
	if lc := c.LongContext; lc != nil {
		if lc.ThresholdTokens <= 0 {
			return nil, errors.New("long_context.threshold_tokens must be > 0")
		}
		lr, ll, err := configRates(lc.InputPerMTok, lc.OutputPerMTok, lc.CachedInputPerMTok,
			lc.CacheWritePerMTok, lc.CacheWrite1hPerMTok, lc.ReasoningPerMTok)
		if err != nil {
			return nil, fmt.Errorf("long_context: %w", err)
		}
		e.Long, e.long = &Tier{Threshold: lc.ThresholdTokens, Rates: lr}, ll
	}
	return e, nil
}

// configRates converts configured prices into rates.
func configRates(fields ...*float64) (Rates, listedRates, error) {
	var raw [6]*Price
	for i, f := range fields {
		if f == nil {
			continue
		}
		v, err := PriceFromFloat(*f)
		if err != nil {
			return Rates{}, listedRates{}, fmt.Errorf("price %v: %w", *f, err)
		}
		raw[i] = &v
	}
	return rawRates{Input: raw[0], Output: raw[1], CachedInput: raw[2], CacheWrite: raw[3],
		CacheWrite1h: raw[4], Reasoning: raw[5]}.resolve()
}
