package replicas

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// rounds is how many keys each test creates and revokes.
const rounds = 5

// A key created in the store works on both replicas within a second, and
// once revoked is refused by both within a second: with NOTIFY, and by
// polling alone. The latencies, from the commit of the write to the first
// answer that shows it, are logged.
func TestKeyChangesReachEveryReplica(t *testing.T) {
	for _, mode := range []struct {
		name   string
		notify bool
	}{{"notify", true}, {"poll-only", false}} {
		t.Run(mode.name, func(t *testing.T) {
			db := newDatabase(t)
			// With no key at all, no key would be needed: one key first,
			// so that an unknown key is refused.
			db.key("anchor")
			a := start(t, config(t, db.dsn, mode.notify))
			b := start(t, config(t, db.dsn, mode.notify))
			for _, g := range []*gateway{a, b} {
				want := fmt.Sprintf(`"msg":"following key changes","notify":%t`, mode.notify)
				if !g.logged(want) {
					t.Fatalf("the replica does not say it follows changes with notify %t:\n%s", mode.notify, g.logs.String())
				}
			}
			// Warm-up: the first change after the replicas start also pays
			// for their first store queries on a loaded machine; it is
			// bounded generously and logged apart.
			key, id := db.key("warm-up")
			warmCreated := b.until(t, key, 200, 3*time.Second)
			a.until(t, key, 200, 3*time.Second)
			db.revoke(id)
			warmRevoked := b.until(t, key, 401, 3*time.Second)
			t.Logf("%s: warm-up: created after %v, revoked after %v", mode.name, warmCreated.Round(time.Millisecond/10), warmRevoked.Round(time.Millisecond/10))
			var created, revoked []time.Duration
			for i := range rounds {
				key, id := db.key("k" + string(rune('a'+i)))
				// The latency counts from the commit of the write.
				created = append(created, b.until(t, key, 200, time.Second))
				a.until(t, key, 200, time.Second)
				db.revoke(id)
				revoked = append(revoked, b.until(t, key, 401, time.Second))
				a.until(t, key, 401, time.Second)
			}
			t.Logf("%s: created key works on replica B after %s; revoked key refused by B after %s",
				mode.name, summary(created), summary(revoked))
			// Through replica A's admin API: A answers only once the change
			// is committed, and A itself applies it before answering.
			created, revoked = nil, nil
			for i := range rounds {
				key, id := a.createKey(t, "admin-k"+string(rune('a'+i)))
				if status, _ := a.get("/v1/models", key); status != 200 {
					t.Fatalf("replica A does not know the key it created: %d", status)
				}
				created = append(created, b.until(t, key, 200, time.Second))
				a.revokeKey(t, id)
				if status, _ := a.get("/v1/models", key); status != 401 {
					t.Fatalf("replica A still accepts the key it revoked: %d", status)
				}
				revoked = append(revoked, b.until(t, key, 401, time.Second))
			}
			t.Logf("%s: through A's admin API: created key works on B after %s; revoked key refused by B after %s",
				mode.name, summary(created), summary(revoked))
		})
	}
}

// summary gives the median and maximum of ds.
func summary(ds []time.Duration) string {
	s := slices.Clone(ds)
	slices.Sort(s)
	return "median " + s[len(s)/2].Round(time.Millisecond/10).String() + ", max " + s[len(s)-1].Round(time.Millisecond/10).String()
}
