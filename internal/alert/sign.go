package alert

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
)

// SecretPrefix begins a Standard Webhooks symmetric secret.
const SecretPrefix = "whsec_"

// Bounds of a secret's key, in bytes, as the specification sets them.
const (
	MinSecretBytes = 24
	MaxSecretBytes = 64
)

// ErrSecret is the error of a secret that is not "whsec_" and the
// base64 of 24 to 64 bytes. It never quotes the secret.
var ErrSecret = errors.New(`alert: the webhook secret must be "whsec_" followed by the base64 of 24 to 64 random bytes`)

// ParseSecret returns the key of a secret "whsec_<base64>".
func ParseSecret(s string) ([]byte, error) {
	b64, ok := strings.CutPrefix(s, SecretPrefix)
	if !ok {
		return nil, ErrSecret
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(key) < MinSecretBytes || len(key) > MaxSecretBytes {
		return nil, ErrSecret
	}
	return key, nil
}

// Sign returns the webhook-signature header of a message: "v1," and the
// base64 HMAC-SHA256 under key of "id.timestamp.body", the timestamp in
// Unix seconds.
func Sign(key []byte, id string, timestamp int64, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write(strconv.AppendInt(nil, timestamp, 10))
	m.Write([]byte{'.'})
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}
