package config

import "strings"

// validateModel checks models[i]; providers maps provider names to indexes.
func (c *Config) validateModel(p *problems, i int, providers map[string]int) {
	m := &c.Models[i]
	path := indexPath("models", i)
	_, wild := m.Wildcard()
	if strings.Contains(m.Name, "*") && !wild {
		p.add(fieldPath(path, "name"), "a wildcard is only allowed as a trailing \"/*\" after a prefix, as in \"openai/*\"")
	}
	validateTargets(p, path, wild, m.Targets, providers)
	m.Limits.validate(p, path)
	c.validateFallbacks(p, path, "fallbacks", m.Name, m.Fallbacks)
	c.validateFallbacks(p, path, "context_window_fallbacks", m.Name, m.ContextWindowFallbacks)
	c.validateFallbacks(p, path, "content_policy_fallbacks", m.Name, m.ContentPolicyFallbacks)
	m.validateRouting(p, path)
	m.validateRoutes(p, path, providers)
}

// validateFallbacks checks one of a model's fallback lists, named field.
func (c *Config) validateFallbacks(p *problems, path, field, name string, list []string) {
	seen := make(map[string]bool, len(list))
	for j, f := range list {
		fp := indexPath(fieldPath(path, field), j)
		switch {
		case f == "":
			p.add(fp, "must not be empty")
		case f == name:
			p.add(fp, "a model cannot fall back to itself")
		case seen[f]:
			p.add(fp, "duplicate fallback %q", f)
		case !c.knownModel(f, false) && c.knownModel(f, true):
			p.add(fp, "cannot fall back to a wildcard; name a model it serves, such as %q", strings.TrimSuffix(f, "*")+"gpt-4o")
		case !c.knownModel(f, false):
			p.add(fp, "unknown model %q", f)
		}
		seen[f] = true
	}
}

// knownModel reports whether name is a model clients can send: a configured
// model or one served by a wildcard model. With patterns, the name of a
// wildcard model ("openai/*") counts too.
func (c *Config) knownModel(name string, patterns bool) bool {
	for i := range c.Models {
		if _, ok := c.Models[i].Match(name); ok || (patterns && name == c.Models[i].Name) {
			return true
		}
	}
	return false
}

// validateKeys checks the static virtual keys.
func (c *Config) validateKeys(p *problems) {
	names := make(map[string]int, len(c.Keys))
	values := make(map[Secret]int, len(c.Keys))
	for i := range c.Keys {
		k := &c.Keys[i]
		path := indexPath("keys", i)
		checkName(p, path, k.Name, "key", names, i)
		if k.Key == "" {
			p.add(fieldPath(path, "key"), "required")
		} else if j, dup := values[k.Key]; dup {
			// The value itself is never shown.
			p.add(fieldPath(path, "key"), "same key as keys[%d]", j)
		} else {
			values[k.Key] = i
		}
		for j, m := range k.Models {
			if !c.knownModel(m, true) {
				p.add(indexPath(fieldPath(path, "models"), j), "unknown model %q", m)
			}
		}
		k.Limits.validate(p, path)
		k.Budget.validate(p, path)
	}
}

// validate checks the budget at path.budget; nil is no budget.
func (b *Budget) validate(p *problems, path string) {
	if b == nil {
		return
	}
	path = fieldPath(path, "budget")
	if !(b.USD > 0 && b.USD <= MaxBudgetUSD) || b.Pico() <= 0 {
		p.add(fieldPath(path, "usd"), "must be above 0 and at most %d", MaxBudgetUSD)
	}
	switch b.Period {
	case "daily", "weekly", "monthly", "total":
	case "":
		p.add(fieldPath(path, "period"), "required: daily, weekly, monthly or total")
	default:
		p.add(fieldPath(path, "period"), "unknown period %q: daily, weekly, monthly or total", b.Period)
	}
}

// validate checks the limits at path.limits; nil is no limit.
func (l *Limits) validate(p *problems, path string) {
	if l == nil {
		return
	}
	for _, f := range []struct {
		name string
		v    int64
	}{{"rpm", l.RPM}, {"tpm", l.TPM}, {"concurrent", l.Concurrent}} {
		if f.v < 0 {
			p.add(fieldPath(path, "limits."+f.name), "must not be negative")
		}
	}
}
