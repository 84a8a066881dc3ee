package admin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/llmgw/llmgw/internal/audit"
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/store"
)

// Auditor is the audit log the API appends to and reads.
type Auditor interface {
	// Record appends one action.
	Record(ctx context.Context, e audit.Event) error
	List(ctx context.Context, f store.AuditFilter, opts store.ListOptions) (store.Page[store.AuditRecord], error)
	// Verify walks the chain and reports the first broken link.
	Verify(ctx context.Context) (audit.Result, error)
	// AuthFailure counts a failed authentication, recorded aggregated.
	AuthFailure(source, keyPrefix string)
}

// Auditor is implemented by *audit.Log.
var _ Auditor = (*audit.Log)(nil)

// record appends the action of c on r to the audit log, after bringing
// the key resolver up to date with it. The change is made already; a failure to record it is logged and answered as the
// store being unavailable, so that the caller knows to check.
func (a *API) record(r *http.Request, c *caller, action, tenantID, target string, before, after any) error {
	a.synced(r.Context())
	if a.b.Audit == nil {
		return nil
	}
	e := audit.Event{
		Actor: c.actor, Action: action, TenantID: tenantID, Target: target,
		Source: source(r), RequestID: requestID(r), Before: before, After: after,
	}
	// The change is made: recording it must not depend on the client
	// staying.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
	defer cancel()
	if err := a.b.Audit.Record(ctx, e); err != nil {
		a.b.Logger.Error("admin: the audit log could not record an action", "action", action, "target", target, "err", err)
		return llm.Wrap(llm.KindUnavailable, err, "the change was made but the audit log could not record it: the store is unavailable")
	}
	return nil
}

// requestID is the x-request-id the server gave the request's answer.
func requestID(r *http.Request) string {
	if w, ok := r.Context().Value(responseKey{}).(http.ResponseWriter); ok {
		if id := w.Header().Get("X-Request-Id"); id != "" {
			return id
		}
	}
	return r.Header.Get("X-Request-Id")
}

// responseKey is the context key of the request's ResponseWriter, whose
// headers carry the request ID.
type responseKey struct{}

// auditView is an audit record as the API shows it.
type auditView struct {
	Seq       int64           `json:"seq"`
	At        time.Time       `json:"at"`
	Actor     string          `json:"actor"`
	Action    string          `json:"action"`
	TenantID  string          `json:"tenant_id,omitempty"`
	Target    string          `json:"target,omitempty"`
	Source    string          `json:"source,omitempty"`
	RequestID string          `json:"request_id,omitempty"`
	Before    json.RawMessage `json:"before,omitempty"`
	After     json.RawMessage `json:"after,omitempty"`
	Count     int64           `json:"count"`
}

func viewAudit(rec store.AuditRecord) auditView {
	return auditView{
		Seq: rec.Seq, At: rec.At, Actor: rec.Actor, Action: rec.Action, TenantID: rec.TenantID,
		Target: rec.Target, Source: rec.Source, RequestID: rec.RequestID,
		Before: rec.Before, After: rec.After, Count: rec.Count,
	}
}

// listAudit serves GET /audit?tenant=&actor=&action=&from=&to=. A
// tenant's admin sees its own tenant's records only.
func (a *API) listAudit(w http.ResponseWriter, r *http.Request, c *caller) {
	q, err := query(r, "tenant", "actor", "action", "from", "to")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	opts, err := listOptions(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var f store.AuditFilter
	f.Actor, f.Action = q["actor"], q["action"]
	if f.From, err = queryTime(q, "from"); err != nil {
		a.fail(w, r, err)
		return
	}
	if f.To, err = queryTime(q, "to"); err != nil {
		a.fail(w, r, err)
		return
	}
	f.TenantID = c.tenant()
	if name := q["tenant"]; name != "" {
		t, err := a.b.Store.Tenants().Get(r.Context(), name)
		switch {
		case err == nil && c.sees(t.ID):
			f.TenantID = t.ID
		case errors.Is(err, store.ErrNotFound) && c.global:
			f.TenantID = name // a deleted tenant's records remain
		case err == nil || errors.Is(err, store.ErrNotFound):
			a.fail(w, r, notFound("tenant", name))
			return
		default:
			a.fail(w, r, a.storeError(err, "tenant"))
			return
		}
	}
	page, err := a.b.Audit.List(r.Context(), f, opts)
	if err != nil {
		a.fail(w, r, a.storeError(err, "audit record"))
		return
	}
	a.writeJSON(w, r, http.StatusOK, listOf(page, viewAudit))
}

// verifyView is the answer of GET /audit/verify.
type verifyView struct {
	OK       bool   `json:"ok"`
	Records  int64  `json:"records"`
	BrokenAt int64  `json:"broken_at,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

func (a *API) verifyAudit(w http.ResponseWriter, r *http.Request, _ *caller) {
	res, err := a.b.Audit.Verify(r.Context())
	if err != nil {
		a.fail(w, r, a.storeError(err, "audit log"))
		return
	}
	a.writeJSON(w, r, http.StatusOK, verifyView{OK: res.OK, Records: res.Records, BrokenAt: res.BrokenAt, Reason: res.Reason})
}
