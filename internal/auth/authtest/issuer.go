// Package authtest serves an OIDC issuer in process, for tests: a discovery
// document, a JWKS that tests rotate, and tokens signed with real RSA and
// ECDSA keys.
package authtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Issuer is an OIDC issuer served by httptest.
type Issuer struct {
	// URL is the issuer URL, the "iss" of its tokens.
	URL string
	// JWKSFetches counts the requests for the key set.
	JWKSFetches atomic.Int64

	t         testing.TB
	srv       *httptest.Server
	mu        sync.Mutex
	keys      map[string]crypto.Signer
	published []string
	down      bool
	hanging   bool
	override  map[string]http.HandlerFunc
	hang      chan struct{}
}

// New starts an issuer with an RSA key "rsa-1" and a P-256 key "ec-1",
// both published.
func New(t testing.TB) *Issuer {
	t.Helper()
	is := &Issuer{t: t, keys: make(map[string]crypto.Signer), hang: make(chan struct{})}
	is.AddRSA("rsa-1")
	is.AddEC("ec-1")
	is.Publish("rsa-1", "ec-1")
	is.srv = httptest.NewServer(http.HandlerFunc(is.serve))
	is.URL = is.srv.URL
	t.Cleanup(func() {
		close(is.hang)
		is.srv.Close()
	})
	return is
}

// AddRSA makes a 2048-bit RSA key named kid, unpublished.
func (is *Issuer) AddRSA(kid string) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		is.t.Fatal(err)
	}
	is.mu.Lock()
	is.keys[kid] = k
	is.mu.Unlock()
}

// AddEC makes a P-256 key named kid, unpublished.
func (is *Issuer) AddEC(kid string) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		is.t.Fatal(err)
	}
	is.mu.Lock()
	is.keys[kid] = k
	is.mu.Unlock()
}

// Publish sets the key set to exactly the keys named.
func (is *Issuer) Publish(kids ...string) {
	is.mu.Lock()
	is.published = kids
	is.mu.Unlock()
}

// SetDown makes every request fail with 503 (or succeed again).
func (is *Issuer) SetDown(down bool) {
	is.mu.Lock()
	is.down = down
	is.mu.Unlock()
}

// Override serves path with h from now on ("/jwks",
// "/.well-known/openid-configuration").
func (is *Issuer) Override(path string, h http.HandlerFunc) {
	is.mu.Lock()
	defer is.mu.Unlock()
	if is.override == nil {
		is.override = make(map[string]http.HandlerFunc)
	}
	is.override[path] = h
}

// Hang makes every later request wait until the test ends.
func (is *Issuer) Hang() {
	is.mu.Lock()
	is.hanging = true
	is.mu.Unlock()
}

func (is *Issuer) serve(w http.ResponseWriter, r *http.Request) {
	is.mu.Lock()
	down, hanging, h := is.down, is.hanging, is.override[r.URL.Path]
	is.mu.Unlock()
	if h != nil {
		h(w, r)
		return
	}
	if hanging {
		select {
		case <-is.hang:
		case <-r.Context().Done():
		}
		return
	}
	if down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                is.URL,
			"jwks_uri":                              is.URL + "/jwks",
			"authorization_endpoint":                is.URL + "/authorize",
			"token_endpoint":                        is.URL + "/token",
			"id_token_signing_alg_values_supported": []string{"RS256", "ES256"},
		})
	case "/jwks":
		is.JWKSFetches.Add(1)
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": is.jwks()})
	default:
		http.NotFound(w, r)
	}
}

// JWKS returns the key set as served now.
func (is *Issuer) JWKS() []byte {
	b, err := json.Marshal(map[string]any{"keys": is.jwks()})
	if err != nil {
		is.t.Fatal(err)
	}
	return b
}

func (is *Issuer) jwks() []map[string]string {
	is.mu.Lock()
	defer is.mu.Unlock()
	b64 := base64.RawURLEncoding.EncodeToString
	var out []map[string]string
	for _, kid := range is.published {
		switch k := is.keys[kid].(type) {
		case *rsa.PrivateKey:
			out = append(out, map[string]string{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
				"n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())})
		case *ecdsa.PrivateKey:
			pub, err := k.PublicKey.Bytes() // 0x04 || X || Y
			if err != nil {
				is.t.Error(err)
				continue
			}
			out = append(out, map[string]string{"kty": "EC", "kid": kid, "use": "sig", "alg": "ES256", "crv": "P-256",
				"x": b64(pub[1:33]), "y": b64(pub[33:])})
		}
	}
	return out
}

// Claims returns valid claims for the issuer: aud, sub, iat and nbf now,
// exp in an hour.
func (is *Issuer) Claims(aud, sub string) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{"iss": is.URL, "aud": aud, "sub": sub,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix()}
}

// Sign signs claims with the key kid, RS256 for RSA keys and ES256 for EC
// keys, with kid in the header.
func (is *Issuer) Sign(kid string, claims jwt.MapClaims) string {
	is.mu.Lock()
	k := is.keys[kid]
	is.mu.Unlock()
	m := jwt.SigningMethod(jwt.SigningMethodRS256)
	if _, ok := k.(*ecdsa.PrivateKey); ok {
		m = jwt.SigningMethodES256
	}
	tok := jwt.NewWithClaims(m, claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(k)
	if err != nil {
		is.t.Fatal(err)
	}
	return s
}

// SignNone returns an unsigned token ("alg":"none") claiming kid.
func (is *Issuer) SignNone(kid string, claims jwt.MapClaims) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodNone, claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		is.t.Fatal(err)
	}
	return s
}

// SignHS256WithPublicKey returns the classic confusion attack: an HS256
// token whose HMAC secret is the PEM of the RSA key kid's public key.
func (is *Issuer) SignHS256WithPublicKey(kid string, claims jwt.MapClaims) string {
	is.mu.Lock()
	k := is.keys[kid].(*rsa.PrivateKey)
	is.mu.Unlock()
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		is.t.Fatal(err)
	}
	secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(secret)
	if err != nil {
		is.t.Fatal(err)
	}
	return s
}
