package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"strings"

	"github.com/llmgw/llmgw/internal/budget"
	"github.com/llmgw/llmgw/internal/limits"
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/pipeline"
)

// Principal is an authenticated caller.
type Principal struct {
	// KeyName is the name of the virtual key used; empty when auth is off.
	KeyName string
	// Tenant is the tenant the key belongs to.
	Tenant string
	// Team is the caller's team: a JWT's team claim, or the name of the
	// team of a key created through the admin API; empty otherwise.
	Team string
	// KeyID is the store ID of a key created through the admin API; empty
	// for static keys and JWTs.
	KeyID string
	// TenantID is the store ID of the tenant of a key created through the
	// admin API; empty for static keys and JWTs.
	TenantID string
	// Limits are the key's own rate limits, TenantLimits its tenant's; a
	// zero field does not limit.
	Limits       limits.Limit
	TenantLimits limits.Limit
	// Budgets are the spending limits that hold for the caller's requests
	// (its key's, team's and tenant's), with their subjects; nil: none.
	Budgets []budget.Budget
	// MaxCostPico is the key's cost cap: the most, in picodollars, one
	// of its requests may be estimated to cost (max_cost_usd); 0: none.
	// A request's x-llmgw-max-cost-usd may lower it, never raise it.
	MaxCostPico int64
	// Labels are the labels of a key created through the admin API (nil
	// for static keys and JWTs), which routing rules may match; never
	// modified once the principal is built.
	Labels map[string]string
	// models is the set of allowed model names and patterns the allowed
	// wildcard prefixes (from names like "openai/*"); all is true when the
	// key names no list, and allows every model.
	models   map[string]struct{}
	patterns []string
	all      bool
}

// NewPrincipal returns the principal of a key named keyName of tenant,
// allowed models (nil: every model, empty: none; "prefix/*" allows every
// model under prefix).
func NewPrincipal(keyName, tenant string, models []string) *Principal {
	p := &Principal{KeyName: keyName, Tenant: tenant}
	p.setModels(models)
	return p
}

// AllModels reports whether the principal may use every model.
func (p *Principal) AllModels() bool { return p.all }

// Anonymous is the principal of requests when no key is configured.
var Anonymous = &Principal{all: true}

// RouteTenant returns the caller's tenant name, for routing rules.
func (p *Principal) RouteTenant() string { return p.Tenant }

// RouteKey returns a stable identity of the caller's key, the input of a
// routing rule's percent: the store ID of a stored key, else the key's
// name (a static key's, or a JWT's subject).
func (p *Principal) RouteKey() string {
	if p.KeyID != "" {
		return "id:" + p.KeyID
	}
	if p.KeyName != "" {
		return "name:" + p.KeyName
	}
	return ""
}

// RouteLabel returns the value of the key's label name, for routing
// rules.
func (p *Principal) RouteLabel(name string) (string, bool) {
	v, ok := p.Labels[name]
	return v, ok
}

// Allows reports whether the principal may use model.
func (p *Principal) Allows(model string) bool {
	if p.all {
		return true
	}
	if _, ok := p.models[model]; ok {
		return true
	}
	for _, prefix := range p.patterns {
		if strings.HasPrefix(model, prefix) && len(model) > len(prefix) {
			return true
		}
	}
	return false
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// Slot holds the principal of a request whose context is made before its
// caller is authenticated: a context made by WithSlot carries what Set
// stores, so authenticating needs no second context (nor a second copy of
// the http.Request).
type Slot struct{ p *Principal }

// Set stores p in the slot. It must happen before the context is used by
// another goroutine.
func (s *Slot) Set(p *Principal) { s.p = p }

// WithSlot returns ctx carrying s: FromContext returns the principal set in
// s, nil until one is.
func WithSlot(ctx context.Context, s *Slot) context.Context {
	return context.WithValue(ctx, principalKey{}, s)
}

// FromContext returns the request's principal, or nil.
func FromContext(ctx context.Context) *Principal {
	switch v := ctx.Value(principalKey{}).(type) {
	case *Principal:
		return v
	case *Slot:
		return v.p
	}
	return nil
}

// Key is a virtual key to install.
type Key struct {
	Name   string
	Secret string
	Tenant string
	// Models lists the allowed models: nil allows all, an empty list none.
	// A name ending in "/*" allows every model under that prefix.
	Models []string
	// Limits are the key's own rate limits; zero fields do not limit.
	Limits limits.Limit
	// Budget is the key's spending limit; a zero Limit does not limit.
	Budget budget.Budget
	// MaxCostPico is the key's cost cap per request in picodollars; 0:
	// none.
	MaxCostPico int64
}

type entry struct {
	hash      [sha256.Size]byte
	principal *Principal
}

// Keys is an immutable set of virtual keys held as keyed hashes.
type Keys struct {
	hasher *Hasher
	byHash map[[sha256.Size]byte]*entry
}

// NewKeys hashes keys under a fresh random secret. The plaintexts are not
// retained.
func NewKeys(keys []Key) *Keys {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		panic("auth: crypto/rand failed: " + err.Error())
	}
	ks := &Keys{hasher: NewHasher(secret), byHash: make(map[[sha256.Size]byte]*entry, len(keys))}
	for _, k := range keys {
		// Only an absent list allows everything: an empty one, written
		// by an operator as "models: []", allows nothing.
		p := &Principal{KeyName: k.Name, Tenant: k.Tenant, Limits: k.Limits, MaxCostPico: k.MaxCostPico, all: k.Models == nil}
		if k.Budget.Limit > 0 {
			b := k.Budget
			b.Subject = "key:" + k.Name
			p.Budgets = []budget.Budget{b}
		}
		p.setModels(k.Models)
		h := ks.hash(k.Secret)
		ks.byHash[h] = &entry{hash: h, principal: p}
	}
	return ks
}

// setModels restricts p to models, names or "prefix/*" patterns, unless
// models is nil.
func (p *Principal) setModels(models []string) {
	p.all = models == nil
	p.models = make(map[string]struct{}, len(models))
	for _, m := range models {
		if prefix, ok := strings.CutSuffix(m, "*"); ok && strings.HasSuffix(prefix, "/") {
			p.patterns = append(p.patterns, prefix)
			continue
		}
		p.models[m] = struct{}{}
	}
}

func (ks *Keys) hash(key string) [sha256.Size]byte { return ks.hasher.Sum(key) }

// Len returns the number of keys.
func (ks *Keys) Len() int { return len(ks.byHash) }

// Lookup returns the principal of key, or nil when it is not a known key.
func (ks *Keys) Lookup(key string) *Principal {
	if ks == nil || key == "" {
		return nil
	}
	h := ks.hash(key)
	e, ok := ks.byHash[h]
	if !ok || subtle.ConstantTimeCompare(e.hash[:], h[:]) != 1 {
		return nil
	}
	return e.principal
}

// Access returns the pipeline stage that rejects calls for models the
// caller's principal does not allow, and hands the principal on as the
// call's Caller, so later stages bound what they do by it without reading
// the context.
func Access() pipeline.Stage {
	return func(next pipeline.Invoke) pipeline.Invoke {
		return func(ctx context.Context, call *pipeline.Call) (llm.Stream, error) {
			p := FromContext(ctx)
			if p == nil {
				return nil, llm.NewError(llm.KindAuthentication, "missing or invalid API key")
			}
			if !p.Allows(call.Model) {
				return nil, llm.NewError(llm.KindPermission, "this key may not use model %q", llm.Clip(call.Model))
			}
			call.Caller = p
			return next(ctx, call)
		}
	}
}
