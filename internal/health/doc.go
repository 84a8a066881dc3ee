// Package health computes the replica's readiness and runs the active
// checks of its providers.
//
// # Readiness
//
// Readiness (ready.go) builds /readyz's report (docs/health.md) from
// what the server knows at no cost (draining or not, the configuration in
// force, the router's breakers) and from its dependencies, which it asks:
// the store, and Redis when one is configured. The probes run in parallel
// within Options.Timeout (1s); a probe that does not answer in time is a
// timeout, and the report does not wait for it. Their answers are kept for
// Options.TTL (1s), shared by every caller meanwhile, so that a storm of
// probes asks the store at most once a second. Draining is read at each
// call: a replica stops being ready the moment it starts to drain.
//
// The replica is unavailable (503) only when it cannot serve: it drains,
// a required dependency does not answer, or not one model has a target
// that can take a request. Anything less is degraded (200). A dependency
// is required when the gateway refuses requests without it: the store
// always (see docs/health.md for why), Redis when redis.on_failure is
// closed. The report names no host, user or password: a failed probe is
// "timeout" or "error", its cause logged.
//
// # Active checks
//
// A Checker (checker.go) sends each provider configured with
// providers[].health_check its cheap check request (provider.Checker: the
// model list where the API has one) every interval, bounded by the
// timeout. Each result goes to the router in force
// (router.Router.ObserveCheck, which decides what it does to the
// breakers), to the llmgw_provider_up and
// llmgw_provider_check_duration_seconds metrics, and to /readyz's
// "providers" section.
//
// # Lifetimes
//
// The Checker is process state: main creates it once, it reads the
// probes of the configuration in force at each round (at most every
// CheckerOptions.Rescan, 5s, so that a new configuration's checks start
// soon and a removed provider's stop, its series deleted), and Close stops
// its loop and cancels the checks under way, after the drain. Its results
// outlive snapshots; the breakers they feed are the router's. The
// Readiness belongs to the server and lives as long as it.
package health
