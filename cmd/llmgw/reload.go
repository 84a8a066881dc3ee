package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/observe"
	"github.com/llmgw/llmgw/internal/reload"
	"github.com/llmgw/llmgw/internal/secret"
)

// watchReloads reloads the configuration on SIGHUP and, when it comes from
// a file and watchFile is true (serve --watch-config, the default), when the
// file changes, until ctx is done. It returns at once; the returned function
// stops it and waits for it.
func watchReloads(ctx context.Context, rl *reload.Reloader, source string, watchFile bool, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{}, 2)
	go func() {
		defer func() { done <- struct{}{} }()
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				_, _ = rl.Reload(reload.TriggerSignal)
			}
		}
	}()
	go func() {
		defer func() { done <- struct{}{} }()
		if !watchFile {
			if source != "" {
				log.Info("the configuration file is not watched (--watch-config=false); reload with SIGHUP or POST /admin/v1/config/reload", "path", source)
			}
			return
		}
		if err := rl.Watch(ctx, reload.DefaultDebounce); err != nil {
			log.Error("cannot watch the configuration file; reload with SIGHUP or POST /admin/v1/config/reload", "path", source, "err", err.Error())
		}
	}()
	return func() {
		signal.Stop(hup)
		cancel()
		<-done
		<-done
	}
}

// configSource is the configuration file serve reads: --config, else
// LLMGW_CONFIG, else none (the built-in defaults).
func configSource(path string) string {
	if path == "" {
		path = os.Getenv("LLMGW_CONFIG")
	}
	return path
}

// newReloader returns the Reloader of serve: it loads the configuration as
// serve did at start (with the --listen override) and compiles it with
// opts, the process state, then hands the snapshot to swap.
// secrets, when not nil, resolves the secret references of each load; the
// references of the configuration swapped in become the ones it fetches
// again.
func newReloader(running *config.Config, path, listen string, opts *gateway.Options, swap func(*gateway.Snapshot), metrics *observe.Registry, log *slog.Logger, secrets *secret.Resolver) *reload.Reloader {
	// last is the secrets of the configuration being reloaded; reloads
	// run one at a time.
	var last *secret.Load
	return reload.New(running, reload.Options{
		Source: configSource(path),
		Load: func() (*config.Config, error) {
			if secrets == nil {
				secrets = secret.New(secret.Options{Logger: log})
			}
			last = secrets.Load()
			cfg, err := loadConfigWith(path, last)
			if err == nil && listen != "" {
				cfg.Server.Listen = listen
			}
			return cfg, err
		},
		Apply: func(cfg *config.Config) error {
			snap, err := gateway.Compile(cfg, *opts)
			if err != nil {
				return err
			}
			swap(snap)
			secrets.Use(last)
			return nil
		},
		Metrics: metrics,
		Logger:  log,
	})
}
