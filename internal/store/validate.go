package store

import (
	"fmt"
	"time"
	"unicode/utf8"
)

// MaxNameLen bounds names, in bytes.
const MaxNameLen = 200

// CheckName refuses the names no record may have.
func CheckName(what, name string) error {
	if name == "" || len(name) > MaxNameLen || !utf8.ValidString(name) {
		return fmt.Errorf("%w: %s name must be 1 to %d bytes of UTF-8", ErrInvalid, what, MaxNameLen)
	}
	return nil
}

// CheckKey refuses a key that cannot be stored.
func CheckKey(k *Key) error {
	if err := CheckName("key", k.Name); err != nil {
		return err
	}
	if k.TenantID == "" {
		return fmt.Errorf("%w: key without a tenant", ErrInvalid)
	}
	if len(k.Hash) == 0 {
		return fmt.Errorf("%w: key without a hash", ErrInvalid)
	}
	if !k.Role.Valid() {
		return fmt.Errorf("%w: unknown role %q", ErrInvalid, k.Role)
	}
	return nil
}

// Apply changes t as p says.
func (p TenantPatch) Apply(t *Tenant) error {
	if p.Name != nil {
		if err := CheckName("tenant", *p.Name); err != nil {
			return err
		}
		t.Name = *p.Name
	}
	if p.Labels != nil {
		t.Labels = *p.Labels
	}
	return nil
}

// Apply changes t as p says.
func (p TeamPatch) Apply(t *Team) error {
	if p.Name != nil {
		if err := CheckName("team", *p.Name); err != nil {
			return err
		}
		t.Name = *p.Name
	}
	return nil
}

// Apply changes k as p says.
func (p KeyPatch) Apply(k *Key) error {
	if p.Name != nil {
		k.Name = *p.Name
	}
	if p.TeamID != nil {
		k.TeamID = *p.TeamID
	}
	if p.Models != nil {
		k.Models = *p.Models
	}
	if p.ExpiresAt != nil {
		k.ExpiresAt = *p.ExpiresAt
	}
	if p.Labels != nil {
		k.Labels = *p.Labels
	}
	if p.Role != nil {
		k.Role = *p.Role
	}
	return CheckKey(k)
}

// Micro truncates t to the microsecond, the precision both drivers keep,
// in UTC, so that what is read back equals what was written.
func Micro(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Microsecond)
}

// Rotate gives k the rotation's hash, keeping its current one as the
// previous until r.PrevValidUntil. A revoked key cannot be rotated.
func Rotate(k *Key, r Rotation) error {
	if !k.RevokedAt.IsZero() {
		return fmt.Errorf("%w: key %s is revoked", ErrConflict, k.ID)
	}
	k.PrevHash, k.PrevValidUntil = k.Hash, r.PrevValidUntil
	k.Hash, k.Prefix = r.Hash, r.Prefix
	return nil
}

// Revoke marks k revoked at now (unless it already was) and drops the
// previous hash with it.
func Revoke(k *Key, now time.Time) {
	if k.RevokedAt.IsZero() {
		k.RevokedAt = now
	}
	k.PrevHash, k.PrevValidUntil = nil, time.Time{}
}
