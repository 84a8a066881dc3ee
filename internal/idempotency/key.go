package idempotency

import (
	"crypto/sha256"
	"encoding/hex"
)

// Header is the request header that carries a client's key.
const Header = "Idempotency-Key"

// ReplayedHeader marks a response that is a replay of, or was joined to,
// an earlier request's: Stripe's response header for the same purpose.
const ReplayedHeader = "Idempotent-Replayed"

// MaxKeyLen is the longest key accepted, in bytes.
const MaxKeyLen = 255

// ValidKey reports whether k is a key the gateway accepts: 1 to MaxKeyLen
// printable ASCII characters (0x20 to 0x7e). A key with a control
// character or a byte beyond ASCII could forge log lines or Redis keys.
func ValidKey(k string) bool {
	if k == "" || len(k) > MaxKeyLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// Fingerprint identifies what a request asked: the SHA-256 of its method,
// path and body. A key reused with another fingerprint is a conflict.
type Fingerprint [sha256.Size]byte

// FingerprintOf returns the fingerprint of a request. The method and the
// path are each followed by a NUL, which neither may contain, so that no
// two requests share the bytes hashed.
func FingerprintOf(method, path string, body []byte) Fingerprint {
	h := sha256.New()
	h.Write([]byte(method))
	h.Write([]byte{0})
	h.Write([]byte(path))
	h.Write([]byte{0})
	h.Write(body)
	var fp Fingerprint
	h.Sum(fp[:0])
	return fp
}

// ID is the name of a record: the hex SHA-256 of the tenant and the key.
// Neither the key nor the tenant is kept as the client sent it, and every
// ID has the same short length whatever the key.
type ID string

// IDOf returns the ID of the key of tenant.
func IDOf(tenant, key string) ID {
	h := sha256.New()
	h.Write([]byte(tenant))
	h.Write([]byte{0})
	h.Write([]byte(key))
	var sum [sha256.Size]byte
	return ID(hex.EncodeToString(h.Sum(sum[:0])))
}
