package auth_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/auth"
	"github.com/llmgw/llmgw/internal/auth/authtest"
	"github.com/llmgw/llmgw/internal/llm"
)

// bound is how long a test waits for something that should happen at once:
// generous, for a loaded machine under -race.
const bound = 30 * time.Second

func verifiers(t *testing.T, o auth.VerifierOptions) *auth.Verifiers {
	v := auth.NewVerifiers(o)
	t.Cleanup(v.Close)
	return v
}

func issuerConf(is *authtest.Issuer) auth.Issuer {
	return auth.Issuer{Issuer: is.URL, Audiences: []string{"llmgw"}, Algorithms: []string{"RS256", "ES256"},
		ClockSkew: time.Minute, TenantClaim: "org.id", TeamClaim: "team", ModelsClaim: "llm_models"}
}

func wantInvalid(t *testing.T, p *auth.Principal, err error, what string) {
	t.Helper()
	if p != nil || err == nil || llm.AsError(err).Kind != llm.KindAuthentication {
		t.Fatalf("%s: got %+v, %v; want a 401", what, p, err)
	}
}

func TestJWTClaimsMapping(t *testing.T) {
	is := authtest.New(t)
	j := verifiers(t, auth.VerifierOptions{}).JWT([]auth.Issuer{issuerConf(is)})
	c := is.Claims("llmgw", "alice")
	c["org"] = map[string]any{"id": "acme"}
	c["team"] = "search"
	c["llm_models"] = []any{"mock", "openai/*"}
	p, err := j.Verify(context.Background(), is.Sign("ec-1", c))
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(is.URL, "http://")
	if p.KeyName != "jwt:"+host+":alice" || p.Tenant != "acme" || p.Team != "search" {
		t.Errorf("principal = %+v", p)
	}
	if !p.Allows("mock") || !p.Allows("openai/gpt-4o") || p.Allows("gpt") {
		t.Error("models claim not applied")
	}
	// A token without the configured models claim may use no model.
	delete(c, "llm_models")
	p, err = j.Verify(context.Background(), is.Sign("rsa-1", c))
	if err != nil || p.Allows("mock") {
		t.Fatalf("no models claim: %+v, %v; want a principal allowed nothing", p, err)
	}
	// A models claim of the wrong type makes the token invalid.
	c["llm_models"] = "mock"
	p, err = j.Verify(context.Background(), is.Sign("rsa-1", c))
	wantInvalid(t, p, err, "models claim as a string")
	// Without models_claim, every model.
	conf := issuerConf(is)
	conf.ModelsClaim = ""
	p, err = verifiers(t, auth.VerifierOptions{}).JWT([]auth.Issuer{conf}).Verify(context.Background(), is.Sign("rsa-1", c))
	if err != nil || !p.Allows("anything") {
		t.Fatalf("no models_claim: %+v, %v", p, err)
	}
}

// An issuer listing only RS256 refuses an ES256 token signed with a key it
// publishes.
func TestJWTAlgorithmsRestricted(t *testing.T) {
	is := authtest.New(t)
	conf := issuerConf(is)
	conf.Algorithms = []string{"RS256"}
	j := verifiers(t, auth.VerifierOptions{}).JWT([]auth.Issuer{conf})
	p, err := j.Verify(context.Background(), is.Sign("ec-1", is.Claims("llmgw", "a")))
	wantInvalid(t, p, err, "ES256 with only RS256 allowed")
	if _, err := j.Verify(context.Background(), is.Sign("rsa-1", is.Claims("llmgw", "a"))); err != nil {
		t.Fatalf("RS256: %v", err)
	}
}

// The issuer rotates its keys: a token with a new kid is accepted once the
// key set is fetched again (at once, on the unknown kid), and the old kid's
// tokens are refused once the issuer stops publishing it (at the next
// periodic refresh).
func TestJWTKeyRotation(t *testing.T) {
	is := authtest.New(t)
	j := verifiers(t, auth.VerifierOptions{RefreshInterval: 50 * time.Millisecond, UnknownKIDEvery: 10 * time.Millisecond}).
		JWT([]auth.Issuer{issuerConf(is)})
	old := is.Sign("rsa-1", is.Claims("llmgw", "a"))
	if _, err := j.Verify(context.Background(), old); err != nil {
		t.Fatalf("old kid before rotation: %v", err)
	}
	is.AddRSA("rsa-2")
	is.Publish("rsa-1", "rsa-2")
	if _, err := j.Verify(context.Background(), is.Sign("rsa-2", is.Claims("llmgw", "a"))); err != nil {
		t.Fatalf("new kid after rotation: %v", err)
	}
	is.Publish("rsa-2")
	deadline := time.Now().Add(bound)
	for {
		p, err := j.Verify(context.Background(), old)
		if err != nil {
			wantInvalid(t, p, err, "old kid")
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the removed kid is still accepted")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := j.Verify(context.Background(), is.Sign("rsa-2", is.Claims("llmgw", "a"))); err != nil {
		t.Fatalf("new kid after the old one's removal: %v", err)
	}
}

// Tokens with unknown kids do not make the gateway fetch the key set again
// more than once per UnknownKIDEvery.
func TestJWTUnknownKIDRefreshRateLimited(t *testing.T) {
	is := authtest.New(t)
	j := verifiers(t, auth.VerifierOptions{FetchTimeout: 200 * time.Millisecond}).JWT([]auth.Issuer{issuerConf(is)})
	is.AddRSA("unpublished")
	for range 20 {
		p, err := j.Verify(context.Background(), is.Sign("unpublished", is.Claims("llmgw", "a")))
		wantInvalid(t, p, err, "unknown kid")
	}
	// One fetch at first use, one for the first unknown kid.
	if n := is.JWKSFetches.Load(); n > 2 {
		t.Errorf("key set fetched %d times for 20 tokens with an unknown kid, want at most 2", n)
	}
}

// An issuer that is down, or hangs, costs a request no more than the fetch
// timeout, and a 401; the issuer coming back is noticed.
func TestJWTIssuerDown(t *testing.T) {
	is := authtest.New(t)
	is.SetDown(true)
	j := verifiers(t, auth.VerifierOptions{FetchTimeout: 200 * time.Millisecond, UnknownKIDEvery: 10 * time.Millisecond}).
		JWT([]auth.Issuer{issuerConf(is)})
	tok := is.Sign("rsa-1", is.Claims("llmgw", "a"))
	p, err := j.Verify(context.Background(), tok)
	wantInvalid(t, p, err, "issuer down")
	is.SetDown(false)
	deadline := time.Now().Add(bound)
	for {
		if _, err := j.Verify(context.Background(), tok); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("issuer back up, tokens still refused")
		}
		time.Sleep(20 * time.Millisecond)
	}

	hung := authtest.New(t)
	hung.Hang()
	j = verifiers(t, auth.VerifierOptions{FetchTimeout: 200 * time.Millisecond}).JWT([]auth.Issuer{issuerConf(hung)})
	done := make(chan error, 1)
	go func() {
		_, err := j.Verify(context.Background(), hung.Sign("rsa-1", hung.Claims("llmgw", "a")))
		done <- err
	}()
	select {
	case err := <-done:
		if llm.AsError(err).Kind != llm.KindAuthentication {
			t.Fatalf("hung issuer: err = %v, want a 401", err)
		}
	case <-time.After(bound):
		t.Fatal("a hung issuer hangs the request")
	}
}

// Authenticate tries the static keys, then a JWT; with only issuers
// configured, a request without credentials is refused.
func TestAuthenticateWithJWT(t *testing.T) {
	is := authtest.New(t)
	j := verifiers(t, auth.VerifierOptions{}).JWT([]auth.Issuer{issuerConf(is)})
	keys := auth.NewKeys([]auth.Key{{Name: "static", Secret: "sk-static"}})
	tok := is.Sign("rsa-1", is.Claims("llmgw", "bob"))
	for _, tt := range []struct {
		name, header, value string
		keys                *auth.Keys
		want                string
	}{
		{"static key beside JWT", "Authorization", "Bearer sk-static", keys, "static"},
		{"JWT as bearer", "Authorization", "Bearer " + tok, keys, "jwt:"},
		{"JWT as x-api-key", "x-api-key", tok, nil, "jwt:"},
		{"no credentials", "", "", nil, ""},
		{"not a JWT", "Authorization", "Bearer sk-other", nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/v1/models", nil)
			if tt.header != "" {
				r.Header.Set(tt.header, tt.value)
			}
			p, err := auth.Authenticate(r, tt.keys, j)
			if tt.want == "" {
				wantInvalid(t, p, err, tt.name)
				return
			}
			if err != nil || !strings.HasPrefix(p.KeyName, tt.want) {
				t.Fatalf("got %+v, %v; want %s", p, err, tt.want)
			}
		})
	}
	if !auth.Required(nil, j) || auth.Required(nil, nil) {
		t.Error("Required does not count JWT issuers")
	}
}

func TestLooksLikeJWT(t *testing.T) {
	for s, want := range map[string]bool{
		"aaa.bbb.ccc": true, "a-_.b.c": true, "sk-abc": false, "a.b": false, "a..c": false,
		"a.b.c.d": false, "a.b.c=": false, "a.b.c d": false, strings.Repeat("a", 20000) + ".b.c": false,
	} {
		if got := auth.LooksLikeJWT(s); got != want {
			t.Errorf("LooksLikeJWT(%.20q) = %v", s, got)
		}
	}
}
