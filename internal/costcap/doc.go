// Package costcap is the pipeline stage that holds each inference call to
// a cost cap: the most, in US dollars, the caller accepts one request to
// cost.
//
// # Where a cap comes from
//
// A key may carry a cap (keys[].max_cost_usd in the configuration, or
// max_cost_usd of a key created through the admin API), and a request may
// ask for one with the x-llmgw-max-cost-usd header. When both are set the
// lower applies: the key's cap is a ceiling its administrator set, which a
// request may lower and never raise. With neither, the stage does nothing
// and costs nothing: no token is counted, no price looked up.
//
// # The estimate
//
// Before any upstream call, the stage estimates the most the call may
// cost, the way budgets reserve it (package ratelimit): its prompt tokens
// plus the largest answer it allows (its max tokens, else the default
// answer cap that limits and budgets reserve), priced at the highest rate
// among every target and fallback that may serve it. An estimate above
// the cap refuses the call with 400 cost_cap_exceeded, the estimate and
// the cap in the message, before any upstream is called and before any
// rate limit or budget counts it (the stage runs after access and before
// limits; see pipeline/order.go). A model whose cost cannot be estimated
// (it, or one of its fallbacks, has no price) is refused too when a cap
// applies: a cap that cannot be enforced is not accepted silently.
//
// # Cheaper fallback
//
// A model may name a cost_fallback. When the call's estimate is above its
// cap, the call goes to that model instead if the caller may use it and
// its estimate fits under the cap; else that model's own cost_fallback is
// tried, and so on (the configuration refuses loops). The call then
// carries the fallback's name (pipeline.CostCap.Fallback) and the server
// reports it in the x-llmgw-cost-fallback header.
//
// The stage records what it found on the call (pipeline.Call.CostCap) for
// the server's x-llmgw-cost-estimate-usd header, whether it admitted the
// call or not. It holds no state: it belongs to a configuration snapshot.
package costcap
