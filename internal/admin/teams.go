package admin

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/llmgw/llmgw/internal/store"
)

// teamView is a team as the API shows it.
type teamView struct {
	ID       string `json:"id"`
	TenantID string `json:"tenant_id"`
	Name     string `json:"name"`
	// Budget is null when the team has no budget.
	Budget    *budgetView `json:"budget"`
	CreatedAt time.Time   `json:"created_at"`
}

func viewTeam(t store.Team) teamView {
	return teamView{ID: t.ID, TenantID: t.TenantID, Name: t.Name, Budget: viewBudget(t.Budget), CreatedAt: t.CreatedAt}
}

// maxTeamScan bounds how many teams a lookup by name reads.
const maxTeamScan = 100 * store.MaxLimit

// findTeam finds a team of tenantID by ID or, failing that, by name.
func (a *API) findTeam(ctx context.Context, tenantID, idOrName string) (store.Team, error) {
	if !store.Lookup(idOrName) {
		return store.Team{}, notFound("team", idOrName)
	}
	t, err := a.b.Store.Teams().Get(ctx, tenantID, idOrName)
	if err == nil {
		return t, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return t, a.storeError(err, "team")
	}
	opts := store.ListOptions{Limit: store.MaxLimit}
	for read := 0; read < maxTeamScan; read += store.MaxLimit {
		page, err := a.b.Store.Teams().List(ctx, tenantID, opts)
		if err != nil {
			return store.Team{}, a.storeError(err, "team")
		}
		for _, t := range page.Items {
			if t.Name == idOrName {
				return t, nil
			}
		}
		if page.Next == "" {
			break
		}
		opts.Cursor = page.Next
	}
	return store.Team{}, notFound("team", idOrName)
}

// teamOf finds the tenant and team a team route names.
func (a *API) teamOf(r *http.Request, c *caller) (store.Team, error) {
	tn, err := a.tenantOf(r, c, r.PathValue("tenant"))
	if err != nil {
		return store.Team{}, err
	}
	return a.findTeam(r.Context(), tn.ID, r.PathValue("team"))
}

func (a *API) createTeam(w http.ResponseWriter, r *http.Request, c *caller) {
	tn, err := a.tenantOf(r, c, r.PathValue("tenant"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var name *string
	var bud *store.Budget
	err = decodeBody(w, r, false, map[string]field{"name": setNameOf("name", store.TeamPrefix, &name), "budget": setBudget("budget", &bud)})
	if err == nil && name == nil {
		err = missing("name")
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	nt := store.Team{TenantID: tn.ID, Name: *name}
	if bud != nil {
		nt.Budget = *bud
	}
	t, err := a.b.Store.Teams().Create(r.Context(), nt)
	if err != nil {
		a.fail(w, r, a.storeError(err, "team", "a team named "+quote(*name)+" exists already in this tenant"))
		return
	}
	v := viewTeam(t)
	if err := a.record(r, c, "team.create", tn.ID, t.ID, nil, v); err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusCreated, v)
}

func (a *API) listTeams(w http.ResponseWriter, r *http.Request, c *caller) {
	tn, err := a.tenantOf(r, c, r.PathValue("tenant"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if _, err := query(r); err != nil {
		a.fail(w, r, err)
		return
	}
	opts, err := listOptions(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	page, err := a.b.Store.Teams().List(r.Context(), tn.ID, opts)
	if err != nil {
		a.fail(w, r, a.storeError(err, "team"))
		return
	}
	out := listOf(page, viewTeam)
	for i := range out.Data {
		a.spend(r.Context(), out.Data[i].Budget, "team:"+page.Items[i].ID, page.Items[i].Budget)
	}
	a.writeJSON(w, r, http.StatusOK, out)
}

func (a *API) getTeam(w http.ResponseWriter, r *http.Request, c *caller) {
	t, err := a.teamOf(r, c)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	v := viewTeam(t)
	a.spend(r.Context(), v.Budget, "team:"+t.ID, t.Budget)
	a.writeJSON(w, r, http.StatusOK, v)
}

func (a *API) patchTeam(w http.ResponseWriter, r *http.Request, c *caller) {
	t, err := a.teamOf(r, c)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var p store.TeamPatch
	err = decodeBody(w, r, false, map[string]field{"name": setNameOf("name", store.TeamPrefix, &p.Name), "budget": setBudget("budget", &p.Budget)})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	before := viewTeam(t)
	conflict := "team conflicts with the stored state"
	if p.Name != nil {
		conflict = "a team named " + quote(*p.Name) + " exists already in this tenant"
	}
	t, err = a.b.Store.Teams().Update(r.Context(), t.TenantID, t.ID, p)
	if err != nil {
		a.fail(w, r, a.storeError(err, "team", conflict))
		return
	}
	v := viewTeam(t)
	if err := a.record(r, c, "team.update", t.TenantID, t.ID, before, v); err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, v)
}

func (a *API) deleteTeam(w http.ResponseWriter, r *http.Request, c *caller) {
	t, err := a.teamOf(r, c)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.b.Store.Teams().Delete(r.Context(), t.TenantID, t.ID); err != nil {
		a.fail(w, r, a.storeError(err, "team", "the team still has keys: revoke and move them first"))
		return
	}
	if err := a.record(r, c, "team.delete", t.TenantID, t.ID, viewTeam(t), nil); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
