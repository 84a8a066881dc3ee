package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxNameLen bounds names, in bytes.
const MaxNameLen = 200

// Bounds on labels, models and prefixes, so that one record stays small.
const (
	MaxLabels      = 64
	MaxLabelLen    = 256 // a label's key or value, in bytes
	MaxModels      = 1000
	MaxModelLen    = 256
	MaxPrefixLen   = 64
	maxIDLen       = 128
	maxCursorBytes = 128
)

// Text reports whether s can be stored as text by every driver: valid
// UTF-8 without NUL (PostgreSQL refuses both).
func Text(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// Lookup reports whether s could be an ID or name at all; drivers answer
// ErrNotFound for one that cannot without asking the database, which
// would refuse it with an error of its own.
func Lookup(s string) bool {
	return s != "" && len(s) <= maxIDLen+MaxNameLen && Text(s)
}

// CheckLookup returns ErrNotFound, naming what, when one of ids cannot
// be an ID or name (see Lookup).
func CheckLookup(what string, ids ...string) error {
	for _, id := range ids {
		if !Lookup(id) {
			return fmt.Errorf("%s: %w", what, ErrNotFound)
		}
	}
	return nil
}

// CheckName refuses the names no record may have.
func CheckName(what, name string) error {
	if name == "" || len(name) > MaxNameLen || !Text(name) {
		return fmt.Errorf("%w: %s name must be 1 to %d bytes of UTF-8 without NUL", ErrInvalid, what, MaxNameLen)
	}
	return nil
}

// CheckLabels refuses labels that cannot be stored as they are.
func CheckLabels(m map[string]string) error {
	if len(m) > MaxLabels {
		return fmt.Errorf("%w: more than %d labels", ErrInvalid, MaxLabels)
	}
	for k, v := range m {
		if k == "" || len(k) > MaxLabelLen || len(v) > MaxLabelLen || !Text(k) || !Text(v) {
			return fmt.Errorf("%w: label keys and values must be UTF-8 without NUL, keys 1 to %d bytes, values at most %d",
				ErrInvalid, MaxLabelLen, MaxLabelLen)
		}
	}
	return nil
}

// CheckLimits refuses negative limits.
func CheckLimits(l Limits) error {
	if l.RPM < 0 || l.TPM < 0 || l.Concurrent < 0 {
		return fmt.Errorf("%w: limits must not be negative (0 means no limit)", ErrInvalid)
	}
	return nil
}

// The budget periods.
var budgetPeriods = map[string]bool{"daily": true, "weekly": true, "monthly": true, "total": true}

// CheckBudget refuses a budget that is neither zero nor a positive limit
// with a known period.
func CheckBudget(b Budget) error {
	if b.IsZero() {
		return nil
	}
	if b.LimitPico <= 0 {
		return fmt.Errorf("%w: a budget must be positive", ErrInvalid)
	}
	if !budgetPeriods[b.Period] {
		return fmt.Errorf("%w: a budget's period is daily, weekly, monthly or total", ErrInvalid)
	}
	return nil
}

// MaxCostPico is the largest cost cap of a key: 9,000,000 US dollars.
const MaxCostPico = 9_000_000 * 1_000_000_000_000

// CheckTenant refuses a tenant that cannot be stored.
func CheckTenant(t *Tenant) error {
	if err := CheckName("tenant", t.Name); err != nil {
		return err
	}
	if err := CheckLimits(t.Limits); err != nil {
		return err
	}
	if err := CheckBudget(t.Budget); err != nil {
		return err
	}
	return CheckLabels(t.Labels)
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
	if k.TeamID != "" && !Lookup(k.TeamID) || !Lookup(k.TenantID) {
		return fmt.Errorf("tenant or team: %w", ErrNotFound)
	}
	if len(k.Prefix) > MaxPrefixLen || !Text(k.Prefix) {
		return fmt.Errorf("%w: prefix must be at most %d bytes of UTF-8 without NUL", ErrInvalid, MaxPrefixLen)
	}
	if len(k.Models) > MaxModels {
		return fmt.Errorf("%w: more than %d models", ErrInvalid, MaxModels)
	}
	for _, m := range k.Models {
		if m == "" || len(m) > MaxModelLen || !Text(m) {
			return fmt.Errorf("%w: model names must be 1 to %d bytes of UTF-8 without NUL", ErrInvalid, MaxModelLen)
		}
	}
	if err := CheckLimits(k.Limits); err != nil {
		return err
	}
	if err := CheckBudget(k.Budget); err != nil {
		return err
	}
	if k.MaxCostPico < 0 || k.MaxCostPico > MaxCostPico {
		return fmt.Errorf("%w: a cost cap is above 0 and at most %d picodollars", ErrInvalid, MaxCostPico)
	}
	return CheckLabels(k.Labels)
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
		if err := CheckLabels(*p.Labels); err != nil {
			return err
		}
		t.Labels = *p.Labels
	}
	if p.Limits != nil {
		if err := CheckLimits(*p.Limits); err != nil {
			return err
		}
		t.Limits = *p.Limits
	}
	if p.Budget != nil {
		if err := CheckBudget(*p.Budget); err != nil {
			return err
		}
		t.Budget = *p.Budget
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
	if p.Budget != nil {
		if err := CheckBudget(*p.Budget); err != nil {
			return err
		}
		t.Budget = *p.Budget
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
	if p.Limits != nil {
		k.Limits = *p.Limits
	}
	if p.Budget != nil {
		k.Budget = *p.Budget
	}
	if p.MaxCostPico != nil {
		k.MaxCostPico = *p.MaxCostPico
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

// MaxAuditText bounds an audit record's text fields, MaxAuditJSON its
// before and after documents, in bytes.
const (
	MaxAuditText = 1024
	MaxAuditJSON = 256 << 10
)

// CheckAudit checks a record before it is appended: an actor and an
// action, bounded UTF-8 text without NUL, before and after valid JSON of
// bounded size, a positive count (0 is taken as 1).
func CheckAudit(r *AuditRecord) error {
	if r.Actor == "" || r.Action == "" {
		return fmt.Errorf("%w: an audit record needs an actor and an action", ErrInvalid)
	}
	for _, s := range []string{r.Actor, r.Action, r.TenantID, r.Target, r.Source, r.RequestID} {
		if len(s) > MaxAuditText || (s != "" && !Text(s)) {
			return fmt.Errorf("%w: audit text fields must be at most %d bytes of UTF-8 without NUL", ErrInvalid, MaxAuditText)
		}
	}
	for _, b := range [][]byte{r.Before, r.After} {
		if b != nil && (len(b) > MaxAuditJSON || !json.Valid(b) || bytes.IndexByte(b, 0) >= 0) {
			return fmt.Errorf("%w: audit before and after must be JSON of at most %d bytes", ErrInvalid, MaxAuditJSON)
		}
	}
	if r.Count == 0 {
		r.Count = 1
	}
	if r.Count < 0 {
		return fmt.Errorf("%w: audit count must be positive", ErrInvalid)
	}
	if r.At.IsZero() {
		return fmt.Errorf("%w: an audit record needs a time", ErrInvalid)
	}
	return nil
}

// MaxUsageText bounds a usage record's text fields, in bytes.
const MaxUsageText = 512

// CheckUsage checks a usage record before it is stored.
func CheckUsage(r *UsageRecord) error {
	if r.RequestID == "" {
		return fmt.Errorf("%w: a usage record needs a request ID", ErrInvalid)
	}
	if r.At.IsZero() {
		return fmt.Errorf("%w: a usage record needs a time", ErrInvalid)
	}
	for _, s := range []string{r.RequestID, r.TenantID, r.Tenant, r.TeamID, r.KeyID, r.KeyName, r.Model, r.Provider, r.UpstreamModel, r.Cache} {
		if len(s) > MaxUsageText || (s != "" && !Text(s)) {
			return fmt.Errorf("%w: usage text fields must be at most %d bytes of UTF-8 without NUL", ErrInvalid, MaxUsageText)
		}
	}
	for _, n := range []int64{r.InputTokens, r.OutputTokens, r.CachedTokens, r.CacheWriteTokens, r.ReasoningTokens, r.CostPico, r.LatencyMicros, r.TTFTMicros} {
		if n < 0 {
			return fmt.Errorf("%w: usage counts must not be negative", ErrInvalid)
		}
	}
	return nil
}
