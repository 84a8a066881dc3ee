package main

import (
	"context"
	"path/filepath"

	"github.com/llmgw/llmgw/internal/identity"

	"github.com/llmgw/llmgw/internal/auth"
	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/store"
	"github.com/llmgw/llmgw/internal/store/sqlite"
)

// seedStore creates, in the SQLite store of the gateway's data directory,
// the key the gateway target is called with (tenant "bench", the bench
// model only, as the static key; a budget, as its tenant), hashed under
// the bench server secret, and returns its secret.
func seedStore(ctx context.Context, dataDir string) (string, error) {
	st, err := sqlite.Open(ctx, filepath.Join(dataDir, config.SQLiteFile))
	if err != nil {
		return "", err
	}
	defer st.Close()
	// Budgets far above what a run spends: reserved and settled on every
	// request, never refusing one.
	huge := store.Budget{LimitPico: 9_000_000 * 1_000_000_000_000, Period: "monthly"}
	tn, err := st.Tenants().Create(ctx, store.Tenant{Name: "bench", Budget: huge})
	if err != nil {
		return "", err
	}
	key, prefix := auth.NewKeySecret()
	h := auth.NewHasher(auth.Derive([]byte(benchSecret), auth.PurposeKeyHash)).Sum(key)
	_, err = st.Keys().Create(ctx, store.Key{TenantID: tn.ID, Name: "bench", Hash: h[:], Prefix: prefix, Models: []string{benchModel}, Budget: huge})
	return key, err
}

// openStoreKeys opens the SQLite store of dataDir and the key directory
// over it, as "llmgw serve" does; the caller closes the directory, then
// the store.
func openStoreKeys(ctx context.Context, dataDir, secret string) (store.Store, *identity.Directory, error) {
	st, err := sqlite.Open(ctx, filepath.Join(dataDir, config.SQLiteFile))
	if err != nil {
		return nil, nil, err
	}
	d, err := identity.Open(ctx, identity.Options{Store: st, Hasher: auth.NewHasher(auth.Derive([]byte(secret), auth.PurposeKeyHash))})
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, d, nil
}
