package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAuthJWTDefaults(t *testing.T) {
	cfg, err := Parse([]byte(minimal+`auth:
  jwt:
    issuers:
      - issuer: https://login.example.com
        audiences: [llmgw]
        models_claim: llm.models
`), nil)
	require.NoError(t, err)
	is := cfg.Auth.JWT.Issuers[0]
	assert.Equal(t, []string{"RS256", "ES256"}, is.Algorithms)
	assert.Equal(t, 60*time.Second, is.ClockSkew.Std())
	assert.Equal(t, "llm.models", is.ModelsClaim)
	// A redacted copy is deep: changing it leaves the original alone.
	red := cfg.Redacted()
	red.Auth.JWT.Issuers[0].Audiences[0] = "x"
	assert.Equal(t, "llmgw", cfg.Auth.JWT.Issuers[0].Audiences[0])
}

func TestAuthJWTValidation(t *testing.T) {
	tests := []struct {
		name, issuers string
		want          []string
	}{
		{"unknown field", `
      - issuer: https://a.example
        audiences: [x]
        bogus: 1`, []string{"auth.jwt.issuers[0].bogus"}},
		{"missing issuer and audiences", `
      - jwks_url: https://a.example/jwks`, []string{
			"auth.jwt.issuers[0].issuer: required",
			"auth.jwt.issuers[0].audiences: required: list at least one accepted audience"}},
		{"bad algorithms", `
      - issuer: https://a.example
        audiences: [x]
        algorithms: [none, HS256, hs512, RS999, RS256]`, []string{
			`auth.jwt.issuers[0].algorithms[0]: "none" is never accepted: tokens must be signed`,
			`auth.jwt.issuers[0].algorithms[1]: "HS256" is refused: HMAC keys are shared secrets, which a JWKS does not publish`,
			`auth.jwt.issuers[0].algorithms[2]: "hs512" is refused: HMAC keys are shared secrets, which a JWKS does not publish`,
			`auth.jwt.issuers[0].algorithms[3]: unknown algorithm "RS999"`}},
		{"empty algorithms", `
      - issuer: https://a.example
        audiences: [x]
        algorithms: []`, []string{"auth.jwt.issuers[0].algorithms: must list at least one algorithm"}},
		{"skew too large", `
      - issuer: https://a.example
        audiences: [x]
        clock_skew: 10m`, []string{"auth.jwt.issuers[0].clock_skew: must be at most 5m0s"}},
		{"negative skew", `
      - issuer: https://a.example
        audiences: [x]
        clock_skew: -1s`, []string{"auth.jwt.issuers[0].clock_skew: must not be negative"}},
		{"plain http off loopback", `
      - issuer: http://a.example
        jwks_url: ftp://a.example/k
        audiences: [x]`, []string{
			"auth.jwt.issuers[0].issuer: must be https (plain http only on a loopback host)",
			"auth.jwt.issuers[0].jwks_url: want an absolute https URL"}},
		{"credentials in URL", `
      - issuer: https://u:p@a.example
        audiences: [x]`, []string{"auth.jwt.issuers[0].issuer: must not hold credentials, a query or a fragment"}},
		{"duplicate issuer, empty audience, bad claim", `
      - issuer: https://a.example
        audiences: [x]
      - issuer: https://a.example
        audiences: [""]
        tenant_claim: "org..id"`, []string{
			`auth.jwt.issuers[1].issuer: duplicate issuer "https://a.example" (also at index 0)`,
			"auth.jwt.issuers[1].audiences[0]: must not be empty",
			`auth.jwt.issuers[1].tenant_claim: invalid claim name "org..id"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(minimal+"auth:\n  jwt:\n    issuers:"+tt.issuers+"\n"), nil)
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
	// Loopback may use plain http (local identity providers, tests).
	_, err := Parse([]byte(minimal+"auth:\n  jwt:\n    issuers:\n      - issuer: http://127.0.0.1:9000\n        audiences: [x]\n"), nil)
	require.NoError(t, err)
}
