package gateway

import (
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
