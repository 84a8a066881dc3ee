package store

import (
	"time"
)

// Limits are the rate limits of a key or a tenant: requests per minute,
// tokens per minute and requests in flight at once. A zero field does not
// limit, so the zero Limits limits nothing; a negative one is refused
// (ErrInvalid). Drivers store a zero field as NULL, so that "no limit" has
// one representation.
type Limits struct {
	RPM, TPM, Concurrent int64
}

// IsZero reports whether l limits nothing.
func (l Limits) IsZero() bool { return l == Limits{} }

// Budget is a spending limit of a key, team or tenant: at most LimitPico
// picodollars (10⁻¹² USD) per Period. The zero Budget limits nothing;
// drivers store it as NULLs, the only way to say "no budget".
type Budget struct {
	LimitPico int64
	// Period is "daily", "weekly", "monthly" or "total" (see package
	// budget for where each starts).
	Period string
}

// IsZero reports whether b limits nothing.
func (b Budget) IsZero() bool { return b == Budget{} }

// Tenant is an organisation using the gateway.
type Tenant struct {
	ID     string
	Name   string
	Labels map[string]string // nil when empty
	// Limits hold for all the tenant's keys together.
	Limits Limits
	// Budget holds for all the tenant's keys together.
	Budget Budget
	// CreatedAt is set by the store.
	CreatedAt time.Time
}

// Team groups keys of a tenant.
type Team struct {
	ID       string
	TenantID string
	Name     string
	// Budget holds for all the team's keys together.
	Budget    Budget
	CreatedAt time.Time
}

// Role says what a key may do besides the data plane.
type Role string

// The roles. RoleNone is a data-plane key; the others are admin keys of
// their tenant.
const (
	RoleNone        Role = ""
	RoleTenantAdmin Role = "tenant_admin"
	RoleReadOnly    Role = "read_only"
)

// Valid reports whether r is one of the roles above.
func (r Role) Valid() bool {
	return r == RoleNone || r == RoleTenantAdmin || r == RoleReadOnly
}

// Key is a virtual API key. The store never sees its plaintext: Hash is
// a keyed hash computed by the caller, and Prefix the first characters of
// the plaintext, kept only so that people can tell keys apart.
type Key struct {
	ID       string
	TenantID string
	TeamID   string // "" when the key belongs to no team
	Name     string
	Hash     []byte
	Prefix   string
	// Models the key may use: nil means every model, an empty non-nil
	// slice none. The store keeps the difference.
	Models    []string
	ExpiresAt time.Time // zero: never expires
	Labels    map[string]string
	Role      Role
	// Limits hold for this key alone, besides its tenant's.
	Limits Limits
	// Budget holds for this key alone, besides its team's and tenant's.
	Budget Budget
	// MaxCostPico is the key's cost cap: the most one of its requests may
	// be estimated to cost, in picodollars; 0: no cap.
	MaxCostPico int64
	CreatedAt   time.Time
	// LastUsedAt is as recent as the last Touch; zero when never used.
	LastUsedAt time.Time
	// RevokedAt is zero while the key is not revoked.
	RevokedAt time.Time
	// PrevHash is the hash before the last rotation, accepted by
	// GetByHash until PrevValidUntil.
	PrevHash       []byte
	PrevValidUntil time.Time
}

// Usable reports whether the key may authenticate a request at now: not
// revoked and not expired.
func (k *Key) Usable(now time.Time) bool {
	if !k.RevokedAt.IsZero() {
		return false
	}
	return k.ExpiresAt.IsZero() || now.Before(k.ExpiresAt)
}

// TenantPatch lists the fields of a tenant to change; nil leaves a field
// as it is.
type TenantPatch struct {
	Name   *string
	Labels *map[string]string
	// Limits replaces all three limits; pointing to the zero Limits
	// removes them.
	Limits *Limits
	// Budget replaces the budget; pointing to the zero Budget removes it.
	Budget *Budget
}

// TeamPatch lists the fields of a team to change.
type TeamPatch struct {
	Name   *string
	Budget *Budget
}

// KeyPatch lists the fields of a key to change; nil leaves a field as it
// is. Models points to the new list: a pointer to a nil slice means every
// model, to an empty one none. ExpiresAt pointing to the zero time removes
// the expiry, TeamID pointing to "" the team, Limits pointing to the zero
// Limits every limit.
type KeyPatch struct {
	Name      *string
	TeamID    *string
	Models    *[]string
	ExpiresAt *time.Time
	Labels    *map[string]string
	Role      *Role
	Limits    *Limits
	Budget    *Budget
	// MaxCostPico replaces the cost cap; pointing to 0 removes it.
	MaxCostPico *int64
}

// Rotation is the new secret of a key, as Keys.Rotate takes it.
type Rotation struct {
	Hash   []byte
	Prefix string
	// PrevValidUntil is when the hash being replaced stops working; a
	// time not after now ends it at once.
	PrevValidUntil time.Time
}

// KeyFilter narrows Keys.List; an empty field does not filter.
type KeyFilter struct {
	TenantID string
	TeamID   string
}

// Kind names what a Change is about.
type Kind string

// The kinds of change.
const (
	KindTenant Kind = "tenant"
	KindTeam   Kind = "team"
	KindKey    Kind = "key"
)

// Change is one write to a tenant, team or key. For a key, Hashes are
// every hash it had before the write or has after it (current and
// previous, without repeats): a cache keyed by hash drops them all,
// including a hash that a second rotation or a revocation ended early.
type Change struct {
	Seq    int64
	Kind   Kind
	ID     string
	Hashes [][]byte
}

// Hashes lists, without repeats, the non-empty hashes of the keys given
// (nil ones skipped), in order: what a Change carries.
func Hashes(keys ...*Key) [][]byte {
	var out [][]byte
	add := func(h []byte) {
		if len(h) == 0 {
			return
		}
		for _, o := range out {
			if string(o) == string(h) {
				return
			}
		}
		out = append(out, h)
	}
	for _, k := range keys {
		if k != nil {
			add(k.Hash)
			add(k.PrevHash)
		}
	}
	return out
}
