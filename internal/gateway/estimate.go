package gateway

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/llmgw/llmgw/internal/alert"
	"github.com/llmgw/llmgw/internal/budget"
	"github.com/llmgw/llmgw/internal/pipeline"
	"github.com/llmgw/llmgw/internal/pricing"
	"github.com/llmgw/llmgw/internal/router"
)

// estimator returns the upper bound of a call's cost that admission
// reserves against budgets: the highest pricing.EstimateMax among every
// target that may serve the call, its fallbacks' included, so that the
// bound holds whichever serves it. ok is false when one of them has no
// price: its cost could not be held to a budget.
func estimator(r *router.Router, p *pricing.Pricer) func(call *pipeline.Call, prompt, maxOut int) (int64, bool) {
	return func(call *pipeline.Call, prompt, maxOut int) (int64, bool) {
		var most pricing.Amount
		priced := true
		found := r.EachTarget(call.Model, call.Fallbacks, func(provider, upstream string) bool {
			a, ok := p.EstimateMax(provider, upstream, prompt, maxOut)
			if !ok {
				priced = false
				return false
			}
			most = max(most, a)
			return true
		})
		return int64(most), found && priced
	}
}

// exhausted sends a budget's 100 % alert when it first refuses a call in
// a period (when 100 is among the thresholds): a budget refuses calls
// before its spending reaches its limit, since it holds room for what a
// call may cost, so the crossing alone would seldom send it. What was
// sent is remembered, so that a flood of refused calls makes one store
// write per budget and period in this replica (and the store's claim
// makes it one alert across replicas).
func exhausted(s *alert.Sender) func(tenant string, d budget.Decision) {
	if s == nil || !slices.Contains(s.Thresholds(), 100) {
		return nil
	}
	var mu sync.Mutex
	sent := make(map[string]bool)
	return func(tenant string, d budget.Decision) {
		b := d.Budget
		window, _, _ := b.Period.Window(time.Now())
		k := b.Subject + "\x00" + string(b.Period) + "\x00" + window
		mu.Lock()
		if sent[k] {
			mu.Unlock()
			return
		}
		if len(sent) >= 10000 {
			clear(sent)
		}
		sent[k] = true
		mu.Unlock()
		go s.BudgetCrossed(context.Background(), alert.BudgetEvent{TenantID: tenant, Subject: b.Subject, Period: string(b.Period),
			Window: window, LimitPico: b.Limit, SpentPico: d.Spent, ThresholdPercent: 100})
	}
}
