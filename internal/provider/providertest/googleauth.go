package providertest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// GoogleServiceAccount is the email of the fake service account.
const GoogleServiceAccount = "llmgw-test@fake-project.iam.gserviceaccount.com"

// googleKeyID is the private_key_id of the fake service account.
const googleKeyID = "fake-key-1"

// GoogleAuth is a fake Google OAuth 2.0 token endpoint for service
// accounts, the JWT bearer flow (RFC 7523) as Google's
// https://oauth2.googleapis.com/token serves it: POST with grant_type
// urn:ietf:params:oauth:grant-type:jwt-bearer and an RS256 assertion
// whose header names the key (kid), whose iss is the account's email,
// aud the token URI and scope the scopes asked. It checks the signature
// with the key of the account it made (ServiceAccountJSON) and answers
// {"access_token": "ya29.fake-1", "expires_in": N, "token_type":
// "Bearer"}, then "ya29.fake-2", ...; a bad assertion gets Google's 400
// invalid_grant.
type GoogleAuth struct {
	// URL is the token URI, the service account's token_uri.
	URL    string
	Server *httptest.Server
	*issuer
}

var (
	googleKeyOnce sync.Once
	googleKey     *rsa.PrivateKey
)

// googleAccountKey returns the fake account's RSA key, made once per
// process: generating one takes long enough to matter in a suite that
// starts many fakes.
func googleAccountKey() *rsa.PrivateKey {
	googleKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		googleKey = k
	})
	return googleKey
}

// NewGoogleAuth starts a fake token endpoint, closed when the test ends.
// Tokens live expiresIn seconds.
func NewGoogleAuth(t testing.TB, expiresIn int) *GoogleAuth {
	g := &GoogleAuth{issuer: newIssuer("ya29.fake-", expiresIn)}
	g.Server = httptest.NewServer(http.HandlerFunc(g.serveHTTP))
	g.URL = g.Server.URL + "/token"
	t.Cleanup(g.Server.Close)
	return g
}

// ServiceAccountJSON returns a service account key file of project, as
// the Cloud console downloads it, whose token_uri is this fake.
func (g *GoogleAuth) ServiceAccountJSON(project string) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(googleAccountKey())
	if err != nil {
		panic(err)
	}
	b, _ := json.MarshalIndent(map[string]string{
		"type":                        "service_account",
		"project_id":                  project,
		"private_key_id":              googleKeyID,
		"private_key":                 string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":                GoogleServiceAccount,
		"client_id":                   "100000000000000000001",
		"auth_uri":                    "https://accounts.google.com/o/oauth2/auth",
		"token_uri":                   g.URL,
		"auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
		"universe_domain":             "googleapis.com",
	}, "", "  ")
	return b
}

func (g *GoogleAuth) serveHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if r.Method != http.MethodPost || r.URL.Path != "/token" {
		http.NotFound(w, r)
		return
	}
	_ = r.ParseForm()
	fail, ok := g.wait(r)
	if !ok {
		return
	}
	scope, valid := g.check(r.PostForm.Get("grant_type"), r.PostForm.Get("assertion"))
	if fail == 0 && !valid {
		fail = http.StatusBadRequest
	}
	if fail != 0 {
		w.WriteHeader(fail)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
		return
	}
	tok, exp := g.issue(scope)
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "expires_in": exp, "token_type": "Bearer"})
}

// check verifies a JWT bearer grant and returns the scope it asks.
func (g *GoogleAuth) check(grant, assertion string) (string, bool) {
	if grant != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		return "", false
	}
	claims := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(assertion, claims, func(t *jwt.Token) (any, error) {
		return &googleAccountKey().PublicKey, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithAudience(g.URL), jwt.WithIssuer(GoogleServiceAccount),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	if err != nil || tok.Header["kid"] != googleKeyID {
		return "", false
	}
	scope, _ := claims["scope"].(string)
	return scope, scope != ""
}
