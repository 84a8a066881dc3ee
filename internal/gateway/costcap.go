package gateway

import (
	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/costcap"
	"github.com/llmgw/llmgw/internal/pipeline"
	"github.com/llmgw/llmgw/internal/pricing"
	"github.com/llmgw/llmgw/internal/ratelimit"
	"github.com/llmgw/llmgw/internal/router"
)

// costCapStage returns the cost cap stage of cfg: calls counted and priced
// as budgets reserve them (ratelimit.Tokens, estimator), with the models'
// cost fallbacks.
func costCapStage(cfg *config.Config, r *router.Router, p *pricing.Pricer, target func(string) (string, string, bool)) pipeline.Stage {
	fallbacks := make(map[string]string)
	for i := range cfg.Models {
		if f := cfg.Models[i].CostFallback; f != "" {
			fallbacks[cfg.Models[i].Name] = f
		}
	}
	return costcap.New(costcap.Options{
		Tokens: func(call *pipeline.Call) (int, int, error) {
			return ratelimit.Tokens(call, target, 0)
		},
		Estimate: estimator(r, p),
		Known: func(model string) bool {
			_, _, ok := r.Target(model)
			return ok
		},
		Fallbacks: fallbacks,
	})
}
