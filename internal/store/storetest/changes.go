package storetest

import (
	"bytes"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/store"
)

func testChangesSince(t *testing.T, s store.Store) {
	c := s.Changes()
	got, next, err := c.Since(ctx(t), 0, 0)
	if err != nil || len(got) != 0 || next != 0 {
		t.Fatalf("empty store: %v, next %d, %v", got, next, err)
	}
	tn := mustTenant(t, s, "acme")
	tm := mustTeam(t, s, tn.ID, "ops")
	k := mustKey(t, s, store.Key{TenantID: tn.ID, Name: "k", Hash: hashOf("h1")})
	mark, err := c.Head(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	all, next, err := c.Since(ctx(t), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || next != mark || all[2].Seq != mark {
		t.Fatalf("three writes: %+v, next %d, head %d", all, next, mark)
	}
	for i, want := range []struct {
		kind store.Kind
		id   string
	}{{store.KindTenant, tn.ID}, {store.KindTeam, tm.ID}, {store.KindKey, k.ID}} {
		if all[i].Kind != want.kind || all[i].ID != want.id {
			t.Fatalf("change %d: %+v, want %s %s", i, all[i], want.kind, want.id)
		}
		if i > 0 && all[i].Seq <= all[i-1].Seq {
			t.Fatalf("sequence numbers not increasing: %+v", all)
		}
	}
	checkHashes := func(what string, ch store.Change, want ...string) {
		t.Helper()
		var w [][]byte
		for _, h := range want {
			w = append(w, hashOf(h))
		}
		sortHashes(w)
		got := append([][]byte(nil), ch.Hashes...)
		sortHashes(got)
		if ch.Kind != store.KindKey || ch.ID != k.ID || !equalHashes(got, w) {
			t.Fatalf("%s: change %+v, want key %s with the hashes of %q", what, ch, k.ID, want)
		}
	}
	checkHashes("create", all[2], "h1")

	for _, h := range []string{"h2", "h3"} {
		if _, err := s.Keys().Rotate(ctx(t), k.ID, store.Rotation{Hash: hashOf(h), PrevValidUntil: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Keys().Revoke(ctx(t), k.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Keys().Delete(ctx(t), k.ID); err != nil {
		t.Fatal(err)
	}
	got, next, err = c.Since(ctx(t), mark, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || next != got[3].Seq || got[0].Seq <= mark {
		t.Fatalf("after two rotations, revoke, delete: %+v, next %d", got, next)
	}
	checkHashes("rotation", got[0], "h1", "h2")
	// The second rotation ends h1's grace early: a cache must drop it too.
	checkHashes("second rotation", got[1], "h1", "h2", "h3")
	checkHashes("revocation", got[2], "h2", "h3")
	checkHashes("deletion", got[3], "h3")
	// A tenant's change carries no hashes.
	if all[0].Hashes != nil {
		t.Fatalf("tenant change with hashes: %+v", all[0])
	}
	// Nothing new: the same cursor back.
	none, again, err := c.Since(ctx(t), next, 0)
	if err != nil || len(none) != 0 || again != next {
		t.Fatalf("nothing new: %+v, next %d (was %d), %v", none, again, next, err)
	}
	// A limit cuts the batch and the cursor follows it.
	part, pnext, err := c.Since(ctx(t), 0, 2)
	if err != nil || len(part) != 2 || pnext != part[1].Seq {
		t.Fatalf("limit 2: %+v, next %d, %v", part, pnext, err)
	}
	// Failed writes record nothing.
	head, _ := c.Head(ctx(t))
	if _, err := s.Tenants().Create(ctx(t), store.Tenant{Name: "acme"}); err == nil {
		t.Fatal("duplicate tenant created")
	}
	if h, _ := c.Head(ctx(t)); h != head {
		t.Fatalf("a refused write moved the head from %d to %d", head, h)
	}
}

// testChangesConcurrent has writers and a poller run at once: the poller,
// only ever asking for what came after the last number it saw, must end
// up with every change exactly once. A change numbered before one already
// seen but committed after it would be missed.
func testChangesConcurrent(t *testing.T, s store.Store) {
	tn := mustTenant(t, s, "acme")
	start, _ := s.Changes().Head(ctx(t))
	const writers, each = 4, 15
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				name := fmt.Sprintf("w%d-%d", w, i)
				_, err := s.Keys().Create(ctx(t), store.Key{TenantID: tn.ID, Name: name, Hash: hashOf(name)})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	seen := map[int64]bool{}
	after := start
	poll := func() {
		got, next, err := s.Changes().Since(ctx(t), after, 0)
		if err != nil {
			t.Error(err)
			return
		}
		for _, c := range got {
			if seen[c.Seq] {
				t.Errorf("change %d seen twice", c.Seq)
			}
			seen[c.Seq] = true
		}
		after = next
	}
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		poll()
	}
	poll()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	all, _, err := s.Changes().Since(ctx(t), start, store.MaxLimit)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != writers*each {
		t.Fatalf("%d changes recorded, want %d", len(all), writers*each)
	}
	for _, c := range all {
		if !seen[c.Seq] {
			t.Errorf("the poller missed change %d", c.Seq)
		}
	}
}

// testConcurrentUpdates has writers read-modify-write one key at once:
// none fails (a writer waits for another rather than erroring), and
// none loses another's change to a different field.
func testConcurrentUpdates(t *testing.T, s store.Store) {
	tn := mustTenant(t, s, "acme")
	k := mustKey(t, s, store.Key{TenantID: tn.ID, Name: "k"})
	const writers, each = 4, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				var err error
				if w == 0 {
					name := fmt.Sprintf("k-%d", i)
					_, err = s.Keys().Update(ctx(t), k.ID, store.KeyPatch{Name: &name})
				} else {
					labels := map[string]string{"w": fmt.Sprint(w), "i": fmt.Sprint(i)}
					_, err = s.Keys().Update(ctx(t), k.ID, store.KeyPatch{Labels: &labels})
				}
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent update: %v", err)
	}
	got, err := s.Keys().Get(ctx(t), k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != fmt.Sprintf("k-%d", each-1) || got.Labels["i"] != fmt.Sprint(each-1) {
		t.Fatalf("after concurrent updates: name %q labels %v", got.Name, got.Labels)
	}
}

func sortHashes(h [][]byte) {
	sort.Slice(h, func(i, j int) bool { return bytes.Compare(h[i], h[j]) < 0 })
}

func equalHashes(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
