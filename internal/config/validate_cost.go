package config

import (
	"math"
	"strings"
)

// MaxCostUSD is the largest cost cap: the largest budget.
const MaxCostUSD = MaxBudgetUSD

// MaxCostPico returns the key's cost cap in picodollars; 0 when it has
// none.
func (k *Key) MaxCostPico() int64 { return costPico(k.MaxCostUSD) }

// costPico returns usd in picodollars; 0 for nil.
func costPico(usd *float64) int64 {
	if usd == nil {
		return 0
	}
	return int64(math.Round(*usd * 1e12))
}

// validateCostCap checks the cost cap at path.max_cost_usd; nil is none.
func validateCostCap(p *problems, path string, usd *float64) {
	if usd == nil {
		return
	}
	if v := *usd; !(v > 0 && v <= MaxCostUSD) || costPico(usd) <= 0 {
		p.add(fieldPath(path, "max_cost_usd"), "must be above 0 and at most %d (US dollars)", MaxCostUSD)
	}
}

// validateCostCaps checks the keys' cost caps and the models' cost
// fallbacks: each names a configured model other than its own, and no
// chain of them loops.
func (c *Config) validateCostCaps(p *problems) {
	for i := range c.Keys {
		validateCostCap(p, indexPath("keys", i), c.Keys[i].MaxCostUSD)
	}
	next := make(map[string]string, len(c.Models))
	for i := range c.Models {
		m := &c.Models[i]
		if m.CostFallback == "" {
			continue
		}
		path := fieldPath(indexPath("models", i), "cost_fallback")
		f := m.CostFallback
		switch {
		case f == m.Name:
			p.add(path, "a model cannot be its own cost fallback")
		case !c.knownModel(f, false) && c.knownModel(f, true):
			p.add(path, "cannot be a wildcard; name a model it serves, such as %q", strings.TrimSuffix(f, "*")+"gpt-4o-mini")
		case !c.knownModel(f, false):
			p.add(path, "unknown model %q", f)
		default:
			next[m.Name] = f
		}
	}
	for i := range c.Models {
		name := c.Models[i].Name
		if loopsBack(next, name) {
			p.add(fieldPath(indexPath("models", i), "cost_fallback"), "the chain of cost fallbacks from %q comes back to it", name)
		}
	}
}

// loopsBack reports whether following next from name comes back to name.
func loopsBack(next map[string]string, name string) bool {
	at, ok := next[name]
	for steps := 0; ok && steps <= len(next); steps++ {
		if at == name {
			return true
		}
		at, ok = next[at]
	}
	return false
}
