package admin

import (
	"net/http"
	"strings"
)

// Route is one route of the admin API: a method and a net/http pattern.
type Route struct {
	Method, Pattern string
	// Global routes are for global admins only: a tenant's admin key gets
	// 403 there. The others serve tenant admin keys too, within their
	// tenant.
	Global bool
}

// Write reports whether the route changes anything: read-only
// credentials may not call it.
func (rt Route) Write() bool { return rt.Method != http.MethodGet }

// route is a Route with its handler.
type route struct {
	Route
	handle func(w http.ResponseWriter, r *http.Request, c *caller)
}

// Prefix begins every admin route.
const Prefix = "/admin/v1"

// routes lists every route of the API, the one table the mux, the server
// and the tests are built from.
func (a *API) routes() []route {
	g, t := true, false
	return []route{
		{Route{"GET", Prefix + "/targets", g}, a.handleTargets},
		{Route{"POST", Prefix + "/targets/reset", g}, a.handleReset},
		{Route{"POST", Prefix + "/tenants", g}, a.createTenant},
		{Route{"GET", Prefix + "/tenants", g}, a.listTenants},
		{Route{"GET", Prefix + "/tenants/{tenant}", t}, a.getTenant},
		{Route{"PATCH", Prefix + "/tenants/{tenant}", t}, a.patchTenant},
		{Route{"DELETE", Prefix + "/tenants/{tenant}", g}, a.deleteTenant},
		{Route{"POST", Prefix + "/tenants/{tenant}/teams", t}, a.createTeam},
		{Route{"GET", Prefix + "/tenants/{tenant}/teams", t}, a.listTeams},
		{Route{"GET", Prefix + "/tenants/{tenant}/teams/{team}", t}, a.getTeam},
		{Route{"PATCH", Prefix + "/tenants/{tenant}/teams/{team}", t}, a.patchTeam},
		{Route{"DELETE", Prefix + "/tenants/{tenant}/teams/{team}", t}, a.deleteTeam},
		{Route{"POST", Prefix + "/keys", t}, a.createKey},
		{Route{"GET", Prefix + "/keys", t}, a.listKeys},
		{Route{"GET", Prefix + "/keys/{key}", t}, a.getKey},
		{Route{"PATCH", Prefix + "/keys/{key}", t}, a.patchKey},
		{Route{"POST", Prefix + "/keys/{key}/rotate", t}, a.rotateKey},
		{Route{"POST", Prefix + "/keys/{key}/revoke", t}, a.revokeKey},
		{Route{"GET", Prefix + "/audit", t}, a.listAudit},
		{Route{"GET", Prefix + "/audit/verify", g}, a.verifyAudit},
		{Route{"GET", Prefix + "/usage", t}, a.getUsage},
		{Route{"GET", Prefix + "/alerts/deliveries", t}, a.listDeliveries},
		{Route{"GET", Prefix + "/config", g}, a.handleConfig},
		{Route{"POST", Prefix + "/config/reload", g}, a.handleReload},
	}
}

// Routes lists every route of the admin API, for the server to mount and
// for tests to walk.
func Routes() []Route {
	rs := (&API{}).routes()
	out := make([]Route, len(rs))
	for i, rt := range rs {
		out[i] = rt.Route
	}
	return out
}

// guard authenticates the caller and checks its role against the route
// before the handler runs.
func (a *API) guard(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := a.authenticate(r)
		if err == nil {
			err = c.may(rt.Route)
		}
		if err == nil && a.b.Store == nil && !strings.HasPrefix(rt.Pattern, Prefix+"/targets") && !strings.HasPrefix(rt.Pattern, Prefix+"/config") {
			err = errNoStore
		}
		if err != nil {
			cutBody(w, r)
			a.fail(w, r, err)
			return
		}
		rt.handle(w, r, c)
	})
}

// cutBody ends the connection after the answer to a refused request
// whose body was not read, rather than reading it to reuse the
// connection.
func cutBody(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength != 0 {
		w.Header().Set("Connection", "close")
	}
}
