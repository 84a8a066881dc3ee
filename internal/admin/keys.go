package admin

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/llmgw/llmgw/internal/auth"
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
	"github.com/llmgw/llmgw/internal/store"
)

// Rotation grace: how long a rotated-out secret keeps working when the
// request names none, and the longest it may.
const (
	DefaultGrace = 24 * time.Hour
	MaxGrace     = 30 * 24 * time.Hour
)

// keyView is a key as the API shows it: never its hash or secret.
type keyView struct {
	ID       string `json:"id"`
	TenantID string `json:"tenant_id"`
	TeamID   string `json:"team_id,omitempty"`
	Name     string `json:"name"`
	// Prefix is the secret's first characters, to tell keys apart.
	Prefix string `json:"prefix"`
	// Models is null when the key may use every model.
	Models    []string          `json:"models"`
	ExpiresAt *time.Time        `json:"expires_at,omitempty"`
	Labels    map[string]string `json:"labels"`
	Role      string            `json:"role,omitempty"`
	// Limits is null when the key has no rate limit of its own.
	Limits *limitsView `json:"limits"`
	// Budget is null when the key has no budget of its own.
	Budget *budgetView `json:"budget"`
	// MaxCostUSD is null when the key has no cost cap.
	MaxCostUSD *json.Number `json:"max_cost_usd"`
	Status     string       `json:"status"`
	CreatedAt  time.Time    `json:"created_at"`
	LastUsedAt *time.Time   `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time   `json:"revoked_at,omitempty"`
	// PreviousValidUntil is when the secret replaced by the last rotation
	// stops working, while it still does.
	PreviousValidUntil *time.Time `json:"previous_valid_until,omitempty"`
}

// keySecret is a key with its secret, answered once, on creation or
// rotation.
type keySecret struct {
	keyView
	Key string `json:"key"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (a *API) viewKey(k store.Key) keyView {
	now := a.b.Now()
	status := "active"
	switch {
	case !k.RevokedAt.IsZero():
		status = "revoked"
	case !k.Usable(now):
		status = "expired"
	}
	labels := k.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	v := keyView{
		ID: k.ID, TenantID: k.TenantID, TeamID: k.TeamID, Name: k.Name, Prefix: k.Prefix, Models: k.Models,
		ExpiresAt: timePtr(k.ExpiresAt), Labels: labels, Role: string(k.Role), Limits: viewLimits(k.Limits), Budget: viewBudget(k.Budget),
		MaxCostUSD: viewMaxCost(k.MaxCostPico), Status: status, CreatedAt: k.CreatedAt,
		LastUsedAt: timePtr(k.LastUsedAt), RevokedAt: timePtr(k.RevokedAt),
	}
	if len(k.PrevHash) > 0 && now.Before(k.PrevValidUntil) {
		v.PreviousValidUntil = timePtr(k.PrevValidUntil)
	}
	return v
}

// keyFields are the fields a key's body may set, for POST and PATCH.
type keyFields struct {
	tenant, name, team *string
	models             *[]string
	expires            *time.Time
	labels             *map[string]string
	role               *store.Role
	limits             *store.Limits
	budget             *store.Budget
	maxCost            *int64
}

func (f *keyFields) decoders(create bool) map[string]field {
	m := map[string]field{
		"name":         setName("name", &f.name),
		"team":         setTeam(&f.team),
		"models":       setModels("models", &f.models),
		"expires_at":   setTime("expires_at", &f.expires),
		"labels":       setLabels("labels", &f.labels),
		"role":         setRole("role", &f.role),
		"limits":       setLimits("limits", &f.limits),
		"budget":       setBudget("budget", &f.budget),
		"max_cost_usd": setMaxCost("max_cost_usd", &f.maxCost),
	}
	if create {
		m["tenant"] = setString("tenant", &f.tenant)
	}
	return m
}

// setTeam decodes "team": an ID or name, or null for no team.
func setTeam(dst **string) field {
	return func(raw json.RawMessage) error {
		s := ""
		if !jsonwire.IsNull(raw) {
			var ok bool
			if s, ok = jsonwire.Unquote(raw); !ok {
				return jsonwire.TypeError("team", "a string", raw)
			}
			if s == "" {
				return jsonwire.InvalidValue("team", "must not be empty; send null for no team")
			}
		}
		*dst = &s
		return nil
	}
}

// forbidden is the 403 of a caller asking beyond its rights, naming the
// field.
func forbidden(param, format string, args ...any) error {
	e := llm.NewError(llm.KindForbidden, format, args...).(*llm.Error)
	e.Param = param
	return e
}

// grants reports whether a key may be given k's rights by c: anything for
// a global admin; for a tenant admin, models among its own, an expiry no
// later than its own, and a role no higher.
func (c *caller) grants(k *store.Key) error {
	if c.global {
		return nil
	}
	own := &c.key
	if own.Models != nil {
		if k.Models == nil {
			return forbidden("models", "a key you create or change may use only models your own key may use: list them")
		}
		for _, m := range k.Models {
			if !allowedBy(own.Models, m) {
				return forbidden("models", "your own key may not use %s, so no key you create or change may", quote(m))
			}
		}
	}
	if !own.ExpiresAt.IsZero() && (k.ExpiresAt.IsZero() || k.ExpiresAt.After(own.ExpiresAt)) {
		return forbidden("expires_at", "a key you create or change must expire no later than your own (%s)", own.ExpiresAt.Format(time.RFC3339))
	}
	if k.Role == store.RoleTenantAdmin && own.Role != store.RoleTenantAdmin {
		return forbidden("role", "a key you create or change may not have a role above your own")
	}
	if err := withinLimits(own.Limits, k.Limits); err != nil {
		return err
	}
	return withinCostCap(own.MaxCostPico, k.MaxCostPico)
}

// withinLimits refuses limits wider than own: where own limits a
// dimension, the key must be limited too, no higher.
func withinLimits(own, k store.Limits) error {
	for _, d := range []struct {
		name    string
		own, at int64
	}{{"rpm", own.RPM, k.RPM}, {"tpm", own.TPM, k.TPM}, {"concurrent", own.Concurrent, k.Concurrent}} {
		if d.own > 0 && (d.at == 0 || d.at > d.own) {
			return forbidden("limits."+d.name, "a key you create or change must have limits.%s set, at most your own key's %d", d.name, d.own)
		}
	}
	return nil
}

// allowedBy reports whether the allow-list parent admits m, itself a name
// or a "prefix/*" pattern: listed as it is, or under one of parent's
// patterns.
func allowedBy(parent []string, m string) bool {
	for _, p := range parent {
		if p == m {
			return true
		}
		if n := len(p); n >= 2 && p[n-2:] == "/*" {
			prefix := p[:n-1]
			if len(m) > len(prefix) && m[:len(prefix)] == prefix {
				return true
			}
		}
	}
	return false
}

// keyOf finds the key {key} of r names among those c may see.
func (a *API) keyOf(r *http.Request, c *caller) (store.Key, error) {
	id := r.PathValue("key")
	if !store.Lookup(id) {
		return store.Key{}, notFound("key", id)
	}
	k, err := a.b.Store.Keys().Get(r.Context(), id)
	if err != nil {
		if isNotFound(err) {
			return store.Key{}, notFound("key", id)
		}
		return store.Key{}, a.storeError(err, "key")
	}
	if !c.sees(k.TenantID) {
		return store.Key{}, notFound("key", id)
	}
	return k, nil
}

// apply sets the fields given on k, resolving the team in k's tenant.
func (a *API) apply(r *http.Request, f *keyFields, k *store.Key) error {
	if f.name != nil {
		k.Name = *f.name
	}
	if f.team != nil {
		k.TeamID = ""
		if *f.team != "" {
			t, err := a.findTeam(r.Context(), k.TenantID, *f.team)
			if err != nil {
				if llm.AsError(err).Kind == llm.KindMissing {
					return llm.InvalidRequest("team", "no team %s in tenant %s", quote(*f.team), k.TenantID)
				}
				return err
			}
			k.TeamID = t.ID
		}
	}
	if f.models != nil {
		k.Models = *f.models
	}
	if f.expires != nil {
		if !f.expires.IsZero() && !f.expires.After(a.b.Now()) {
			return jsonwire.InvalidValue("expires_at", "%s is not in the future", f.expires.Format(time.RFC3339))
		}
		k.ExpiresAt = *f.expires
	}
	if f.labels != nil {
		k.Labels = *f.labels
	}
	if f.role != nil {
		k.Role = *f.role
	}
	if f.limits != nil {
		k.Limits = *f.limits
	}
	if f.budget != nil {
		k.Budget = *f.budget
	}
	if f.maxCost != nil {
		k.MaxCostPico = *f.maxCost
	}
	return nil
}

func (a *API) createKey(w http.ResponseWriter, r *http.Request, c *caller) {
	var f keyFields
	err := decodeBody(w, r, false, f.decoders(true))
	switch {
	case err != nil:
	case f.name == nil:
		err = missing("name")
	case f.tenant == nil && c.global:
		err = missing("tenant")
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	tenant := c.tenant()
	if f.tenant != nil {
		tenant = *f.tenant
	}
	tn, err := a.tenantOf(r, c, tenant)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	k := store.Key{TenantID: tn.ID}
	if err := a.apply(r, &f, &k); err != nil {
		a.fail(w, r, err)
		return
	}
	if err := c.grants(&k); err != nil {
		a.fail(w, r, err)
		return
	}
	secret, prefix := auth.NewKeySecret()
	sum := a.b.Hasher.Sum(secret)
	k.Hash, k.Prefix = sum[:], prefix
	k, err = a.b.Store.Keys().Create(r.Context(), k)
	if err != nil {
		a.fail(w, r, a.storeError(err, "key", "a key named "+quote(*f.name)+" exists already in this tenant"))
		return
	}
	v := a.viewKey(k)
	if err := a.record(r, c, "key.create", k.TenantID, k.ID, nil, v); err != nil {
		// A key nobody has the secret of, and whose creation is not on
		// record, must not stay usable.
		if _, rerr := a.b.Store.Keys().Revoke(r.Context(), k.ID); rerr != nil {
			a.b.Logger.Error("admin: could not revoke an unrecorded key", "key", k.ID, "err", rerr)
		}
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusCreated, keySecret{keyView: v, Key: secret})
}

func (a *API) listKeys(w http.ResponseWriter, r *http.Request, c *caller) {
	q, err := query(r, "tenant", "team")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	opts, err := listOptions(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	f := store.KeyFilter{TenantID: c.tenant()}
	if name := q["tenant"]; name != "" {
		tn, err := a.tenantOf(r, c, name)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		f.TenantID = tn.ID
	}
	if name := q["team"]; name != "" {
		if f.TenantID == "" {
			a.fail(w, r, llm.InvalidRequest("team", "filtering by team needs the tenant too: ?tenant=...&team=..."))
			return
		}
		t, err := a.findTeam(r.Context(), f.TenantID, name)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		f.TeamID = t.ID
	}
	page, err := a.b.Store.Keys().List(r.Context(), f, opts)
	if err != nil {
		a.fail(w, r, a.storeError(err, "key"))
		return
	}
	out := listOf(page, a.viewKey)
	for i := range out.Data {
		a.spend(r.Context(), out.Data[i].Budget, "key:"+page.Items[i].ID, page.Items[i].Budget)
	}
	a.writeJSON(w, r, http.StatusOK, out)
}

func (a *API) getKey(w http.ResponseWriter, r *http.Request, c *caller) {
	k, err := a.keyOf(r, c)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	v := a.viewKey(k)
	a.spend(r.Context(), v.Budget, "key:"+k.ID, k.Budget)
	a.writeJSON(w, r, http.StatusOK, v)
}

func (a *API) patchKey(w http.ResponseWriter, r *http.Request, c *caller) {
	k, err := a.keyOf(r, c)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var f keyFields
	if err := decodeBody(w, r, false, f.decoders(false)); err != nil {
		a.fail(w, r, err)
		return
	}
	after := k
	if err := a.apply(r, &f, &after); err != nil {
		a.fail(w, r, err)
		return
	}
	if err := c.grants(&after); err != nil {
		a.fail(w, r, err)
		return
	}
	p := store.KeyPatch{Name: f.name, Models: f.models, Labels: f.labels, Role: f.role, Limits: f.limits, Budget: f.budget, MaxCostPico: f.maxCost}
	if f.team != nil {
		p.TeamID = &after.TeamID
	}
	if f.expires != nil {
		p.ExpiresAt = &after.ExpiresAt
	}
	conflict := "key conflicts with the stored state"
	if f.name != nil {
		conflict = "a key named " + quote(*f.name) + " exists already in this tenant"
	}
	updated, err := a.b.Store.Keys().Update(r.Context(), k.ID, p)
	if err != nil {
		a.fail(w, r, a.storeError(err, "key", conflict))
		return
	}
	v := a.viewKey(updated)
	if err := a.record(r, c, "key.update", k.TenantID, k.ID, a.viewKey(k), v); err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, v)
}

// setGrace decodes a rotation's grace: a Go duration from 0 to MaxGrace.
func setGrace(dst *time.Duration) field {
	return func(raw json.RawMessage) error {
		s, ok := jsonwire.Unquote(raw)
		if !ok {
			return jsonwire.TypeError("grace", "a string (a duration such as \"1h\")", raw)
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return jsonwire.InvalidValue("grace", "want a duration such as \"1h\" or \"30m\"; got %q", s)
		}
		if d < 0 || d > MaxGrace {
			return jsonwire.InvalidValue("grace", "must be from 0s to %s", MaxGrace)
		}
		*dst = d
		return nil
	}
}

// rotateKey serves POST /keys/{key}/rotate {"grace": "1h"}: a new secret,
// answered once; the old one keeps working for the grace (DefaultGrace
// when none is given, "0s" to end it at once).
func (a *API) rotateKey(w http.ResponseWriter, r *http.Request, c *caller) {
	k, err := a.keyOf(r, c)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	grace := DefaultGrace
	if err := decodeBody(w, r, true, map[string]field{"grace": setGrace(&grace)}); err != nil {
		a.fail(w, r, err)
		return
	}
	// A tenant admin could otherwise learn the secret of a key wider
	// than its own.
	if err := c.grants(&k); err != nil {
		a.fail(w, r, forbidden("", "you may not rotate a key with more rights than your own"))
		return
	}
	secret, prefix := auth.NewKeySecret()
	sum := a.b.Hasher.Sum(secret)
	rotated, err := a.b.Store.Keys().Rotate(r.Context(), k.ID, store.Rotation{
		Hash: sum[:], Prefix: prefix, PrevValidUntil: a.now().Add(grace),
	})
	if err != nil {
		a.fail(w, r, a.storeError(err, "key", "the key is revoked: create a new one"))
		return
	}
	v := a.viewKey(rotated)
	if err := a.record(r, c, "key.rotate", k.TenantID, k.ID, a.viewKey(k), v); err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, keySecret{keyView: v, Key: secret})
}

// revokeKey serves POST /keys/{key}/revoke: the key, and a rotated-out
// secret still in its grace, stop working at once.
func (a *API) revokeKey(w http.ResponseWriter, r *http.Request, c *caller) {
	k, err := a.keyOf(r, c)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if err := decodeBody(w, r, true, nil); err != nil {
		a.fail(w, r, err)
		return
	}
	revoked, err := a.b.Store.Keys().Revoke(r.Context(), k.ID)
	if err != nil {
		a.fail(w, r, a.storeError(err, "key"))
		return
	}
	v := a.viewKey(revoked)
	if err := a.record(r, c, "key.revoke", k.TenantID, k.ID, a.viewKey(k), v); err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, v)
}
