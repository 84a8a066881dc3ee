package server

import (
	"context"
	"strings"
	"time"

	"github.com/llmgw/llmgw/internal/alert"
	"github.com/llmgw/llmgw/internal/budget"
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/store"
)

// recordUsage adds the request's record to the usage ledger: every request
// that named a model, whatever its outcome, once it has ended. Its usage
// is what the answer's stream counted, up to where it stopped (a stream
// that ended early is billed for what it delivered: see estimateCut). It
// returns the record, also made for the request's span when the request
// is traced, and whether one was made. Its tokens and cost are counted
// in the metrics too, ledger or not.
func (s *Server) recordUsage(rec *recorder, ri *reqInfo, start time.Time) (store.UsageRecord, bool) {
	defer ri.out.release()
	if ri.result != nil {
		s.observeUsage(ri, &ri.done.usage, ri.done.costPico, ri.done.costKnown)
	}
	l := ri.snap.Ledger
	if ri.spend == nil && (l == nil || ri.model == "") && ri.traced == nil {
		return store.UsageRecord{}, false
	}
	status := rec.status
	if status == 0 {
		status = 499
	}
	// The ledger keeps one record per ID: a client's x-request-id, which
	// it may reuse, gets a suffix of the gateway's so that no request
	// hides behind another's record.
	id := ri.id
	if ri.clientID {
		id += "." + newRequestID()[:16]
	}
	u := store.UsageRecord{RequestID: id, At: start, TenantID: ri.tenantID, Tenant: ri.tenant, TeamID: ri.team,
		KeyID: ri.keyID, KeyName: ri.key, Model: ledgerText(ri.model), Provider: ri.provider, UpstreamModel: ri.upstreamModel,
		LatencyMicros: time.Since(start).Microseconds(), TTFTMicros: ri.ttft.Microseconds(), Status: status, Stream: ri.stream}
	if u.TenantID == "" {
		u.TenantID = ri.tenant // a static key's tenant is its name
	}
	if ri.result != nil {
		usage := ri.done.usage
		u.UsageEstimated = ri.done.estimated
		u.InputTokens, u.OutputTokens = int64(usage.PromptTokens), int64(usage.CompletionTokens)
		u.CachedTokens, u.CacheWriteTokens, u.ReasoningTokens = int64(usage.CachedTokens), int64(usage.CacheCreationTokens), int64(usage.ReasoningTokens)
		u.CostPico, u.CostKnown = ri.done.costPico, ri.done.costKnown
	}
	if ri.spend != nil {
		settle(ri.spend, &u, ri.result != nil, ri.snap.Alerts)
	}
	if l != nil && ri.model != "" {
		l.Add(u)
	}
	return u, true
}

// outcome is what a request's end tells of its usage.
type outcome struct {
	usage llm.Usage
	// estimated: some of usage is the gateway's estimate (estimateCut).
	estimated bool
	// costPico is the cost of usage, in picodollars, when costKnown (the
	// model has a price).
	costPico  int64
	costKnown bool
}

// finish computes ri.done once the request has ended: the usage its
// answer's stream counted, up to where it stopped, and its cost. A
// request that got no answer has none.
func (ri *reqInfo) finish() {
	if ri.result == nil {
		return
	}
	d := &ri.done
	d.usage = ri.result.Usage()
	if ri.stream {
		d.usage, d.estimated = estimateCut(ri, d.usage)
	}
	if p := ri.snap.Pricer; p != nil && ri.provider != "" && !d.usage.IsZero() {
		if c, ok := p.Cost(ri.provider, ri.upstreamModel, d.usage); ok {
			d.costPico, d.costKnown = int64(c.Total), true
		}
	}
}

// settleTimeout bounds settling a call's budgets.
const settleTimeout = 5 * time.Second

// settle settles a call's budgets with its cost, off the request's path
// (the end of a stream is not held back for it): the cost when known; the
// whole reservation when an answer came without a price or usage to
// price (the estimate bounds what it cost); nothing when no upstream
// answered. A budget whose spending crossed an alert threshold sends its
// alert (once, whatever the replicas).
func settle(sp *budget.Reservation, u *store.UsageRecord, answered bool, alerts *alert.Sender) {
	cost := int64(0)
	switch {
	case u.CostKnown:
		cost = u.CostPico
	case answered:
		cost = sp.Estimate()
	}
	tenant, at := u.TenantID, u.At
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
		defer cancel()
		after, err := sp.Settle(ctx, cost)
		if err != nil || alerts == nil {
			return
		}
		bs, ws := sp.Budgets(), sp.Windows()
		for i := range min(len(after), len(bs), len(ws)) {
			for _, th := range alert.Crossed(bs[i].Limit, after[i]-cost, after[i], alerts.Thresholds()) {
				alerts.BudgetCrossed(ctx, alert.BudgetEvent{TenantID: tenant, Subject: bs[i].Subject, Period: string(bs[i].Period),
					Window: ws[i], LimitPico: bs[i].Limit, SpentPico: after[i], ThresholdPercent: th, At: at})
			}
		}
	}()
}

// ledgerText makes the client's text (the model name it sent) fit the
// ledger: clipped, valid UTF-8, no NUL. A record the store refused would
// make its whole batch be retried one by one.
func ledgerText(s string) string {
	s = strings.ToValidUTF8(llm.Clip(s), "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "")
}
