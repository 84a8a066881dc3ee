package identity

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/llmgw/llmgw/internal/auth"
	"github.com/llmgw/llmgw/internal/budget"
	"github.com/llmgw/llmgw/internal/limits"
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/store"
)

// The errors of Lookup.
var (
	// ErrUnknown is every key that may not be used: malformed, unknown,
	// revoked, expired, or a previous secret whose rotation grace ended.
	// Which one it was is logged (at debug level), never told the client.
	ErrUnknown = errors.New("identity: unknown, revoked or expired key")
	// ErrUnavailable is a key that could not be checked because the store
	// did not answer. The store's own error is logged, not returned.
	ErrUnavailable = errors.New("identity: the key store is unavailable")
)

// Defaults of Options.
const (
	DefaultPollInterval  = 250 * time.Millisecond
	DefaultNegativeSize  = 10000
	DefaultNegativeTTL   = time.Minute
	DefaultMaxKeys       = 100000
	DefaultTouchInterval = 10 * time.Second
	DefaultLookupTimeout = 2 * time.Second
)

// Options configure a Directory; zero values take the defaults above.
type Options struct {
	// Store holds the keys; required.
	Store store.Store
	// Hasher computes the keyed hash keys are stored under; required.
	Hasher *auth.Hasher
	// Logger receives store failures and refused keys (debug); nil logs
	// nothing.
	Logger *slog.Logger
	// Notify, when set, calls its function with each change number the
	// store announces, until ctx ends (postgres' Store.Listen). It is
	// retried when it fails; nil: polling only.
	Notify func(ctx context.Context, fn func(seq int64)) error
	// PollInterval is how often changes are read whatever Notify says:
	// the bound on how long a change takes to apply without
	// notifications.
	PollInterval time.Duration
	// NegativeSize and NegativeTTL bound the cache of refused hashes.
	NegativeSize int
	NegativeTTL  time.Duration
	// MaxKeys bounds the cache of known keys.
	MaxKeys int
	// TouchInterval is how often last-used times are written.
	TouchInterval time.Duration
	// LookupTimeout bounds one store lookup of a key not cached.
	LookupTimeout time.Duration
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Identity is a key of the store that may be used now.
type Identity struct {
	// Key is the key as stored, without its hashes.
	Key store.Key
	// Tenant and Team are the names of the key's tenant and team ("" for
	// no team).
	Tenant, Team string
	// TenantLimits are the rate limits of the key's tenant, as of the
	// last change applied (the key's own are in Key.Limits).
	TenantLimits store.Limits
	// TeamBudget and TenantBudget are the budgets of the key's team and
	// tenant, as of the last change applied (the key's own is in
	// Key.Budget).
	TeamBudget, TenantBudget store.Budget
	// Principal is what the data plane authorizes with.
	Principal *auth.Principal
}

// entry is a cached key, under one of its hashes.
type entry struct {
	id *Identity
	// until ends a previous hash's rotation grace; zero for the current
	// hash.
	until time.Time
	// used is the last use not yet written (Unix nanoseconds), dirty
	// whether it is waiting to be.
	used  atomic.Int64
	dirty atomic.Bool
}

type hash = [sha256.Size]byte

// Directory resolves store keys. It is safe for concurrent use.
type Directory struct {
	opts   Options
	keys   store.Keys
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	flight singleflight.Group
	wake   chan struct{}

	mu      sync.RWMutex
	pos     map[hash]*entry
	neg     negCache
	index   map[uint64]struct{}
	tenants map[string]tenantInfo // tenant ID -> name and limits
	teams   map[string]teamInfo   // team ID -> name and budget
	pending map[string]int64      // key ID -> last use, of entries dropped before their flush
	// epoch counts the batches of changes applied: a lookup that began
	// before one is not cached.
	epoch uint64

	syncMu  sync.Mutex // one Sync at a time
	after   int64      // the last change applied (under syncMu)
	recheck bool       // HasKeys must be asked again (under syncMu)
	seen    atomic.Int64
	hasKeys atomic.Bool

	lastWarn  atomic.Int64
	closeOnce sync.Once
}

// Open loads what the Directory needs from o.Store (the change head and
// the index of hashes) and starts following changes. Close stops it.
func Open(ctx context.Context, o Options) (*Directory, error) {
	if o.Store == nil || o.Hasher == nil {
		return nil, errors.New("identity: Options.Store and Options.Hasher are required")
	}
	setDefault(&o.PollInterval, DefaultPollInterval)
	setDefault(&o.NegativeSize, DefaultNegativeSize)
	setDefault(&o.NegativeTTL, DefaultNegativeTTL)
	setDefault(&o.MaxKeys, DefaultMaxKeys)
	setDefault(&o.TouchInterval, DefaultTouchInterval)
	setDefault(&o.LookupTimeout, DefaultLookupTimeout)
	if o.Now == nil {
		o.Now = time.Now
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Directory{
		opts: o, keys: o.Store.Keys(), log: log,
		wake:    make(chan struct{}, 1),
		pos:     make(map[hash]*entry),
		neg:     newNegCache(o.NegativeSize, o.NegativeTTL),
		index:   make(map[uint64]struct{}),
		tenants: make(map[string]tenantInfo),
		teams:   make(map[string]teamInfo),
		pending: make(map[string]int64),
	}
	head, err := o.Store.Changes().Head(ctx)
	if err != nil {
		return nil, fmt.Errorf("identity: read the change head: %w", err)
	}
	d.after = head
	d.seen.Store(head)
	if err := d.loadIndex(ctx); err != nil {
		return nil, err
	}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	d.wg.Add(2)
	go d.follow()
	go d.flusher()
	if o.Notify != nil {
		d.wg.Add(1)
		go d.listen()
	}
	log.Info("following key changes", "notify", o.Notify != nil, "poll_interval", o.PollInterval.String())
	return d, nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// loadIndex pages through every key, adding its hashes to the index.
func (d *Directory) loadIndex(ctx context.Context) error {
	opts := store.ListOptions{Limit: store.MaxLimit}
	n := 0
	for {
		page, err := d.keys.List(ctx, store.KeyFilter{}, opts)
		if err != nil {
			return fmt.Errorf("identity: load the key index: %w", err)
		}
		d.mu.Lock()
		for i := range page.Items {
			d.indexAdd(page.Items[i].Hash)
			d.indexAdd(page.Items[i].PrevHash)
		}
		d.mu.Unlock()
		n += len(page.Items)
		if page.Next == "" {
			break
		}
		opts.Cursor = page.Next
	}
	d.hasKeys.Store(n > 0)
	return nil
}

// indexAdd adds h to the index; d.mu must be held for writing.
func (d *Directory) indexAdd(h []byte) {
	if len(h) >= 8 {
		d.index[binary.BigEndian.Uint64(h)] = struct{}{}
	}
}

// HasKeys reports whether the store holds any key (revoked ones
// included): then every data-plane request must authenticate.
func (d *Directory) HasKeys() bool { return d != nil && d.hasKeys.Load() }

// wellFormed reports whether key is shaped like a generated key:
// auth.KeyPrefix and the base64url of 32 bytes.
func wellFormed(key string) bool {
	const n = len(auth.KeyPrefix) + 43
	if len(key) != n || key[:len(auth.KeyPrefix)] != auth.KeyPrefix {
		return false
	}
	for i := len(auth.KeyPrefix); i < n; i++ {
		c := key[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// rejection is why a key was refused, for the log.
type rejection string

func (r rejection) Error() string { return string(r) }

// Lookup returns the identity of key, ErrUnknown when it may not be used,
// or ErrUnavailable when that could not be told for want of the store.
func (d *Directory) Lookup(ctx context.Context, key string) (*Identity, error) {
	if d == nil || !wellFormed(key) {
		return nil, ErrUnknown
	}
	h := d.opts.Hasher.Sum(key)
	now := d.opts.Now()
	d.mu.RLock()
	e := d.pos[h]
	var reason string
	if e == nil {
		if r, ok := d.neg.get(h, now); ok {
			reason = r
		} else if _, ok := d.index[binary.BigEndian.Uint64(h[:])]; !ok {
			reason = "unknown"
		}
	}
	d.mu.RUnlock()
	if reason != "" {
		return nil, d.refuse(ctx, key, reason)
	}
	if e == nil {
		var err error
		if e, err = d.fetch(ctx, h); err != nil {
			var r rejection
			if errors.As(err, &r) {
				return nil, d.refuse(ctx, key, string(r))
			}
			return nil, err
		}
	}
	return d.use(ctx, e, key, now)
}

// use checks a cached key's expiry and grace at now, and records the use.
func (d *Directory) use(ctx context.Context, e *entry, key string, now time.Time) (*Identity, error) {
	if !e.until.IsZero() && !now.Before(e.until) {
		return nil, d.refuse(ctx, key, "rotated out")
	}
	if exp := e.id.Key.ExpiresAt; !exp.IsZero() && !now.Before(exp) {
		return nil, d.refuse(ctx, key, "expired")
	}
	// A use within a second of the last recorded one is not recorded:
	// the hot path writes the shared entry once a second at most.
	if u := now.UnixNano(); u-e.used.Load() >= int64(time.Second) {
		e.used.Store(u)
		e.dirty.Store(true)
	}
	return e.id, nil
}

// refuse logs why key was refused, by its display prefix only, and
// returns ErrUnknown.
func (d *Directory) refuse(ctx context.Context, key, reason string) error {
	if d.log.Enabled(ctx, slog.LevelDebug) {
		d.log.LogAttrs(ctx, slog.LevelDebug, "store key refused",
			slog.String("key_prefix", auth.DisplayPrefix(key)), slog.String("reason", reason))
	}
	return ErrUnknown
}

// fetch asks the store for the key of h, once for all the callers that
// ask at the same time; a caller whose ctx ends stops waiting.
func (d *Directory) fetch(ctx context.Context, h hash) (*entry, error) {
	ch := d.flight.DoChan(string(h[:]), func() (any, error) { return d.load(h) })
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*entry), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// load reads the key of h from the store and caches the answer, unless a
// change was applied meanwhile.
func (d *Directory) load(h hash) (*entry, error) {
	d.mu.RLock()
	epoch := d.epoch
	d.mu.RUnlock()
	ctx, cancel := context.WithTimeout(d.ctx, d.opts.LookupTimeout)
	defer cancel()
	k, err := d.keys.GetByHash(ctx, h[:])
	if errors.Is(err, store.ErrNotFound) {
		d.remember(h, epoch, "unknown")
		return nil, rejection("unknown")
	}
	if err != nil {
		d.storeFailed("look up a key", err)
		return nil, ErrUnavailable
	}
	now := d.opts.Now()
	if !k.RevokedAt.IsZero() {
		d.remember(h, epoch, "revoked")
		return nil, rejection("revoked")
	}
	if !k.Usable(now) {
		d.remember(h, epoch, "expired")
		return nil, rejection("expired")
	}
	tenant, team, err := d.names(ctx, epoch, k.TenantID, k.TeamID)
	if err != nil {
		d.storeFailed("look up a key's tenant and team", err)
		return nil, ErrUnavailable
	}
	e := &entry{id: newIdentity(k, tenant, team)}
	if !bytes.Equal(h[:], k.Hash) {
		e.until = k.PrevValidUntil
	}
	d.mu.Lock()
	if d.epoch == epoch {
		if len(d.pos) >= d.opts.MaxKeys {
			for old := range d.pos {
				d.dropLocked(old)
				break
			}
		}
		d.pos[h] = e
	}
	d.mu.Unlock()
	return e, nil
}

// remember caches a refusal unless a change was applied since epoch.
func (d *Directory) remember(h hash, epoch uint64, reason string) {
	d.mu.Lock()
	if d.epoch == epoch {
		d.neg.add(h, reason, d.opts.Now())
	}
	d.mu.Unlock()
}

// tenantInfo is what the Directory caches of a tenant.
type tenantInfo struct {
	name   string
	limits store.Limits
	budget store.Budget
}

// teamInfo is what the Directory caches of a team.
type teamInfo struct {
	name   string
	budget store.Budget
}

// names returns the name and limits of a tenant and the name of a team,
// cached. What it read is cached only when no change was applied since
// epoch: it might predate that change.
func (d *Directory) names(ctx context.Context, epoch uint64, tenantID, teamID string) (tenant tenantInfo, team teamInfo, err error) {
	d.mu.RLock()
	tenant, okT := d.tenants[tenantID]
	team, okM := d.teams[teamID]
	d.mu.RUnlock()
	if teamID == "" {
		team, okM = teamInfo{}, true
	}
	if !okT {
		t, err := d.opts.Store.Tenants().Get(ctx, tenantID)
		if err != nil {
			return tenantInfo{}, teamInfo{}, err
		}
		tenant = tenantInfo{name: t.Name, limits: t.Limits, budget: t.Budget}
	}
	if !okM {
		t, err := d.opts.Store.Teams().Get(ctx, tenantID, teamID)
		if err != nil {
			return tenantInfo{}, teamInfo{}, err
		}
		team = teamInfo{name: t.Name, budget: t.Budget}
	}
	d.mu.Lock()
	if d.epoch == epoch {
		d.tenants[tenantID] = tenant
		if teamID != "" {
			d.teams[teamID] = team
		}
	}
	d.mu.Unlock()
	return tenant, team, nil
}

// newIdentity returns the identity of k, without its hashes.
func newIdentity(k store.Key, tenant tenantInfo, team teamInfo) *Identity {
	k.Hash, k.PrevHash = nil, nil
	p := auth.NewPrincipal(k.Name, tenant.name, k.Models)
	p.Team, p.KeyID, p.TenantID = team.name, k.ID, k.TenantID
	p.Limits, p.TenantLimits = limitOf(k.Limits), limitOf(tenant.limits)
	p.MaxCostPico = k.MaxCostPico
	p.Labels = k.Labels
	id := &Identity{Key: k, Tenant: tenant.name, Team: team.name, TenantLimits: tenant.limits,
		TeamBudget: team.budget, TenantBudget: tenant.budget, Principal: p}
	p.Budgets = budgetsOf(id)
	return id
}

// budgetsOf lists the budgets that hold for id's requests, with their
// subjects: its key's, its team's, its tenant's.
func budgetsOf(id *Identity) []budget.Budget {
	var out []budget.Budget
	add := func(kind, subjectID string, b store.Budget) {
		if !b.IsZero() && subjectID != "" {
			out = append(out, budget.Budget{Subject: kind + subjectID, Limit: b.LimitPico, Period: budget.Period(b.Period)})
		}
	}
	add("key:", id.Key.ID, id.Key.Budget)
	add("team:", id.Key.TeamID, id.TeamBudget)
	add("tenant:", id.Key.TenantID, id.TenantBudget)
	return out
}

// limitOf is the limiter's form of stored limits.
func limitOf(l store.Limits) limits.Limit {
	return limits.Limit{RPM: l.RPM, TPM: l.TPM, Concurrent: l.Concurrent}
}

// dropLocked removes h from both caches, keeping a use not yet written;
// d.mu must be held for writing.
func (d *Directory) dropLocked(h hash) {
	if e, ok := d.pos[h]; ok {
		if e.dirty.Load() {
			id := e.id.Key.ID
			d.pending[id] = max(d.pending[id], e.used.Load())
		}
		delete(d.pos, h)
	}
	d.neg.drop(h)
}

// storeFailed logs a store failure, at most once every 5 seconds: a
// store that is down for a while is one line, not one per request.
func (d *Directory) storeFailed(what string, err error) {
	now := time.Now().UnixNano()
	last := d.lastWarn.Load()
	if now-last < int64(5*time.Second) || !d.lastWarn.CompareAndSwap(last, now) {
		return
	}
	d.log.Warn("the key store did not answer", "doing", what, "err", err.Error())
}

// Close writes the last uses and stops the Directory's goroutines. It
// does not close the store, which is closed after it.
func (d *Directory) Close() error {
	if d == nil {
		return nil
	}
	var err error
	d.closeOnce.Do(func() {
		d.cancel()
		d.wg.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = d.flush(ctx)
	})
	return err
}

var _ auth.Directory = (*Directory)(nil)

// Ping reports whether the store answers, for readiness. A nil Directory
// (no store) always does.
func (d *Directory) Ping(ctx context.Context) error {
	if d == nil {
		return nil
	}
	return d.opts.Store.Ping(ctx)
}

// Principal implements auth.Directory for the data plane: the principal
// of a usable data-plane key; nil and no error for a key it does not
// know (another source may); a 403 for an admin key (one with a role);
// a 503 when the store could not be asked.
func (d *Directory) Principal(ctx context.Context, key string) (*auth.Principal, error) {
	id, err := d.Lookup(ctx, key)
	switch {
	case err == nil:
	case errors.Is(err, ErrUnknown):
		return nil, nil
	case errors.Is(err, ErrUnavailable):
		return nil, llm.Wrap(llm.KindUnavailable, err, "the gateway cannot check this key now: its store is unavailable; retry shortly")
	default:
		return nil, llm.AsError(err) // the client went away
	}
	if id.Key.Role != store.RoleNone {
		return nil, llm.NewError(llm.KindForbidden, "this is an admin key: it may use the admin API only")
	}
	return id.Principal, nil
}
