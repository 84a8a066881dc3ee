package gateway

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/llmgw/llmgw/internal/audit"
	"github.com/llmgw/llmgw/internal/auth"
	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/store"
	"github.com/llmgw/llmgw/internal/store/postgres"
	"github.com/llmgw/llmgw/internal/store/sqlite"
)

// State is the identity state a process opens once from its first
// configuration and keeps across snapshots: the store, the key hasher and
// the audit log, all derived from the server secret.
type State struct {
	Store store.Store
	// Hasher computes the keyed hashes virtual keys are stored under.
	Hasher *auth.Hasher
	// Audit is the audit log, in Store.
	Audit *audit.Log
	// SecretGenerated is true when the server secret was generated at this
	// start; SecretPath is then where it was written.
	SecretGenerated bool
	SecretPath      string
}

// OpenState opens the store cfg.Storage names (creating the data directory
// for SQLite, mode 0700) and derives the hasher and the audit chain key
// from the server secret: server.secret, else getenv("LLMGW_SECRET"), else
// the secret kept in the data directory (generated on first use), which
// PostgreSQL refuses because replicas must share one secret. Close
// releases it.
func OpenState(ctx context.Context, cfg *config.Config, getenv func(string) string, ao audit.Options) (*State, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	secret := cfg.Server.Secret.Value()
	if secret == "" {
		secret = getenv("LLMGW_SECRET")
		if secret != "" && len(secret) < config.MinSecretLen {
			return nil, fmt.Errorf("LLMGW_SECRET must be at least %d characters", config.MinSecretLen)
		}
	}
	if secret == "" && cfg.Storage.Driver == config.DriverPostgres {
		return nil, errors.New("server.secret: required with storage.driver postgres (or set LLMGW_SECRET): " +
			"every replica sharing the database must hash keys with the same secret")
	}
	dir := cfg.Server.DataDir
	var s store.Store
	var err error
	switch cfg.Storage.Driver {
	case config.DriverPostgres:
		s, err = postgres.Open(ctx, cfg.Storage.DSN.Value())
	default:
		path := cfg.Storage.DSN.Value()
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("storage: %w", err)
		}
		s, err = sqlite.Open(ctx, path)
	}
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	raw, generated, err := auth.ServerSecret(secret, dir)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("server secret: %w", err)
	}
	st := &State{
		Store:           s,
		Hasher:          auth.NewHasher(auth.Derive(raw, auth.PurposeKeyHash)),
		Audit:           audit.New(s.Audit(), auth.Derive(raw, auth.PurposeAuditChain), ao),
		SecretGenerated: generated,
	}
	if generated {
		st.SecretPath = filepath.Join(dir, auth.SecretFile)
	}
	return st, nil
}

// Close writes the audit log's pending records and closes the store.
func (st *State) Close() error {
	return errors.Join(st.Audit.Close(), st.Store.Close())
}
