package admin

import (
	"encoding/json"
	"math"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
)

// setMaxCost decodes a key's cost cap: "max_cost_usd", a number of US
// dollars above 0 and at most 9,000,000, which replaces the cap; null
// removes it.
func setMaxCost(name string, dst **int64) field {
	return func(raw json.RawMessage) error {
		var pico int64
		if !jsonwire.IsNull(raw) {
			var f float64
			if err := json.Unmarshal(raw, &f); err != nil {
				return jsonwire.TypeError(name, "a number of US dollars, or null for no cap", raw)
			}
			if !(f > 0 && f <= config.MaxCostUSD) || math.Round(f*1e12) < 1 {
				return jsonwire.InvalidValue(name, "must be above 0 and at most %d US dollars", config.MaxCostUSD)
			}
			pico = int64(math.Round(f * 1e12))
		}
		*dst = &pico
		return nil
	}
}

// viewMaxCost is a cost cap as the API shows it: US dollars as an exact
// decimal, or null for none.
func viewMaxCost(pico int64) *json.Number {
	if pico <= 0 {
		return nil
	}
	n := dollars(pico)
	return &n
}

// withinCostCap refuses a cost cap wider than own: where the tenant
// admin's own key has a cap, a key it creates or changes must have one
// too, no higher.
func withinCostCap(own, k int64) error {
	if own > 0 && (k <= 0 || k > own) {
		return forbidden("max_cost_usd", "a key you create or change must have max_cost_usd set, at most your own key's %s", dollars(own))
	}
	return nil
}
