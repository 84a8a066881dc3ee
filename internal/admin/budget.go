package admin

import (
	"context"
	"encoding/json"
	"math"
	"time"

	"github.com/llmgw/llmgw/internal/budget"
	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/pricing"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
	"github.com/llmgw/llmgw/internal/store"
)

// budgetView is a budget as the API shows it: its limit and period, and,
// on reads, what its current period has spent, holds for requests in
// flight and has left. Amounts are US dollars, as exact decimals.
type budgetView struct {
	USD    json.Number `json:"usd"`
	Period string      `json:"period"`
	// Window names the current period ("2026-12", "2026-W49",
	// "2026-12-02", "total"); ResetsAt is when it ends (absent for
	// total).
	Window       string       `json:"window,omitempty"`
	ResetsAt     *time.Time   `json:"resets_at,omitempty"`
	SpentUSD     *json.Number `json:"spent_usd,omitempty"`
	ReservedUSD  *json.Number `json:"reserved_usd,omitempty"`
	RemainingUSD *json.Number `json:"remaining_usd,omitempty"`
}

func dollars(pico int64) json.Number { return json.Number(pricing.Amount(pico).String()) }

// viewBudget is nil for no budget.
func viewBudget(b store.Budget) *budgetView {
	if b.IsZero() {
		return nil
	}
	return &budgetView{USD: dollars(b.LimitPico), Period: b.Period}
}

// spend fills v with its subject's spending in the current period, when
// the process keeps budgets (Backend.Budgets). A budget whose counts do
// not answer is shown without them, and the failure logged.
func (a *API) spend(ctx context.Context, v *budgetView, subject string, b store.Budget) {
	if v == nil || a.b.Budgets == nil {
		return
	}
	bb := budget.Budget{Subject: subject, Limit: b.LimitPico, Period: budget.Period(b.Period)}
	name, _, end := bb.Period.Window(a.b.Now())
	v.Window = name
	if !end.IsZero() {
		v.ResetsAt = &end
	}
	spent, reserved, err := a.b.Budgets.Spent(ctx, bb)
	if err != nil {
		a.b.Logger.Warn("budget spending unavailable", "subject", subject, "err", err.Error())
		return
	}
	s, r, left := dollars(spent), dollars(reserved), dollars(max(b.LimitPico-spent-reserved, 0))
	v.SpentUSD, v.ReservedUSD, v.RemainingUSD = &s, &r, &left
}

// setBudget decodes a budget: {"usd": above 0 and at most 9,000,000,
// "period": "daily" | "weekly" | "monthly" | "total"}, which replaces the
// budget; null removes it.
func setBudget(name string, dst **store.Budget) field {
	return func(raw json.RawMessage) error {
		var b store.Budget
		if !jsonwire.IsNull(raw) {
			obj, err := jsonwire.DecodeObject(raw, name)
			if err != nil {
				return err
			}
			for _, mem := range obj {
				k := string(mem.Key)
				p := name + "." + llm.Clip(k)
				switch k {
				case "usd":
					var f float64
					if err := json.Unmarshal(mem.Val, &f); err != nil || jsonwire.IsNull(mem.Val) {
						return jsonwire.TypeError(p, "a number of US dollars", mem.Val)
					}
					if !(f > 0 && f <= config.MaxBudgetUSD) || math.Round(f*1e12) < 1 {
						return jsonwire.InvalidValue(p, "must be above 0 and at most %d US dollars", config.MaxBudgetUSD)
					}
					b.LimitPico = int64(math.Round(f * 1e12))
				case "period":
					s, ok := jsonwire.Unquote(mem.Val)
					if !ok {
						return jsonwire.TypeError(p, "a string", mem.Val)
					}
					if !budget.Period(s).Valid() {
						return jsonwire.InvalidValue(p, "want daily, weekly, monthly or total; got %q", llm.Clip(s))
					}
					b.Period = s
				default:
					return llm.InvalidRequest(p, "unknown field %q in %s: want \"usd\" and \"period\"", llm.Clip(k), name)
				}
			}
			if b.LimitPico == 0 {
				return missing(name + ".usd")
			}
			if b.Period == "" {
				return missing(name + ".period")
			}
		}
		*dst = &b
		return nil
	}
}
