package server

import (
	"net/http"

	"github.com/llmgw/llmgw/internal/costcap"
	"github.com/llmgw/llmgw/internal/pipeline"
	"github.com/llmgw/llmgw/internal/pricing"
)

// maxCostKey is costcap.Header as the request's Header map holds it.
var maxCostKey = http.CanonicalHeaderKey(costcap.Header)

// costEstimateHeader is the most a call was estimated to cost, in US
// dollars, sent whenever a cost cap applied to it (the request's
// x-llmgw-max-cost-usd or its key's max_cost_usd), on success and on the
// 400 cost_cap_exceeded alike; absent when the cost could not be
// estimated.
const costEstimateHeader = "X-Llmgw-Cost-Estimate-Usd"

// costFallbackHeader names the model that served a call in place of the
// one asked for, because that one's estimate was above the call's cost
// cap (models[].cost_fallback).
const costFallbackHeader = "X-Llmgw-Cost-Fallback"

// costCapFromRequest puts the cap the client asks for in
// x-llmgw-max-cost-usd on call, for the cost cap stage.
func costCapFromRequest(r *http.Request, call *pipeline.Call) error {
	v, ok := r.Header[maxCostKey]
	if !ok {
		return nil
	}
	pico, err := costcap.ParseHeader(v)
	if err != nil {
		return err
	}
	call.MaxCostPico = pico
	return nil
}

// setCostCap reports what the cost cap stage found; called after Invoke,
// whether it succeeded or not, before anything is written.
func setCostCap(w http.ResponseWriter, call *pipeline.Call) {
	cc := &call.CostCap
	if !cc.Applied {
		return
	}
	h := w.Header()
	if cc.Estimate >= 0 {
		var buf [32]byte
		h[costEstimateHeader] = []string{string(pricing.Amount(cc.Estimate).AppendText(buf[:0]))}
	}
	if cc.Fallback != "" {
		h[costFallbackHeader] = []string{cc.Fallback}
	}
}

// declareCostTrailer announces costHeader as a trailer of a streamed
// response when the model that serves call has a price: its cost is known
// only once the stream has ended. Called before the status is written;
// setCost then sets it.
func (s *Server) declareCostTrailer(w http.ResponseWriter, r *http.Request, call *pipeline.Call) {
	p := s.current(r).Pricer
	if p == nil || call == nil || call.Provider == "" {
		return
	}
	if _, ok := p.Lookup(call.Provider, call.UpstreamModel); ok {
		w.Header().Add("Trailer", costHeader)
	}
}
