package config

import (
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Auth holds the ways callers authenticate besides static keys.
type Auth struct {
	// JWT accepts JSON Web Tokens issued by identity providers (OIDC) as
	// bearer credentials on /v1/*, beside the static keys.
	JWT JWTAuth `yaml:"jwt,omitempty" json:"jwt,omitzero"`
}

// JWTAuth configures JWT bearer authentication.
type JWTAuth struct {
	// Issuers lists the identity providers whose tokens are accepted. A
	// token is matched to an issuer by its "iss" claim and verified with
	// that issuer's published keys (JWKS). Once any issuer is listed,
	// every request to /v1/* must carry a valid key or token, as when a
	// static key exists.
	Issuers []JWTIssuer `yaml:"issuers,omitempty" json:"issuers,omitempty"`
}

// JWT defaults and bounds.
const (
	// DefaultJWTClockSkew is the clock skew allowed on exp, nbf and iat.
	DefaultJWTClockSkew = 60 * time.Second
	// MaxJWTClockSkew bounds clock_skew: a larger one would keep expired
	// tokens alive.
	MaxJWTClockSkew = 5 * time.Minute
)

// DefaultJWTAlgorithms are the signature algorithms accepted when an
// issuer lists none.
var DefaultJWTAlgorithms = []string{"RS256", "ES256"}

// jwtAlgorithms are the algorithms an issuer may allow: the asymmetric ones,
// whose public keys a JWKS publishes. "none" and the HMAC algorithms (HS*)
// are refused: a JWKS holds no shared secret, and accepting HS256 is how a
// token signed with the public key as secret would pass.
var jwtAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// JWTIssuer is one identity provider whose tokens are accepted.
type JWTIssuer struct {
	// Issuer is the issuer URL, exactly as the tokens' "iss" claim holds
	// it (such as "https://login.example.com/realms/main"). Required and
	// unique. Unless jwks_url is set, the signing keys are found through
	// OIDC discovery at {issuer}/.well-known/openid-configuration. It must
	// be https, except on a loopback host.
	Issuer string `yaml:"issuer" json:"issuer"`
	// JWKSURL is the URL of the issuer's JSON Web Key Set. When set, no
	// discovery is done. It must be https, except on a loopback host.
	JWKSURL string `yaml:"jwks_url,omitempty" json:"jwks_url,omitempty"`
	// Audiences lists the accepted "aud" values: a token must name at
	// least one of them. Required, at least one.
	Audiences []string `yaml:"audiences" json:"audiences"`
	// Algorithms lists the accepted signature algorithms, among RS256,
	// RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512 and EdDSA.
	// Default [RS256, ES256]. "none" and HS* are refused.
	Algorithms []string `yaml:"algorithms,omitempty" json:"algorithms,omitempty"`
	// ClockSkew is the clock difference tolerated when checking exp, nbf
	// and iat. Default "60s", at most "5m".
	ClockSkew Duration `yaml:"clock_skew,omitempty" json:"clock_skew,omitempty"`
	// TenantClaim names the claim holding the caller's tenant, such as
	// "org_id"; a dotted path ("org.id") reaches into nested objects. A
	// claim whose full name contains dots is found by that name first.
	// Empty: tokens carry no tenant.
	TenantClaim string `yaml:"tenant_claim,omitempty" json:"tenant_claim,omitempty"`
	// TeamClaim names the claim holding the caller's team, like
	// tenant_claim. Empty: tokens carry no team.
	TeamClaim string `yaml:"team_claim,omitempty" json:"team_claim,omitempty"`
	// ModelsClaim names the claim holding the list of model names the
	// caller may use ("openai/*" allows a whole prefix), like
	// tenant_claim. When it is set, a token without that claim may use no
	// model, and a claim that is not a list of strings makes the token
	// invalid. Empty: every token of this issuer may use every model.
	ModelsClaim string `yaml:"models_claim,omitempty" json:"models_claim,omitempty"`
}

// applyDefaults fills the unset settings of each issuer.
func (a *Auth) applyDefaults() {
	for i := range a.JWT.Issuers {
		is := &a.JWT.Issuers[i]
		if is.Algorithms == nil {
			is.Algorithms = slices.Clone(DefaultJWTAlgorithms)
		}
		setDefault(&is.ClockSkew, Duration(DefaultJWTClockSkew))
	}
}

// clone returns a deep copy of a.
func (a Auth) clone() Auth {
	a.JWT.Issuers = cloneSlice(a.JWT.Issuers)
	for i := range a.JWT.Issuers {
		is := &a.JWT.Issuers[i]
		is.Audiences = cloneSlice(is.Audiences)
		is.Algorithms = cloneSlice(is.Algorithms)
	}
	return a
}

// validate records every problem of the auth section.
func (a *Auth) validate(p *problems) {
	seen := make(map[string]int, len(a.JWT.Issuers))
	for i := range a.JWT.Issuers {
		a.JWT.Issuers[i].validate(p, indexPath("auth.jwt.issuers", i), seen, i)
	}
}

func (is *JWTIssuer) validate(p *problems, path string, seen map[string]int, i int) {
	if is.Issuer == "" {
		p.add(fieldPath(path, "issuer"), "required")
	} else {
		if j, dup := seen[is.Issuer]; dup {
			p.add(fieldPath(path, "issuer"), "duplicate issuer %q (also at index %d)", is.Issuer, j)
		} else {
			seen[is.Issuer] = i
		}
		if msg := checkFetchURL(is.Issuer); msg != "" {
			p.add(fieldPath(path, "issuer"), "%s", msg)
		}
	}
	if is.JWKSURL != "" {
		if msg := checkFetchURL(is.JWKSURL); msg != "" {
			p.add(fieldPath(path, "jwks_url"), "%s", msg)
		}
	}
	if len(is.Audiences) == 0 {
		p.add(fieldPath(path, "audiences"), "required: list at least one accepted audience")
	}
	for j, aud := range is.Audiences {
		if strings.TrimSpace(aud) == "" {
			p.add(indexPath(fieldPath(path, "audiences"), j), "must not be empty")
		}
	}
	if is.Algorithms != nil && len(is.Algorithms) == 0 {
		p.add(fieldPath(path, "algorithms"), "must list at least one algorithm (leave it out for RS256 and ES256)")
	}
	for j, alg := range is.Algorithms {
		ap := indexPath(fieldPath(path, "algorithms"), j)
		switch {
		case strings.EqualFold(alg, "none"):
			p.add(ap, `"none" is never accepted: tokens must be signed`)
		case strings.HasPrefix(strings.ToUpper(alg), "HS"):
			p.add(ap, "%q is refused: HMAC keys are shared secrets, which a JWKS does not publish", alg)
		case !slices.Contains(jwtAlgorithms, alg):
			p.add(ap, "unknown algorithm %q (want one of %s)", alg, strings.Join(jwtAlgorithms, ", "))
		}
	}
	switch {
	case is.ClockSkew < 0:
		p.add(fieldPath(path, "clock_skew"), "must not be negative")
	case is.ClockSkew.Std() > MaxJWTClockSkew:
		p.add(fieldPath(path, "clock_skew"), "must be at most %s", MaxJWTClockSkew)
	}
	for _, c := range [...]struct{ name, claim string }{{"tenant_claim", is.TenantClaim}, {"team_claim", is.TeamClaim}, {"models_claim", is.ModelsClaim}} {
		name, claim := c.name, c.claim
		if claim != "" && (strings.TrimSpace(claim) != claim || slices.Contains(strings.Split(claim, "."), "")) {
			p.add(fieldPath(path, name), "invalid claim name %q", claim)
		}
	}
}

// checkFetchURL checks a URL the gateway fetches keys from: absolute, https
// unless on a loopback host, no credentials, query or fragment. It returns
// the problem, or "".
func checkFetchURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "want an absolute https URL"
	}
	if u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
		return "must be https (plain http only on a loopback host)"
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "must not hold credentials, a query or a fragment"
	}
	return ""
}

// isLoopbackHost reports whether host names the local machine.
func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
