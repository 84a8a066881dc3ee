package store

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// ID prefixes say what an ID names, in logs and in the admin API.
const (
	TenantPrefix = "tnt_"
	TeamPrefix   = "team_"
	KeyPrefix    = "key_"
)

// NewID returns a fresh ID: the prefix, the time in nanoseconds (so that
// IDs, and lists ordered by them, follow creation order) and 64 random
// bits (so that two replicas creating at once never collide).
func NewID(prefix string, now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixNano()))
	_, _ = rand.Read(b[8:]) // never fails (crypto/rand panics instead)
	return prefix + hex.EncodeToString(b[:])
}
