package gateway

import (
	"fmt"
	"net/http"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/observe/tracing"
	"github.com/llmgw/llmgw/internal/provider"
	"github.com/llmgw/llmgw/internal/router"
)

// routerRoutes converts the routes of models[i], appending to errs a
// problem for each target whose provider is not available (one that
// failed to build is reported with the provider).
func routerRoutes(m *config.Model, i int, providers map[string]provider.Provider, identities map[string]string, failed map[string]bool,
	cfg *config.Config, errs []error) ([]router.Route, []error) {
	var out []router.Route
	for k, r := range m.Routes {
		rr := router.Route{Name: r.Name, Match: router.Match{KeyLabels: r.Match.KeyLabels, Tenants: r.Match.Tenants}}
		if h := r.Match.Header; h != nil {
			rr.Match.Header, rr.Match.HeaderValue = http.CanonicalHeaderKey(h.Name), h.Value
		}
		if r.Percent != nil {
			rr.Percent = *r.Percent
		}
		for j, t := range r.Targets {
			p, ok := providers[t.Provider]
			if !ok {
				if !failed[t.Provider] {
					errs = append(errs, fmt.Errorf("models[%d].routes[%d].targets[%d].provider: provider %q is not available", i, k, j, t.Provider))
				}
				continue
			}
			rr.Targets = append(rr.Targets, router.Target{Provider: p, Identity: identities[t.Provider], Model: t.Model, Weight: t.Weight,
				Timeouts: routerTimeouts(t.Timeouts), Limits: limitOf(t.Limits), System: tracing.ProviderName(providerType(cfg, t.Provider))})
		}
		out = append(out, rr)
	}
	return out, errs
}

// routesCountTokens reports whether a target of one of m's routes has a
// tokens-per-minute limit, for which calls must count their tokens.
func routesCountTokens(m *config.Model) bool {
	for _, r := range m.Routes {
		for _, t := range r.Targets {
			if t.Limits != nil && t.Limits.TPM > 0 {
				return true
			}
		}
	}
	return false
}
