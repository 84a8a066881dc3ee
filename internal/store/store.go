package store

import (
	"context"
	"time"
)

// Store is the gateway's persistent state, split by concern so that a
// consumer names only the part it uses (the access stage needs Keys, the
// admin API all of them, a replica's cache Changes). One Store is opened
// per process and shared by every configuration snapshot.
type Store interface {
	Tenants() Tenants
	Teams() Teams
	Keys() Keys
	Changes() Changes
	Audit() Audit
	Ledger() Ledger
	Budgets() Budgets
	Alerts() Alerts
	Responses() Responses
	// Ping reports whether the database answers, for readiness checks.
	Ping(ctx context.Context) error
	// Close releases the connections. The Store must not be used after.
	Close() error
}

// Tenants are the top of the ownership tree: every team and key belongs to
// one.
type Tenants interface {
	// Create stores a new tenant and returns it with its ID and CreatedAt
	// set. A name already taken is ErrConflict.
	Create(ctx context.Context, t Tenant) (Tenant, error)
	// Get finds a tenant by its ID or, failing that, by its name.
	Get(ctx context.Context, idOrName string) (Tenant, error)
	// List pages through the tenants in a stable order.
	List(ctx context.Context, opts ListOptions) (Page[Tenant], error)
	// Update applies p to the tenant with this ID.
	Update(ctx context.Context, id string, p TenantPatch) (Tenant, error)
	// Delete removes a tenant. A tenant that still has teams or keys is
	// ErrConflict: keys are never deleted as a side effect.
	Delete(ctx context.Context, id string) error
}

// Teams group keys inside a tenant.
type Teams interface {
	// Create stores a new team; its tenant must exist (ErrNotFound) and
	// its name be unique in the tenant (ErrConflict).
	Create(ctx context.Context, t Team) (Team, error)
	Get(ctx context.Context, tenantID, id string) (Team, error)
	List(ctx context.Context, tenantID string, opts ListOptions) (Page[Team], error)
	Update(ctx context.Context, tenantID, id string, p TeamPatch) (Team, error)
	// Delete removes a team; one that still has keys is ErrConflict.
	Delete(ctx context.Context, tenantID, id string) error
}

// Keys are the virtual API keys, stored by keyed hash only.
type Keys interface {
	// Create stores a new key. Its tenant (and team, when set, which must
	// belong to that tenant) must exist (ErrNotFound); a name already used
	// in the tenant, or a hash already stored, is ErrConflict.
	Create(ctx context.Context, k Key) (Key, error)
	Get(ctx context.Context, id string) (Key, error)
	// GetByHash is the per-request lookup, one indexed query: it finds the
	// key whose current hash is h, or whose previous hash is h while the
	// rotation grace lasts. Revoked and expired keys are returned as they
	// are (Key.Usable says whether one may be used), so that a caller can
	// tell "revoked" from "unknown" in its logs.
	GetByHash(ctx context.Context, h []byte) (Key, error)
	List(ctx context.Context, f KeyFilter, opts ListOptions) (Page[Key], error)
	Update(ctx context.Context, id string, p KeyPatch) (Key, error)
	// Rotate replaces the key's hash and prefix; the old hash stays valid
	// until r.PrevValidUntil. One previous hash is kept: a hash rotated out
	// earlier and still in its grace stops working. Rotating a revoked key
	// is ErrConflict.
	Rotate(ctx context.Context, id string, r Rotation) (Key, error)
	// Revoke ends the key at once, previous hash included. Revoking a
	// revoked key keeps its first revocation time.
	Revoke(ctx context.Context, id string) (Key, error)
	Delete(ctx context.Context, id string) error
	// Touch records when keys were last used, in one write for many keys,
	// so that the caller can flush periodically instead of writing on each
	// request. A time earlier than the stored one is ignored, and so is an
	// unknown ID (a key deleted since it was used). Touch records no
	// change: replicas need not hear of it.
	Touch(ctx context.Context, used []Use) error
}

// Changes lets replicas that cache keys learn what changed in the store
// since they last looked, by polling a counter.
type Changes interface {
	// Since returns at most limit changes with a sequence number above
	// after, in order, and the sequence number to pass next time (after
	// itself when nothing changed). Since(ctx, 0, 0) with no changes
	// returns 0. A limit <= 0 means DefaultLimit.
	Since(ctx context.Context, after int64, limit int) ([]Change, int64, error)
	// Head returns the newest sequence number, where a replica that has
	// just loaded its state starts polling.
	Head(ctx context.Context) (int64, error)
}

// Use is one entry of Keys.Touch.
type Use struct {
	KeyID string
	At    time.Time
}
