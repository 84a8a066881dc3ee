package admin

import (
	"errors"
	"net/http"
	"time"

	"github.com/llmgw/llmgw/internal/store"
)

// tenantView is a tenant as the API shows it.
type tenantView struct {
	ID     string            `json:"id"`
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels"`
	// Limits is null when the tenant has no rate limit.
	Limits *limitsView `json:"limits"`
	// Budget is null when the tenant has no budget.
	Budget    *budgetView `json:"budget"`
	CreatedAt time.Time   `json:"created_at"`
}

func viewTenant(t store.Tenant) tenantView {
	labels := t.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	return tenantView{ID: t.ID, Name: t.Name, Labels: labels, Limits: viewLimits(t.Limits), Budget: viewBudget(t.Budget), CreatedAt: t.CreatedAt}
}

// limitsView is a key's or tenant's rate limits as the API shows them:
// only the limited dimensions.
type limitsView struct {
	RPM        int64 `json:"rpm,omitempty"`
	TPM        int64 `json:"tpm,omitempty"`
	Concurrent int64 `json:"concurrent,omitempty"`
}

// viewLimits is nil for no limit at all.
func viewLimits(l store.Limits) *limitsView {
	if l.IsZero() {
		return nil
	}
	return &limitsView{RPM: l.RPM, TPM: l.TPM, Concurrent: l.Concurrent}
}

// tenantOf finds the tenant {tenant} of r names (ID or name) among those
// c may see: another tenant's is not found, as a missing one is.
func (a *API) tenantOf(r *http.Request, c *caller, idOrName string) (store.Tenant, error) {
	if !store.Lookup(idOrName) {
		return store.Tenant{}, notFound("tenant", idOrName)
	}
	t, err := a.b.Store.Tenants().Get(r.Context(), idOrName)
	if errors.Is(err, store.ErrNotFound) || err == nil && !c.sees(t.ID) {
		return store.Tenant{}, notFound("tenant", idOrName)
	}
	if err != nil {
		return store.Tenant{}, a.storeError(err, "tenant")
	}
	return t, nil
}

func (a *API) createTenant(w http.ResponseWriter, r *http.Request, c *caller) {
	var name *string
	var labels *map[string]string
	var limits *store.Limits
	var bud *store.Budget
	err := decodeBody(w, r, false, map[string]field{
		"name":   setNameOf("name", store.TenantPrefix, &name),
		"labels": setLabels("labels", &labels),
		"limits": setLimits("limits", &limits),
		"budget": setBudget("budget", &bud),
	})
	if err == nil && name == nil {
		err = missing("name")
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	t := store.Tenant{Name: *name}
	if labels != nil {
		t.Labels = *labels
	}
	if limits != nil {
		t.Limits = *limits
	}
	if bud != nil {
		t.Budget = *bud
	}
	t, err = a.b.Store.Tenants().Create(r.Context(), t)
	if err != nil {
		a.fail(w, r, a.storeError(err, "tenant", "a tenant named "+quote(*name)+" exists already"))
		return
	}
	v := viewTenant(t)
	if err := a.record(r, c, "tenant.create", t.ID, t.ID, nil, v); err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusCreated, v)
}

func (a *API) listTenants(w http.ResponseWriter, r *http.Request, _ *caller) {
	if _, err := query(r); err != nil {
		a.fail(w, r, err)
		return
	}
	opts, err := listOptions(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	page, err := a.b.Store.Tenants().List(r.Context(), opts)
	if err != nil {
		a.fail(w, r, a.storeError(err, "tenant"))
		return
	}
	out := listOf(page, viewTenant)
	for i := range out.Data {
		a.spend(r.Context(), out.Data[i].Budget, "tenant:"+page.Items[i].ID, page.Items[i].Budget)
	}
	a.writeJSON(w, r, http.StatusOK, out)
}

func (a *API) getTenant(w http.ResponseWriter, r *http.Request, c *caller) {
	t, err := a.tenantOf(r, c, r.PathValue("tenant"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	v := viewTenant(t)
	a.spend(r.Context(), v.Budget, "tenant:"+t.ID, t.Budget)
	a.writeJSON(w, r, http.StatusOK, v)
}

func (a *API) patchTenant(w http.ResponseWriter, r *http.Request, c *caller) {
	t, err := a.tenantOf(r, c, r.PathValue("tenant"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var p store.TenantPatch
	if err := decodeBody(w, r, false, map[string]field{
		"name":   setNameOf("name", store.TenantPrefix, &p.Name),
		"labels": setLabels("labels", &p.Labels),
		"limits": setLimits("limits", &p.Limits),
		"budget": setBudget("budget", &p.Budget),
	}); err != nil {
		a.fail(w, r, err)
		return
	}
	// A tenant's limits bound what its admins may do: they are not theirs
	// to change.
	if p.Limits != nil && !c.global {
		a.fail(w, r, forbidden("limits", "only a global admin may change a tenant's limits"))
		return
	}
	if p.Budget != nil && !c.global {
		a.fail(w, r, forbidden("budget", "only a global admin may change a tenant's budget"))
		return
	}
	before := viewTenant(t)
	conflict := "tenant conflicts with the stored state"
	if p.Name != nil {
		conflict = "a tenant named " + quote(*p.Name) + " exists already"
	}
	t, err = a.b.Store.Tenants().Update(r.Context(), t.ID, p)
	if err != nil {
		a.fail(w, r, a.storeError(err, "tenant", conflict))
		return
	}
	v := viewTenant(t)
	if err := a.record(r, c, "tenant.update", t.ID, t.ID, before, v); err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, v)
}

func (a *API) deleteTenant(w http.ResponseWriter, r *http.Request, c *caller) {
	t, err := a.tenantOf(r, c, r.PathValue("tenant"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.b.Store.Tenants().Delete(r.Context(), t.ID); err != nil {
		a.fail(w, r, a.storeError(err, "tenant", "the tenant still has teams or keys: delete or move them first"))
		return
	}
	if err := a.record(r, c, "tenant.delete", t.ID, t.ID, viewTenant(t), nil); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
