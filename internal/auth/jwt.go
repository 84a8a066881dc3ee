package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"

	"github.com/llmgw/llmgw/internal/llm"
)

// Issuer is one identity provider whose tokens are accepted.
type Issuer struct {
	// Issuer is the exact "iss" of its tokens; keys are found by OIDC
	// discovery under it unless JWKSURL is set.
	Issuer  string
	JWKSURL string
	// Audiences are the accepted "aud" values (any one suffices).
	Audiences []string
	// Algorithms are the accepted signature algorithms.
	Algorithms []string
	// ClockSkew is tolerated on exp, nbf and iat.
	ClockSkew time.Duration
	// TenantClaim, TeamClaim and ModelsClaim name claims (dotted paths
	// allowed) mapped onto the principal; empty ones are not read.
	TenantClaim, TeamClaim, ModelsClaim string
}

// VerifierOptions tune the process's key fetching; zero values take the
// defaults.
type VerifierOptions struct {
	// FetchTimeout bounds each discovery or JWKS fetch, and so how long a
	// request may wait for keys. Default 5s.
	FetchTimeout time.Duration
	// RefreshInterval is how often each JWKS is fetched again in the
	// background. Default 1h.
	RefreshInterval time.Duration
	// UnknownKIDEvery is the least time between two fetches of one JWKS
	// caused by tokens with an unknown kid, and between two attempts at
	// discovery after a failure. Default 10s.
	UnknownKIDEvery time.Duration
	// Client fetches discovery documents and key sets; its bodies are
	// capped at MaxFetchBytes. Default a fresh client.
	Client *http.Client
	Logger *slog.Logger
}

// MaxFetchBytes caps a discovery document or key set read from an issuer.
const MaxFetchBytes = 1 << 20

// maxTokenLen bounds the bearer tokens parsed as JWTs.
const maxTokenLen = 16 << 10

// Verifiers holds the state of JWT verification that outlives a
// configuration: the fetched key sets and their refresh loops, one per
// issuer setting. It is created once per process and shared by every
// snapshot, so a reload neither drops the keys nor starts a second refresh
// loop for an unchanged issuer.
type Verifiers struct {
	opts   VerifierOptions
	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	sets   map[[2]string]*keySet
}

// NewVerifiers returns an empty process set; Close stops its refresh loops.
func NewVerifiers(opts VerifierOptions) *Verifiers {
	if opts.FetchTimeout <= 0 {
		opts.FetchTimeout = 5 * time.Second
	}
	if opts.RefreshInterval <= 0 {
		opts.RefreshInterval = time.Hour
	}
	if opts.UnknownKIDEvery <= 0 {
		opts.UnknownKIDEvery = 10 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	client := &http.Client{Timeout: opts.FetchTimeout}
	if opts.Client != nil {
		c := *opts.Client
		client = &c
	}
	if client.CheckRedirect == nil {
		// Keys fetched over plain http from a network host could be
		// anyone's: a redirect may not lead there either.
		client.CheckRedirect = func(r *http.Request, via []*http.Request) error {
			if len(via) >= 5 || !fetchableURL(r.URL.String()) {
				return errors.New("redirect refused")
			}
			return nil
		}
	}
	base := client.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	client.Transport = cappedTransport{base}
	opts.Client = client
	ctx, cancel := context.WithCancel(context.Background())
	return &Verifiers{opts: opts, ctx: ctx, cancel: cancel, sets: make(map[[2]string]*keySet)}
}

// Close stops every background refresh.
func (v *Verifiers) Close() { v.cancel() }

// JWT returns the verifier of one configuration's issuers, sharing key sets
// with every earlier configuration that named the same issuer and JWKS URL.
// It returns nil when issuers is empty.
func (v *Verifiers) JWT(issuers []Issuer) *JWT {
	if len(issuers) == 0 {
		return nil
	}
	j := &JWT{byIss: make(map[string]*issuer, len(issuers)), timeout: v.opts.FetchTimeout}
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, is := range issuers {
		id := [2]string{is.Issuer, is.JWKSURL}
		ks := v.sets[id]
		if ks == nil {
			ks = &keySet{v: v, issuer: is.Issuer, jwksURL: is.JWKSURL}
			v.sets[id] = ks
		}
		host := is.Issuer
		if u, err := url.Parse(is.Issuer); err == nil && u.Host != "" {
			host = u.Host
		}
		j.byIss[is.Issuer] = &issuer{conf: is, keys: ks, host: host, parser: jwt.NewParser(
			jwt.WithValidMethods(is.Algorithms),
			jwt.WithIssuer(is.Issuer),
			jwt.WithAudience(is.Audiences...),
			jwt.WithLeeway(is.ClockSkew),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
		)}
	}
	return j
}

// keySet is the JWKS of one issuer setting, fetched on first use.
type keySet struct {
	v               *Verifiers
	issuer, jwksURL string
	mu              sync.Mutex
	kf              keyfunc.Keyfunc
	lastTry         time.Time
	lastErr         error
}

// keyfunc returns the issuer's key lookup, discovering and fetching it on
// first use. A failed attempt is not retried for UnknownKIDEvery: until
// then, tokens of the issuer fail at once rather than each waiting on a
// fetch.
func (k *keySet) keyfunc() (keyfunc.Keyfunc, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.kf != nil {
		return k.kf, nil
	}
	if !k.lastTry.IsZero() && time.Since(k.lastTry) < k.v.opts.UnknownKIDEvery {
		return nil, k.lastErr
	}
	k.lastTry = time.Now()
	kf, err := k.build()
	if err != nil {
		k.lastErr = err
		k.v.opts.Logger.Warn("jwt: issuer keys unavailable", "issuer", llm.Clip(k.issuer), "error", llm.Clip(err.Error()))
		return nil, err
	}
	k.kf = kf
	return kf, nil
}

func (k *keySet) build() (keyfunc.Keyfunc, error) {
	o := &k.v.opts
	jwksURL := k.jwksURL
	if jwksURL == "" {
		ctx, cancel := context.WithTimeout(oidc.ClientContext(k.v.ctx, o.Client), o.FetchTimeout)
		defer cancel()
		p, err := oidc.NewProvider(ctx, k.issuer)
		if err != nil {
			return nil, fmt.Errorf("discovery: %w", err)
		}
		var doc struct {
			JWKSURI string `json:"jwks_uri"`
		}
		if err := p.Claims(&doc); err != nil {
			return nil, fmt.Errorf("discovery: %w", err)
		}
		if !fetchableURL(doc.JWKSURI) {
			return nil, errors.New("discovery: jwks_uri is not an https URL")
		}
		jwksURL = doc.JWKSURI
	}
	noErr := true // a JWKS down at first use is fetched again on demand
	return keyfunc.NewDefaultOverrideCtx(k.v.ctx, []string{jwksURL}, keyfunc.Override{
		Client:                    o.Client,
		HTTPTimeout:               o.FetchTimeout,
		NoErrorReturnFirstHTTPReq: &noErr,
		RateLimitWaitMax:          o.FetchTimeout,
		RefreshInterval:           o.RefreshInterval,
		RefreshUnknownKID:         rate.NewLimiter(rate.Every(o.UnknownKIDEvery), 1),
		RefreshErrorHandlerFunc: func(u string) func(context.Context, error) {
			return func(_ context.Context, err error) {
				o.Logger.Warn("jwt: key set fetch failed", "issuer", llm.Clip(k.issuer), "url", llm.Clip(u), "error", llm.Clip(err.Error()))
			}
		},
	})
}

// fetchableURL reports whether a discovered URL may be fetched: https, or
// http on a loopback host.
func fetchableURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return false
	}
	if u.Scheme == "https" {
		return true
	}
	if u.Scheme != "http" {
		return false
	}
	h := u.Hostname()
	ip := net.ParseIP(h)
	return h == "localhost" || (ip != nil && ip.IsLoopback())
}

// cappedTransport caps the bodies of responses at MaxFetchBytes: a key set
// or discovery document larger than that fails to parse.
type cappedTransport struct{ base http.RoundTripper }

func (t cappedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err == nil {
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.LimitReader(resp.Body, MaxFetchBytes), resp.Body}
	}
	return resp, err
}

// JWT verifies bearer tokens against one configuration's issuers.
type JWT struct {
	byIss   map[string]*issuer
	timeout time.Duration
}

type issuer struct {
	conf   Issuer
	keys   *keySet
	host   string
	parser *jwt.Parser
}

// Len returns the number of issuers; 0 for nil.
func (j *JWT) Len() int {
	if j == nil {
		return 0
	}
	return len(j.byIss)
}

// LooksLikeJWT reports whether s has the shape of a compact JWS: three
// non-empty base64url segments, of bounded length.
func LooksLikeJWT(s string) bool {
	if len(s) > maxTokenLen || strings.Count(s, ".") != 2 {
		return false
	}
	for seg := range strings.SplitSeq(s, ".") {
		if seg == "" {
			return false
		}
	}
	return strings.IndexFunc(s, func(r rune) bool {
		return !(r == '.' || r == '-' || r == '_' || r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)))
	}) < 0
}

// invalidToken is the error of every refused token. Its reason is one of a
// few fixed phrases: nothing of the token is repeated.
func invalidToken(reason string) error {
	return llm.NewError(llm.KindAuthentication, "invalid token: %s", reason)
}

// Verify checks token (signature by the issuer's key, alg, iss, aud, exp,
// nbf, iat) and returns its principal, or a 401 error. It waits on key
// fetches no longer than the fetch timeout.
func (j *JWT) Verify(ctx context.Context, token string) (*Principal, error) {
	if j.Len() == 0 || !LooksLikeJWT(token) {
		return nil, invalidToken("malformed")
	}
	var unverified jwt.MapClaims
	if _, _, err := jwt.NewParser().ParseUnverified(token, &unverified); err != nil {
		return nil, invalidToken("malformed")
	}
	iss, _ := unverified["iss"].(string)
	is := j.byIss[iss]
	if is == nil {
		return nil, invalidToken("unknown issuer")
	}
	kf, err := is.keys.keyfunc()
	if err != nil {
		return nil, invalidToken("the issuer's keys are unavailable")
	}
	ctx, cancel := context.WithTimeout(ctx, j.timeout)
	defer cancel()
	claims := jwt.MapClaims{}
	if _, err := is.parser.ParseWithClaims(token, claims, kf.KeyfuncCtx(ctx)); err != nil {
		return nil, invalidToken(reason(err))
	}
	return is.principal(claims)
}

// reason names what was wrong with a token, in a fixed phrase.
func reason(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "not yet valid"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "audience not accepted"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "unknown issuer"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "a required claim is missing"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "no key verifies it (unknown kid or algorithm not accepted)"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "bad signature"
	}
	return "refused"
}

// JWTKeyPrefix begins the key name of every JWT's principal
// ("jwt:<issuer host>:<subject>").
const JWTKeyPrefix = "jwt:"

// principal maps a verified token's claims onto a principal.
func (is *issuer) principal(claims jwt.MapClaims) (*Principal, error) {
	sub, _ := claims["sub"].(string)
	name := JWTKeyPrefix + is.host + ":" + sub
	p := &Principal{KeyName: llm.Clip(strings.Map(dropControl, name)), all: true}
	if c := is.conf.TenantClaim; c != "" {
		p.Tenant = llm.Clip(claimString(claims, c))
	}
	if c := is.conf.TeamClaim; c != "" {
		p.Team = llm.Clip(claimString(claims, c))
	}
	if c := is.conf.ModelsClaim; c != "" {
		models := []string{} // an absent claim allows no model
		if v, ok := claim(claims, c); ok {
			list, ok := v.([]any)
			if !ok {
				return nil, invalidToken("the models claim is not a list of names")
			}
			for _, m := range list {
				s, ok := m.(string)
				if !ok {
					return nil, invalidToken("the models claim is not a list of names")
				}
				models = append(models, s)
			}
		}
		p.setModels(models)
	}
	return p, nil
}

func dropControl(r rune) rune {
	if unicode.IsControl(r) {
		return -1
	}
	return r
}

// claim finds a claim by its full name, else by a dotted path into nested
// objects.
func claim(claims map[string]any, name string) (any, bool) {
	if v, ok := claims[name]; ok {
		return v, true
	}
	var cur any = claims
	for part := range strings.SplitSeq(name, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// claimString returns a string claim, "" when absent or not a string.
func claimString(claims map[string]any, name string) string {
	v, _ := claim(claims, name)
	s, _ := v.(string)
	return strings.Map(dropControl, s)
}
