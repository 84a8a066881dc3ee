package auth_test

import (
	"context"
	"io"
	"net"
	"net/http"
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
			p, err := auth.Authenticate(r, tt.keys, j, nil)
			if tt.want == "" {
				wantInvalid(t, p, err, tt.name)
				return
			}
			if err != nil || !strings.HasPrefix(p.KeyName, tt.want) {
				t.Fatalf("got %+v, %v; want %s", p, err, tt.want)
			}
		})
	}
	if !auth.Required(nil, j, nil) || auth.Required(nil, nil, nil) {
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

// A hostile issuer (a huge or broken key set, a discovery document naming
// another issuer or a plain-http key set elsewhere) gets its tokens refused,
// and nothing worse.
func TestJWTHostileIssuer(t *testing.T) {
	for _, tt := range []struct {
		name, path string
		h          func(is *authtest.Issuer) func(w http.ResponseWriter, r *http.Request)
	}{
		// A valid key set behind 4 MiB of padding: refused, since no more
		// than MaxFetchBytes of it is read.
		{"huge key set", "/jwks", func(is *authtest.Issuer) func(w http.ResponseWriter, r *http.Request) {
			set := is.JWKS()
			return func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, `{"pad":"`)
				chunk := strings.Repeat("A", 64<<10)
				for range (auth.MaxFetchBytes / len(chunk)) * 4 {
					if _, err := io.WriteString(w, chunk); err != nil {
						return
					}
				}
				_, _ = io.WriteString(w, `",`)
				_, _ = w.Write(set[1:])
			}
		}},
		{"key set not JSON", "/jwks", func(*authtest.Issuer) func(w http.ResponseWriter, r *http.Request) {
			return func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "<html>") }
		}},
		{"discovery names another issuer", "/.well-known/openid-configuration", func(*authtest.Issuer) func(w http.ResponseWriter, r *http.Request) {
			return func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, `{"issuer":"https://evil.example","jwks_uri":"https://evil.example/jwks"}`)
			}
		}},
		{"discovery names a plain-http key set", "/.well-known/openid-configuration", func(is *authtest.Issuer) func(w http.ResponseWriter, r *http.Request) {
			return func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, `{"issuer":"`+is.URL+`","jwks_uri":"http://evil.example/jwks"}`)
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			is := authtest.New(t)
			is.Override(tt.path, tt.h(is))
			j := verifiers(t, auth.VerifierOptions{FetchTimeout: 5 * time.Second}).JWT([]auth.Issuer{issuerConf(is)})
			p, err := j.Verify(context.Background(), is.Sign("rsa-1", is.Claims("llmgw", "a")))
			wantInvalid(t, p, err, tt.name)
		})
	}
}

// A bearer credential of any shape gets a principal or a 401, never a panic.
func FuzzJWTVerify(f *testing.F) {
	is := authtest.New(f)
	v := auth.NewVerifiers(auth.VerifierOptions{FetchTimeout: time.Second})
	f.Cleanup(v.Close)
	j := v.JWT([]auth.Issuer{issuerConf(is)})
	f.Add(is.Sign("rsa-1", is.Claims("llmgw", "a")))
	f.Add(is.SignNone("rsa-1", is.Claims("llmgw", "a")))
	f.Add("eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOnt9fQ.AAAA")
	f.Add("e30.e30.e30")
	f.Fuzz(func(t *testing.T, tok string) {
		p, err := j.Verify(context.Background(), tok)
		if err != nil && llm.AsError(err).Kind != llm.KindAuthentication {
			t.Fatalf("err = %v", err)
		}
		if err == nil && p == nil {
			t.Fatal("no principal and no error")
		}
	})
}

// A key set is not fetched over plain http from a network host, even when
// the issuer's own URL redirects there.
func TestJWTRedirectToPlainHTTPRefused(t *testing.T) {
	var ip net.IP
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			ip = n.IP
			break
		}
	}
	if ip == nil {
		t.Skip("no network interface besides loopback")
	}
	is := authtest.New(t)
	ln, err := net.Listen("tcp", net.JoinHostPort(ip.String(), "0"))
	if err != nil {
		t.Skip(err)
	}
	far := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(is.JWKS())
	}))
	far.Listener.Close()
	far.Listener = ln
	far.Start()
	t.Cleanup(far.Close)
	is.Override("/jwks", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, far.URL+"/jwks", http.StatusFound)
	})
	j := verifiers(t, auth.VerifierOptions{}).JWT([]auth.Issuer{issuerConf(is)})
	p, err := j.Verify(context.Background(), is.Sign("rsa-1", is.Claims("llmgw", "a")))
	wantInvalid(t, p, err, "key set redirected to plain http on a network host")
}
