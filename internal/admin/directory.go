package admin

import (
	"context"
	"errors"
	"fmt"

	"github.com/llmgw/llmgw/internal/identity"
	"github.com/llmgw/llmgw/internal/store"
)

// DirectoryKeys resolves admin keys through the process's key directory,
// whose caches keep a flood of bogus credentials off the store. After a
// change to keys, the API syncs it, so that this replica applies the
// change to its next request at once (others within the directory's
// propagation time).
func DirectoryKeys(d *identity.Directory) Keys { return directoryKeys{d} }

type directoryKeys struct{ d *identity.Directory }

func (k directoryKeys) Resolve(ctx context.Context, plaintext string) (store.Key, error) {
	id, err := k.d.Lookup(ctx, plaintext)
	switch {
	case errors.Is(err, identity.ErrUnknown):
		return store.Key{}, fmt.Errorf("admin key: %w", store.ErrNotFound)
	case err != nil:
		return store.Key{}, err
	}
	return id.Key, nil
}

func (k directoryKeys) Sync(ctx context.Context) error { return k.d.Sync(ctx) }

// syncer is a Keys that can catch up with the store's changes at once.
type syncer interface {
	Sync(ctx context.Context) error
}

// synced brings the key resolver up to date after a change to tenants,
// teams or keys; a failure only delays the change here to the
// resolver's own next sync.
func (a *API) synced(ctx context.Context) {
	if s, ok := a.b.Keys.(syncer); ok {
		if err := s.Sync(context.WithoutCancel(ctx)); err != nil {
			a.b.Logger.Warn("admin: key directory sync failed", "err", err)
		}
	}
}
