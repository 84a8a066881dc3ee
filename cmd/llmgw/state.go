package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/llmgw/llmgw/internal/audit"
	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/identity"
	"github.com/llmgw/llmgw/internal/observe"
)

// openTimeout bounds connecting to the store and migrating it at start.
const openTimeout = 30 * time.Second

// openState opens the process's identity state (gateway.OpenState: the
// store, the server secret's hasher and the audit log) and the key
// directory over it, the store's calls measured in metrics. The caller
// closes the directory, then the state.
func openState(cfg *config.Config, log *slog.Logger, metrics *observe.Registry) (*gateway.State, *identity.Directory, error) {
	ctx, cancel := context.WithTimeout(context.Background(), openTimeout)
	defer cancel()
	st, err := gateway.OpenState(ctx, cfg, nil, audit.Options{Logger: log}, metrics)
	if err != nil {
		return nil, nil, err
	}
	if st.SecretGenerated {
		log.Info("generated a server secret", "path", st.SecretPath)
	}
	if cfg.Storage.Driver == config.DriverSQLite {
		log.Info("store opened", "driver", config.DriverSQLite, "path", cfg.Storage.DSN.Value())
	}
	dir, err := identity.Open(ctx, identity.Options{Store: st.Store, Hasher: st.Hasher, Logger: log, Notify: st.Notify})
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, dir, nil
}
