package auth

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// The purposes keys are derived from the server secret for: each derived
// key serves one purpose alone, so that a key learnt from one use helps
// with no other.
const (
	// PurposeKeyHash keys the HMAC-SHA256 virtual keys are stored under.
	PurposeKeyHash = "llmgw key hash v1"
	// PurposeAuditChain keys the HMAC chaining audit records.
	PurposeAuditChain = "llmgw audit chain v1"
)

// SecretFile is the name of the generated server secret in the data
// directory.
const SecretFile = "secret"

// ServerSecret returns the server secret: configured when not empty, else
// the one kept in dir/secret, generated (32 random bytes, base64url, file
// mode 0600, directory 0700) when the file does not exist; generated
// reports that it was. A file that is readable by others is refused, as
// is one holding fewer than 32 characters.
func ServerSecret(configured, dir string) (secret []byte, generated bool, err error) {
	if configured != "" {
		return []byte(configured), false, nil
	}
	path := filepath.Join(dir, SecretFile)
	b, err := os.ReadFile(path)
	if err == nil {
		st, err := os.Stat(path)
		if err != nil {
			return nil, false, err
		}
		if st.Mode().Perm()&0o077 != 0 {
			return nil, false, fmt.Errorf("%s is readable by others (mode %v): chmod 600 it", path, st.Mode().Perm())
		}
		s := strings.TrimSpace(string(b))
		if len(s) < 32 {
			return nil, false, fmt.Errorf("%s holds fewer than 32 characters", path)
		}
		return []byte(s), false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, false, err
	}
	s := base64.RawURLEncoding.EncodeToString(raw)
	// The secret is written whole to a file of its own, then linked into
	// place: a link fails if the name exists, so of two processes starting
	// at once on one directory only one secret is kept, and the other
	// process never reads a file still being written.
	tmp, err := os.CreateTemp(dir, SecretFile+".tmp-*")
	if err != nil {
		return nil, false, err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, false, err
	}
	if _, err := tmp.WriteString(s + "\n"); err != nil {
		tmp.Close()
		return nil, false, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, false, err
	}
	if err := tmp.Close(); err != nil {
		return nil, false, err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return ServerSecret("", dir)
		}
		return nil, false, err
	}
	return []byte(s), true, nil
}

// Derive returns the 32-byte key for purpose, derived from the server
// secret by HKDF-SHA256.
func Derive(secret []byte, purpose string) []byte {
	k, err := hkdf.Key(sha256.New, secret, nil, purpose, 32)
	if err != nil {
		panic("auth: hkdf: " + err.Error()) // only for lengths out of range
	}
	return k
}

// KeyPrefix begins every key the gateway generates.
const KeyPrefix = "sk-llmgw-"

// DisplayPrefixLen is how many characters of a key are kept in clear (the
// store's Key.Prefix) so that people can tell keys apart: "sk-llmgw-"
// and four characters of the random part, 24 bits of 256.
const DisplayPrefixLen = len(KeyPrefix) + 4

// NewKeySecret generates a virtual key, "sk-llmgw-" followed by 32 random
// bytes in base64url, and returns it with its display prefix.
func NewKeySecret() (key, prefix string) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		panic("auth: crypto/rand failed: " + err.Error())
	}
	key = KeyPrefix + base64.RawURLEncoding.EncodeToString(raw)
	return key, key[:DisplayPrefixLen]
}

// DisplayPrefix returns the part of a presented credential safe to log or
// record: the display prefix of a key shaped like the gateway's, else
// nothing but its length class. It never returns more than a generated
// key's prefix reveals.
func DisplayPrefix(key string) string {
	if strings.HasPrefix(key, KeyPrefix) && len(key) >= DisplayPrefixLen {
		p := key[:DisplayPrefixLen]
		for _, c := range p[len(KeyPrefix):] {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return KeyPrefix + "?"
			}
		}
		return p
	}
	if key == "" {
		return ""
	}
	return "other"
}

// Hasher computes the keyed hash (HMAC-SHA256) keys are stored and looked
// up by. It is safe for concurrent use and allocates nothing per hash in
// steady state.
type Hasher struct {
	key  []byte
	macs sync.Pool // of *mac
}

// mac is a reusable keyed hash with a buffer for the key's bytes.
type mac struct {
	h   hash.Hash
	buf []byte
	sum []byte
}

// NewHasher returns a Hasher keyed with key (Derive(secret,
// PurposeKeyHash) for virtual keys).
func NewHasher(key []byte) *Hasher {
	return &Hasher{key: append([]byte(nil), key...)}
}

// Sum returns the keyed hash of s.
func (hs *Hasher) Sum(s string) [sha256.Size]byte {
	m, _ := hs.macs.Get().(*mac)
	if m == nil {
		m = &mac{h: hmac.New(sha256.New, hs.key)}
	}
	m.h.Reset()
	m.buf = append(m.buf[:0], s...)
	m.h.Write(m.buf)
	m.sum = m.h.Sum(m.sum[:0])
	var out [sha256.Size]byte
	copy(out[:], m.sum)
	if cap(m.buf) <= maxPooledKey {
		clear(m.buf) // the pool keeps no key material
		hs.macs.Put(m)
	}
	return out
}

// maxPooledKey bounds the key buffer a pooled hash keeps: a client sending
// a huge bogus key should not pin its size.
const maxPooledKey = 512
