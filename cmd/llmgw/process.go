package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/llmgw/llmgw/internal/admin"
	"github.com/llmgw/llmgw/internal/auth"
	"github.com/llmgw/llmgw/internal/catalog"
	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/health"
	"github.com/llmgw/llmgw/internal/ledger"
	"github.com/llmgw/llmgw/internal/observe"
	"github.com/llmgw/llmgw/internal/reload"
	"github.com/llmgw/llmgw/internal/router"
	"github.com/llmgw/llmgw/internal/secret"
	"github.com/llmgw/llmgw/internal/server"
)

// process is what `llmgw serve` runs: the process's state, the snapshot
// compiled over it and the server, with what closes them, in order.
type process struct {
	metrics *observe.Registry
	snap    *gateway.Snapshot
	server  *server.Server
	// reloader compiles the configuration again on the same process
	// state and swaps the snapshot in (docs/operations.md).
	reloader *reload.Reloader
	// checker runs the active checks of providers once started (after
	// the server serves the first snapshot).
	checker *health.Checker
	// closers run last first (close), as defers would.
	closers []func()
}

// onClose adds f to what close runs, before everything added earlier.
func (p *process) onClose(f func()) { p.closers = append(p.closers, f) }

// close closes what openProcess opened, last opened first; serve calls it
// after the server has drained.
func (p *process) close() {
	for i := len(p.closers) - 1; i >= 0; i-- {
		p.closers[i]()
	}
	p.closers = nil
}

// startError is a failure to open a part of the process: msg says which,
// for the log.
type startError struct {
	msg string
	err error
}

func (e startError) Error() string { return e.msg + ": " + e.err.Error() }
func (e startError) Unwrap() error { return e.err }

// openProcess opens the process's state for cfg, compiles its snapshot and
// creates the server, without listening. On error, what was opened is
// closed; an error of the configuration's compilation is returned as it
// is (its problems joined), any other as a startError.
//
// path and listen are serve's --config and --listen, which a reload
// (p.reloader) reads and applies again. reg is the process's registry and
// srv its server, started by NewStarting, which the caller starts with
// p.snap; with nil, openProcess makes its own (New, serving p.snap).
// secrets, when not nil, resolved cfg's secret references: its fetches go
// to the audit log, and it fetches them again until close, reloading on a
// change.
func openProcess(cfg *config.Config, log *slog.Logger, path, listen string, reg *observe.Registry, srv *server.Server, secrets *secret.Resolver) (_ *process, err error) {
	p := &process{}
	defer func() {
		if err != nil {
			p.close()
		}
	}()
	// The registry and the cache of upstream model lists outlive
	// configuration snapshots, so metrics and lists survive reloads.
	// Closing the cache stops model list fetches under way after the drain.
	lists := catalog.New(catalog.Options{Logger: log})
	p.onClose(lists.Close)
	// JWT key sets, like the lists, are the process's: fetched once and
	// refreshed in the background whatever the snapshot.
	jwts := auth.NewVerifiers(auth.VerifierOptions{Logger: log})
	p.onClose(jwts.Close)
	// The store and the key directory over it are the process's too. They
	// close after the drain, in this order: the directory first (writing
	// the last-used times), then the store.
	// The metrics registry is the process's: the store's calls, the Redis
	// commands and every snapshot's metrics are measured in it.
	p.metrics = reg
	if p.metrics == nil {
		p.metrics = observe.NewRegistry()
	}
	registerBuildInfo(p.metrics, currentBuild())
	st, dir, err := openState(cfg, log, p.metrics)
	if err != nil {
		return nil, startError{"cannot open the store", err}
	}
	p.onClose(func() { _ = st.Close() })
	p.onClose(func() { _ = dir.Close() })
	// The usage ledger's writer closes first of the three, after the
	// drain: what is queued goes to the store (or the spool) while the
	// store is still open.
	led, err := ledger.Open(ledger.Options{Store: st.Store.Ledger(), SpoolPath: filepath.Join(cfg.Server.DataDir, ledgerSpool), Logger: log})
	if err != nil {
		return nil, startError{"cannot open the usage ledger", err}
	}
	p.onClose(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := led.Close(ctx); err != nil {
			log.Error("the usage ledger did not close cleanly", "err", err.Error())
		}
	})
	// The sender of budget alerts, when a webhook is configured, stops
	// after the drain and before the store closes; deliveries still
	// pending stay queued in the store.
	alerts, err := gateway.OpenAlerts(cfg, st.Store, log)
	if err != nil {
		return nil, startError{"cannot set up alerts", err}
	}
	p.onClose(alerts.Close)
	// The rate limit counts are the process's: the Redis connections
	// close after the drain.
	limiter, budgets, closeLimiter, err := gateway.OpenLimiter(cfg, log, st.Store, p.metrics)
	if err != nil {
		return nil, startError{"cannot set up rate limits", err}
	}
	p.onClose(func() { _ = closeLimiter() })
	// Expired stored responses are purged until the drain is over.
	p.onClose(gateway.PurgeResponses(st.Store.Responses(), gateway.ResponsesPurgeInterval, log))
	// Keyed requests' flights and kept responses are the process's too.
	idem, closeIdem, err := gateway.OpenIdempotency(cfg, log, p.metrics)
	if err != nil {
		return nil, startError{"cannot set up idempotency", err}
	}
	p.onClose(func() { _ = closeIdem() })
	// The tracer provider is the process's: it is shut down, sending the
	// spans still queued, after the drain and before the stores close.
	tracer, err := openTracer(cfg, log)
	if err != nil {
		return nil, startError{"cannot set up tracing", err}
	}
	if tracer != nil {
		p.onClose(func() { closeTracer(tracer, log) })
	}
	observe.Register(p.metrics, led.Collector())
	// Upstream clients and the targets' health are the process's: a
	// reload keeps them for the providers and targets it keeps.
	clients := gateway.NewClients(cfg.Server.RequestTimeout.Std())
	p.onClose(clients.Close)
	opts := gateway.Options{Metrics: p.metrics, Logger: log, ModelLists: lists, JWT: jwts, Directory: dir, Ledger: led, Limiter: limiter, Alerts: alerts, Idempotency: idem, Tracer: tracer,
		Responses: st.Store.Responses(), Health: router.NewHealth(), Clients: clients,
		Admin: admin.Backend{Store: st.Store, Keys: admin.DirectoryKeys(dir), Hasher: st.Hasher, Audit: st.Audit, Budgets: budgets, Logger: log}}
	p.reloader = newReloader(cfg, path, listen, &opts, func(s *gateway.Snapshot) { p.server.Swap(s) }, p.metrics, log, secrets)
	opts.Admin.Configs = p.reloader
	p.snap, err = gateway.Compile(cfg, opts)
	if err != nil {
		return nil, err
	}
	if srv == nil {
		srv = server.New(p.snap, log)
	}
	p.server = srv
	// The active checks of providers, process state too, stop after the
	// drain; readiness pings the store and Redis.
	p.checker = gateway.NewChecker(srv.Snapshot, p.metrics, log)
	p.onClose(p.checker.Close)
	deps, closeDeps, err := gateway.Dependencies(cfg, dir)
	if err != nil {
		return nil, startError{"cannot set up readiness", err}
	}
	p.onClose(func() { _ = closeDeps() })
	srv.SetHealth(server.Health{Dependencies: deps, Checker: p.checker})
	// Secret references are fetched again until close, first thing in
	// it; a changed value reloads the configuration (docs/secrets.md).
	if secrets != nil {
		secrets.Instrument(p.metrics)
		secrets.SetLogger(log)
		secrets.SetAudit(context.Background(), st.Audit)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			secrets.Run(ctx, nil, func() {
				log.Info("a referenced secret changed; reloading the configuration")
				_, _ = p.reloader.Reload(reload.TriggerSecret)
			})
		}()
		p.onClose(func() { cancel(); <-done })
	}
	return p, nil
}
