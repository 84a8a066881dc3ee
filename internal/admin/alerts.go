package admin

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/llmgw/llmgw/internal/store"
)

// deliveryView is a webhook delivery as the API shows it: the message
// sent and the outcome of its last attempt.
type deliveryView struct {
	ID        string          `json:"id"`
	TenantID  string          `json:"tenant_id,omitempty"`
	Type      string          `json:"type"`
	Payload   json.RawMessage `json:"payload"`
	State     string          `json:"state"`
	Attempts  int             `json:"attempts"`
	Status    int             `json:"status,omitempty"`
	Error     string          `json:"error,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
	LastAt    *time.Time      `json:"last_attempt_at,omitempty"`
	NextAt    *time.Time      `json:"next_attempt_at,omitempty"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func viewDelivery(d store.Delivery) deliveryView {
	payload := json.RawMessage(d.Payload)
	if !json.Valid(payload) {
		payload, _ = json.Marshal(string(d.Payload))
	}
	return deliveryView{
		ID: d.ID, TenantID: d.TenantID, Type: d.Type, Payload: payload, State: d.State, Attempts: d.Attempts,
		Status: d.Status, Error: d.Error, CreatedAt: d.CreatedAt, LastAt: optTime(d.LastAt), NextAt: optTime(d.NextAt),
	}
}

// listDeliveries serves GET /alerts/deliveries?tenant=: the webhook
// deliveries of alerts, newest first. A tenant's admin sees its own
// tenant's.
func (a *API) listDeliveries(w http.ResponseWriter, r *http.Request, c *caller) {
	q, err := query(r, "tenant")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	opts, err := listOptions(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	f := store.DeliveryFilter{TenantID: c.tenant()}
	if name := q["tenant"]; name != "" {
		t, err := a.b.Store.Tenants().Get(r.Context(), name)
		switch {
		case err == nil && c.sees(t.ID):
			f.TenantID = t.ID
		case errors.Is(err, store.ErrNotFound) && c.global:
			f.TenantID = name // a deleted tenant's deliveries remain
		case err == nil || errors.Is(err, store.ErrNotFound):
			a.fail(w, r, notFound("tenant", name))
			return
		default:
			a.fail(w, r, a.storeError(err, "tenant"))
			return
		}
	}
	page, err := a.b.Store.Alerts().List(r.Context(), f, opts)
	if err != nil {
		a.fail(w, r, a.storeError(err, "delivery"))
		return
	}
	a.writeJSON(w, r, http.StatusOK, listOf(page, viewDelivery))
}
