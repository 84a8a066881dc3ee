package catalog

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/llmgw/llmgw/internal/provider"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// lister is a scripted ModelLister: each fetch answers the next of its
// results (past the end, the last), optionally after release is closed.
type lister struct {
	key     string
	mu      sync.Mutex
	results []result
	calls   int
	release chan struct{}
}

type result struct {
	ids []string
	err error
}

func (l *lister) ModelsKey() string { return l.key }

func (l *lister) ListModels(ctx context.Context) ([]provider.ModelInfo, error) {
	l.mu.Lock()
	r := l.results[min(l.calls, len(l.results)-1)]
	l.calls++
	rel := l.release
	l.mu.Unlock()
	if rel != nil {
		select {
		case <-rel:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	out := make([]provider.ModelInfo, len(r.ids))
	for i, id := range r.ids {
		out[i] = provider.ModelInfo{ID: id}
	}
	return out, nil
}

func (l *lister) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.calls
}

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func ids(list []provider.ModelInfo) string {
	s := ""
	for _, m := range list {
		s += m.ID + ","
	}
	return s
}

// get looks l up and waits for its fetch, as a listing does.
func get(c *Cache, l provider.ModelLister) ([]provider.ModelInfo, bool) {
	return c.start(l).wait(context.Background())
}

func TestCacheFreshStaleAndFailed(t *testing.T) {
	clk := &clock{now: time.Unix(1_800_000_000, 0)}
	c := New(Options{Now: clk.Now, TTL: time.Minute, RetryAfter: 10 * time.Second})
	defer c.Close()
	boom := errors.New("boom")
	l := &lister{key: "k", results: []result{{ids: []string{"a"}}, {err: boom}, {ids: []string{"b"}}}}

	if list, ok := get(c, l); !ok || ids(list) != "a," || l.count() != 1 {
		t.Fatalf("first: %v %v after %d fetches", list, ok, l.count())
	}
	clk.advance(30 * time.Second)
	if list, _ := get(c, l); ids(list) != "a," || l.count() != 1 {
		t.Errorf("fresh list refetched: %v after %d fetches", list, l.count())
	}
	// Stale: served at once, refreshed behind; the refresh fails and the
	// old list stays.
	clk.advance(time.Minute)
	p := c.start(l)
	if list, _ := p.wait(context.Background()); ids(list) != "a," || p.done == nil {
		t.Errorf("stale list not served, or not refreshed: %v", list)
	}
	<-p.done
	// No new attempt before RetryAfter, then one that succeeds.
	clk.advance(5 * time.Second)
	if p := c.start(l); p.done != nil {
		<-p.done
		t.Error("a fetch within RetryAfter of a failure")
	}
	clk.advance(10 * time.Second)
	if p := c.start(l); p.done != nil {
		<-p.done
	}
	if list, _ := get(c, l); ids(list) != "b," {
		t.Errorf("refreshed list: %v", list)
	}
}

// A list never fetched makes its callers wait for one fetch, shared, and
// no longer than the timeout; a failure leaves them without a list.
func TestCacheFirstFetchSharedAndBounded(t *testing.T) {
	c := New(Options{Timeout: 200 * time.Millisecond})
	defer c.Close()
	l := &lister{key: "k", results: []result{{ids: []string{"a"}}}, release: make(chan struct{})}
	var wg sync.WaitGroup
	got := make([]string, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			list, ok := get(c, l)
			got[i] = fmt.Sprint(ids(list), ok)
		}()
	}
	wg.Wait() // the held fetch times out
	for i, g := range got {
		if g != "false" {
			t.Errorf("caller %d got %q, want no list", i, g)
		}
	}
	if n := l.count(); n != 1 {
		t.Errorf("%d fetches for 8 callers, want 1", n)
	}
}

// A caller whose request ends stops waiting; the fetch goes on for the
// next ones.
func TestCacheWaitEndsWithCaller(t *testing.T) {
	c := New(Options{})
	l := &lister{key: "k", results: []result{{ids: []string{"a"}}}, release: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := c.start(l)
	if _, ok := p.wait(ctx); ok {
		t.Error("a list without a fetch")
	}
	close(l.release)
	<-p.done
	if list, ok := get(c, l); !ok || ids(list) != "a," {
		t.Errorf("after the fetch: %v %v", list, ok)
	}
	c.Close()
}

// The cache keeps at most MaxEntries lists, the most recently used.
func TestCacheBoundedEntries(t *testing.T) {
	clk := &clock{now: time.Unix(1_800_000_000, 0)}
	c := New(Options{MaxEntries: 3, Now: clk.Now})
	defer c.Close()
	ls := make([]*lister, 5)
	for i := range ls {
		ls[i] = &lister{key: fmt.Sprint("k", i), results: []result{{ids: []string{"a"}}}}
		get(c, ls[i])
		clk.advance(time.Second)
		get(c, ls[0]) // kept in use
		clk.advance(time.Second)
	}
	if len(c.entries) != 3 || c.entries["k0"] == nil || c.entries["k4"] == nil || c.entries["k1"] != nil {
		t.Errorf("entries %v", c.entries)
	}
}

// Close stops a fetch under way and no fetch starts after it.
func TestCacheClose(t *testing.T) {
	c := New(Options{Timeout: time.Hour})
	l := &lister{key: "k", results: []result{{ids: []string{"a"}}}, release: make(chan struct{})}
	p := c.start(l)
	c.Close() // returns: the held fetch saw its context end
	if _, ok := p.wait(context.Background()); ok {
		t.Error("a list from a canceled fetch")
	}
	l2 := &lister{key: "k2", results: []result{{ids: []string{"a"}}}}
	if _, ok := get(c, l2); ok || l2.count() != 0 {
		t.Errorf("fetched after Close: %d", l2.count())
	}
}
