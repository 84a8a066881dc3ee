package identity_test

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/auth"
	"github.com/llmgw/llmgw/internal/identity"
	"github.com/llmgw/llmgw/internal/store"
	"github.com/llmgw/llmgw/internal/store/pgtest"
)

// A known key is read from the store once, then served from memory, with
// everything the data plane needs and none of its hashes.
func TestLookupCachesKnownKey(t *testing.T) {
	each(t, func(t *testing.T, s store.Store) {
		f := newFixture(t, s, identity.Options{})
		secret, k := f.key(store.Key{Name: "ci", TeamID: f.team.ID, Models: []string{"gpt-4o-mini", "openai/*"},
			Labels: map[string]string{"env": "prod"}})
		f.sync()
		for range 100 {
			f.mustLookup(secret)
		}
		if n := f.c.lookups.Load(); n != 1 {
			t.Errorf("100 lookups of one key reached the store %d times, want 1", n)
		}
		id := f.mustLookup(secret)
		if id.Key.ID != k.ID || id.Tenant != "acme" || id.Team != "search" || id.Key.Labels["env"] != "prod" {
			t.Errorf("identity %+v", id)
		}
		if id.Key.Hash != nil || id.Key.PrevHash != nil {
			t.Error("the identity carries the key's hashes")
		}
		p := id.Principal
		if p.KeyName != "ci" || p.Tenant != "acme" || p.Team != "search" || p.KeyID != k.ID || p.TenantID != f.tenant.ID {
			t.Errorf("principal %+v", p)
		}
		if !p.Allows("gpt-4o-mini") || !p.Allows("openai/gpt-4o") || p.Allows("claude") {
			t.Error("the principal's models are not the key's")
		}
	})
}

// randomKey returns a key shaped like a generated one that no store holds.
func randomKey() string {
	b := make([]byte, 32)
	rand.Read(b)
	return auth.KeyPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// A flood of random well-formed keys, each different, does not reach the
// store: the index of hashes answers for them.
func TestRandomKeysDoNotReachTheStore(t *testing.T) {
	each(t, func(t *testing.T, s store.Store) {
		f := newFixture(t, s, identity.Options{NegativeSize: 100})
		for range 3 {
			f.key(store.Key{})
		}
		f.sync()
		const bound = 10 // what a collision of 64-bit prefixes could cost, generously
		for range 10000 {
			f.wantUnknown(randomKey(), "random key")
		}
		if n := f.c.lookups.Load(); n > bound {
			t.Errorf("10,000 random keys made %d store lookups, want at most %d", n, bound)
		}
	})
}

// A refused key that is in the store (revoked, expired) is looked up once,
// then refused from the negative cache; the cache stays within its bound.
func TestNegativeCache(t *testing.T) {
	each(t, func(t *testing.T, s store.Store) {
		f := newFixture(t, s, identity.Options{NegativeSize: 8})
		var revoked []string
		for range 20 {
			secret, k := f.key(store.Key{})
			if _, err := s.Keys().Revoke(t.Context(), k.ID); err != nil {
				t.Fatal(err)
			}
			revoked = append(revoked, secret)
		}
		f.sync()
		for range 50 {
			f.wantUnknown(revoked[0], "revoked key")
		}
		if n := f.c.lookups.Load(); n != 1 {
			t.Errorf("50 lookups of a revoked key reached the store %d times, want 1", n)
		}
		// 20 distinct refused keys through a cache of 8: the first ones are
		// evicted and looked up again, the cache holding 8 at most.
		for _, k := range revoked {
			f.wantUnknown(k, "revoked key")
		}
		before := f.c.lookups.Load()
		f.wantUnknown(revoked[len(revoked)-1], "recent revoked key")
		if f.c.lookups.Load() != before {
			t.Error("the most recent refusal was not cached")
		}
		f.wantUnknown(revoked[0], "evicted revoked key")
		if f.c.lookups.Load() != before+1 {
			t.Error("the oldest refusal was not evicted from a full cache")
		}
		if n := identity.NegativeLen(f.d); n > 8 {
			t.Errorf("negative cache holds %d, bound 8", n)
		}
	})
}

// Anything not shaped like a generated key is refused without a lookup,
// and no part of it reaches the log beyond the display prefix.
func TestMalformedKeys(t *testing.T) {
	f := newFixture(t, openSQLite(t), identity.Options{})
	valid := randomKey()
	cases := map[string]string{
		"empty":        "",
		"prefix only":  auth.KeyPrefix,
		"short":        valid[:len(valid)-1],
		"long":         valid + "A",
		"10KB":         auth.KeyPrefix + strings.Repeat("A", 10<<10),
		"invalid utf8": auth.KeyPrefix + strings.Repeat("\xff", 43),
		"bad alphabet": auth.KeyPrefix + strings.Repeat("+", 43),
		"nul":          auth.KeyPrefix + strings.Repeat("\x00", 43),
		"other prefix": "sk-other-" + valid[len(auth.KeyPrefix):],
		"jwt":          "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
	}
	// Each is even in the store, as if written there by mistake: the
	// shape alone refuses it.
	i := 0
	for _, key := range cases {
		h := testHasher.Sum(key)
		i++
		if _, err := f.s.Keys().Create(t.Context(), store.Key{TenantID: f.tenant.ID, Name: fmt.Sprint("odd-", i),
			Hash: h[:], Prefix: "sk-llmgw-AAAA"}); err != nil {
			t.Fatal(err)
		}
	}
	f.sync()
	for name, key := range cases {
		f.wantUnknown(key, name)
	}
	if n := f.c.lookups.Load(); n != 0 {
		t.Errorf("malformed keys made %d store lookups", n)
	}
	f.wantUnknown(valid, "unknown")
	if strings.Contains(f.logs.String(), valid[len(auth.KeyPrefix)+4:]) {
		t.Errorf("the log holds more of a key than its display prefix:\n%s", f.logs.String())
	}
	if !strings.Contains(f.logs.String(), `"reason":"unknown"`) {
		t.Errorf("the reason of a refusal is not logged:\n%s", f.logs.String())
	}
}

// Errors: one value for every refusal, so a client cannot tell a revoked
// key from an unknown one.
func TestRefusalsAreOneError(t *testing.T) {
	f := newFixture(t, openSQLite(t), identity.Options{})
	revoked, rk := f.key(store.Key{})
	expired, _ := f.key(store.Key{ExpiresAt: f.clock.Now().Add(-time.Minute)})
	if _, err := f.s.Keys().Revoke(t.Context(), rk.ID); err != nil {
		t.Fatal(err)
	}
	f.sync()
	for _, k := range []string{revoked, expired, randomKey(), "x"} {
		if _, err := f.d.Lookup(t.Context(), k); err != identity.ErrUnknown {
			t.Errorf("Lookup = %v, want exactly ErrUnknown", err)
		}
	}
	for _, r := range []string{"revoked", "expired", "unknown"} {
		if !strings.Contains(f.logs.String(), `"reason":"`+r+`"`) {
			t.Errorf("reason %q not logged", r)
		}
	}
}

// Revocation, seen by Sync or by the follower's polling, refuses a cached
// key.
func TestRevocation(t *testing.T) {
	each(t, func(t *testing.T, s store.Store) {
		f := newFixture(t, s, identity.Options{})
		secret, k := f.key(store.Key{})
		f.sync()
		f.mustLookup(secret)
		if _, err := s.Keys().Revoke(t.Context(), k.ID); err != nil {
			t.Fatal(err)
		}
		f.mustLookup(secret) // cached until the change is applied
		f.sync()
		f.wantUnknown(secret, "revoked key after Sync")
	})
}

// changeBound bounds the wait for a change to reach a directory: far
// above what polling every 50 ms or a NOTIFY takes, so that a loaded
// machine does not fail the tests, and far below what the alternative
// (no poll, or an hour's) would take, so that they still show the
// mechanism at work.
const changeBound = 10 * time.Second

// The follower polls on its own: a revocation by another writer is
// applied within the poll interval, with no Sync.
func TestFollowerPolls(t *testing.T) {
	each(t, func(t *testing.T, s store.Store) {
		f := newFixture(t, s, identity.Options{PollInterval: 50 * time.Millisecond})
		secret, k := f.key(store.Key{})
		waitFor(t, changeBound, "the new key to work", func() bool {
			_, err := f.d.Lookup(t.Context(), secret)
			return err == nil
		})
		if _, err := s.Keys().Revoke(t.Context(), k.ID); err != nil {
			t.Fatal(err)
		}
		waitFor(t, changeBound, "the revoked key to be refused", func() bool {
			_, err := f.d.Lookup(t.Context(), secret)
			return errors.Is(err, identity.ErrUnknown)
		})
	})
}

// waitFor polls cond until it holds or within passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("waited %v for %s", within, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

// A key created after its hash was refused works once the change is
// applied: the change drops the refusal.
func TestCreatedAfterRefusal(t *testing.T) {
	each(t, func(t *testing.T, s store.Store) {
		f := newFixture(t, s, identity.Options{})
		secret, k := f.key(store.Key{Name: "first"})
		f.sync()
		if _, err := s.Keys().Revoke(t.Context(), k.ID); err != nil {
			t.Fatal(err)
		}
		f.sync()
		f.wantUnknown(secret, "revoked")
		// The same secret comes back as another key's (deleted, then
		// created again): the refusal cached for its hash must go.
		if err := s.Keys().Delete(t.Context(), k.ID); err != nil {
			t.Fatal(err)
		}
		h := testHasher.Sum(secret)
		if _, err := s.Keys().Create(t.Context(), store.Key{TenantID: f.tenant.ID, Name: "second", Hash: h[:], Prefix: k.Prefix}); err != nil {
			t.Fatal(err)
		}
		f.sync()
		if id := f.mustLookup(secret); id.Key.Name != "second" {
			t.Errorf("key %q, want second", id.Key.Name)
		}
	})
}

// Expiry is checked at each lookup with the clock: a cached key stops
// working when it expires, without any change in the store.
func TestExpiry(t *testing.T) {
	f := newFixture(t, openSQLite(t), identity.Options{})
	secret, _ := f.key(store.Key{ExpiresAt: f.clock.Now().Add(time.Hour)})
	f.sync()
	f.mustLookup(secret)
	f.clock.Add(time.Hour)
	f.wantUnknown(secret, "expired key")
	if n := f.c.lookups.Load(); n != 1 {
		t.Errorf("store lookups %d, want 1", n)
	}
}

// Rotation: the new secret works at once, the old one until its grace
// ends (checked with the clock), and not at all after a second rotation.
func TestRotation(t *testing.T) {
	each(t, func(t *testing.T, s store.Store) {
		f := newFixture(t, s, identity.Options{})
		old, k := f.key(store.Key{})
		f.sync()
		f.mustLookup(old)
		rotate := func(grace time.Duration) string {
			secret, prefix := auth.NewKeySecret()
			h := testHasher.Sum(secret)
			if _, err := s.Keys().Rotate(t.Context(), k.ID, store.Rotation{Hash: h[:], Prefix: prefix,
				PrevValidUntil: time.Now().Add(grace)}); err != nil {
				t.Fatal(err)
			}
			f.sync()
			return secret
		}
		next := rotate(time.Hour)
		if f.mustLookup(next).Key.ID != k.ID || f.mustLookup(old).Key.ID != k.ID {
			t.Fatal("after rotation, the new and the old secret are not the key's")
		}
		f.clock.Add(time.Hour + time.Second)
		f.wantUnknown(old, "old secret after its grace")
		f.mustLookup(next)
		f.clock.Add(-time.Hour - time.Second)
		f.mustLookup(old)
		third := rotate(time.Hour)
		f.wantUnknown(old, "secret rotated out by a second rotation")
		f.mustLookup(next)
		f.mustLookup(third)
	})
}

// A store that does not answer: cached keys keep working, a key that is
// not cached is ErrUnavailable (not ErrUnknown), and the store's error
// text is logged, never returned.
func TestStoreDown(t *testing.T) {
	f := newFixture(t, openSQLite(t), identity.Options{})
	cached, _ := f.key(store.Key{})
	uncached, _ := f.key(store.Key{})
	f.sync()
	f.mustLookup(cached)
	f.c.down.Store(true)
	for range 10 {
		f.mustLookup(cached)
	}
	_, err := f.d.Lookup(t.Context(), uncached)
	if err != identity.ErrUnavailable {
		t.Fatalf("uncached key with the store down: %v, want exactly ErrUnavailable", err)
	}
	if strings.Count(f.logs.String(), "connection refused") != 1 {
		t.Errorf("the store's failure is not logged once:\n%s", f.logs.String())
	}
	f.c.down.Store(false)
	f.mustLookup(uncached)
}

// Concurrent lookups of one uncached key make one store lookup.
func TestSingleflight(t *testing.T) {
	f := newFixture(t, openSQLite(t), identity.Options{})
	secret, _ := f.key(store.Key{})
	f.sync()
	f.c.gate = make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.d.Lookup(t.Context(), secret)
			errs <- err
		}()
	}
	waitFor(t, 5*time.Second, "the first lookup", func() bool { return f.c.lookups.Load() == 1 })
	time.Sleep(50 * time.Millisecond) // let the others join it
	close(f.c.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := f.c.lookups.Load(); n != 1 {
		t.Errorf("50 concurrent lookups made %d store lookups, want 1", n)
	}
}

// Last-used times are written in one batch, not per request, and on
// Close.
func TestTouch(t *testing.T) {
	f := newFixture(t, openSQLite(t), identity.Options{})
	a, ka := f.key(store.Key{})
	b, kb := f.key(store.Key{})
	f.sync()
	for range 100 {
		f.mustLookup(a)
		f.mustLookup(b)
	}
	if n := f.c.touches.Load(); n != 0 {
		t.Errorf("%d touches before the flush", n)
	}
	if err := f.d.Close(); err != nil {
		t.Fatal(err)
	}
	if n := f.c.touches.Load(); n != 1 {
		t.Errorf("%d touches on Close, want 1", n)
	}
	for _, id := range []string{ka.ID, kb.ID} {
		k, err := f.s.Keys().Get(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if k.LastUsedAt.IsZero() || k.LastUsedAt.Sub(f.clock.Now()).Abs() > time.Second {
			t.Errorf("last used %v, want about %v", k.LastUsedAt, f.clock.Now())
		}
	}
}

// The flusher writes on its own every TouchInterval.
func TestTouchPeriodic(t *testing.T) {
	f := newFixture(t, openSQLite(t), identity.Options{TouchInterval: 20 * time.Millisecond})
	a, ka := f.key(store.Key{})
	f.sync()
	f.mustLookup(a)
	waitFor(t, 5*time.Second, "the last use to be written", func() bool {
		k, err := f.s.Keys().Get(t.Context(), ka.ID)
		return err == nil && !k.LastUsedAt.IsZero()
	})
}

// HasKeys follows the store: false when empty, true once a key exists,
// false again when the last one is deleted.
func TestHasKeys(t *testing.T) {
	each(t, func(t *testing.T, s store.Store) {
		f := newFixture(t, s, identity.Options{})
		if f.d.HasKeys() {
			t.Error("HasKeys with no key")
		}
		_, k := f.key(store.Key{})
		f.sync()
		if !f.d.HasKeys() {
			t.Error("no HasKeys after a key was created")
		}
		// A Directory opened on a store with keys knows at once.
		other, err := identity.Open(t.Context(), identity.Options{Store: s, Hasher: testHasher})
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		if !other.HasKeys() {
			t.Error("no HasKeys at Open on a store with a key")
		}
		if err := s.Keys().Delete(t.Context(), k.ID); err != nil {
			t.Fatal(err)
		}
		f.sync()
		if f.d.HasKeys() {
			t.Error("HasKeys after the last key was deleted")
		}
	})
}

// Renaming a tenant or a team renames it in the identities of cached
// keys, without handing out a changed copy of an identity already given.
func TestRenames(t *testing.T) {
	each(t, func(t *testing.T, s store.Store) {
		f := newFixture(t, s, identity.Options{})
		secret, _ := f.key(store.Key{TeamID: f.team.ID})
		f.sync()
		before := f.mustLookup(secret)
		tn, tm := "acme-corp", "research"
		if _, err := s.Tenants().Update(t.Context(), f.tenant.ID, store.TenantPatch{Name: &tn}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Teams().Update(t.Context(), f.tenant.ID, f.team.ID, store.TeamPatch{Name: &tm}); err != nil {
			t.Fatal(err)
		}
		f.sync()
		after := f.mustLookup(secret)
		if after.Tenant != tn || after.Principal.Tenant != tn || after.Team != tm || after.Principal.Team != tm {
			t.Errorf("after renames: %q/%q, principal %q/%q", after.Tenant, after.Team, after.Principal.Tenant, after.Principal.Team)
		}
		if before.Tenant != "acme" || before.Principal.Team != "search" {
			t.Error("an identity already handed out was changed")
		}
	})
}

// A nil Directory (no store) knows no key.
func TestNilDirectory(t *testing.T) {
	var d *identity.Directory
	if d.HasKeys() {
		t.Error("nil HasKeys")
	}
	if _, err := d.Lookup(t.Context(), randomKey()); err != identity.ErrUnknown {
		t.Error(err)
	}
	if d.Sync(t.Context()) != nil || d.Close() != nil {
		t.Error("nil Sync or Close failed")
	}
}

// With PostgreSQL's NOTIFY, a change by another process's store is
// applied at once, with polling far too slow to explain it.
func TestNotify(t *testing.T) {
	dsn := pgtest.FreshSchema(t)
	mine, theirs := openPostgresDSN(t, dsn), openPostgresDSN(t, dsn)
	f := newFixture(t, theirs, identity.Options{})
	f.d.Close()
	f.c = &counting{Store: mine}
	f.open(identity.Options{PollInterval: time.Hour, Notify: mine.Listen})
	secret, k := f.key(store.Key{})
	took := waitFor(t, changeBound, "the new key to work", func() bool {
		_, err := f.d.Lookup(t.Context(), secret)
		return err == nil
	})
	t.Logf("created: works after %v", took)
	if _, err := theirs.Keys().Revoke(t.Context(), k.ID); err != nil {
		t.Fatal(err)
	}
	took = waitFor(t, changeBound, "the revoked key to be refused", func() bool {
		_, err := f.d.Lookup(t.Context(), secret)
		return errors.Is(err, identity.ErrUnknown)
	})
	t.Logf("revoked: refused after %v", took)
}

// A key read from the store before a change to it was applied is not
// cached: the request that read it is served, the next one sees the
// change.
func TestNoStaleCacheAfterChange(t *testing.T) {
	f := newFixture(t, openSQLite(t), identity.Options{})
	secret, k := f.key(store.Key{})
	f.sync()
	f.c.gateAfter = make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := f.d.Lookup(t.Context(), secret)
		done <- err
	}()
	waitFor(t, 5*time.Second, "the lookup to read the key", func() bool { return f.c.lookups.Load() == 1 })
	if _, err := f.s.Keys().Revoke(t.Context(), k.ID); err != nil {
		t.Fatal(err)
	}
	f.sync()
	close(f.c.gateAfter)
	if err := <-done; err != nil {
		t.Fatalf("the lookup in flight: %v", err)
	}
	f.wantUnknown(secret, "revoked while a lookup was in flight")
}
