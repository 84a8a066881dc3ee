package catalog

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/llmgw/llmgw/internal/provider"
)

// Defaults of Options left at zero.
const (
	DefaultTTL        = 10 * time.Minute
	DefaultTimeout    = 5 * time.Second
	DefaultRetryAfter = 30 * time.Second
	DefaultMaxEntries = 64
)

// Options configure a Cache; zero fields take the defaults above.
type Options struct {
	// TTL is how long a fetched list is fresh.
	TTL time.Duration
	// Timeout bounds one fetch of a list, all its pages.
	Timeout time.Duration
	// RetryAfter is the least time between a failed fetch and the next.
	RetryAfter time.Duration
	// MaxEntries bounds the lists kept.
	MaxEntries int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives a warning per failed fetch; nil logs nothing.
	Logger *slog.Logger
}

// Cache keeps the model lists of upstreams. It is safe for concurrent use.
type Cache struct {
	o       Options
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	mu      sync.Mutex
	entries map[string]*entry
	closed  bool
}

// entry is one upstream's list.
type entry struct {
	models  []provider.ModelInfo
	fetched time.Time // of models; zero while none was ever fetched
	failed  time.Time // of the last failed fetch
	used    time.Time
	// fetching is closed when the fetch under way ends; nil when none is.
	fetching chan struct{}
}

// New returns an empty cache.
func New(o Options) *Cache {
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.RetryAfter <= 0 {
		o.RetryAfter = DefaultRetryAfter
	}
	if o.MaxEntries <= 0 {
		o.MaxEntries = DefaultMaxEntries
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Cache{o: o, ctx: ctx, cancel: cancel, entries: make(map[string]*entry)}
}

// Close cancels the fetches under way and waits for them to end. The cache
// still answers from what it holds, and fetches nothing more.
func (c *Cache) Close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
}

// pending is a list being looked up: the list at hand, or a fetch to wait
// for.
type pending struct {
	c    *Cache
	e    *entry
	have bool
	list []provider.ModelInfo
	done chan struct{}
}

// start looks l's list up, starting a fetch when it is stale or missing
// and none failed lately.
func (c *Cache) start(l provider.ModelLister) pending {
	key := l.ModelsKey()
	now := c.o.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[key]
	if e == nil {
		c.evict()
		e = &entry{}
		c.entries[key] = e
	}
	e.used = now
	p := pending{c: c, e: e, have: !e.fetched.IsZero(), list: e.models}
	if p.have && now.Sub(e.fetched) < c.o.TTL {
		return p
	}
	if e.fetching == nil && !c.closed && (e.failed.IsZero() || now.Sub(e.failed) >= c.o.RetryAfter) {
		e.fetching = make(chan struct{})
		c.wg.Add(1)
		go c.fetch(key, e, l)
	}
	p.done = e.fetching
	return p
}

// wait returns the list: the one at hand (fresh or stale), else the one
// the fetch under way brings, waiting no longer than ctx allows. ok is
// false when there is none.
func (p pending) wait(ctx context.Context) ([]provider.ModelInfo, bool) {
	if p.have || p.done == nil {
		return p.list, p.have
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		return nil, false
	}
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	return p.e.models, !p.e.fetched.IsZero()
}

// fetch replaces e's list with l's, keeping the old one on failure.
func (c *Cache) fetch(key string, e *entry, l provider.ModelLister) {
	defer c.wg.Done()
	ctx, cancel := context.WithTimeout(c.ctx, c.o.Timeout)
	defer cancel()
	list, err := l.ListModels(ctx)
	if err == nil {
		list = provider.KeepModels(list)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		e.failed = c.o.Now()
		c.o.Logger.Warn("model list fetch failed", "source", sourceName(key), "error", err.Error())
	} else {
		e.models, e.fetched, e.failed = list, c.o.Now(), time.Time{}
	}
	close(e.fetching)
	e.fetching = nil
}

// evict drops the least recently used entries until there is room for
// one more. c.mu is held.
func (c *Cache) evict() {
	for len(c.entries) >= c.o.MaxEntries {
		var oldest string
		var at time.Time
		for k, e := range c.entries {
			if oldest == "" || e.used.Before(at) {
				oldest, at = k, e.used
			}
		}
		delete(c.entries, oldest)
	}
}

// sourceName is a key without its credentials hash, for the logs.
func sourceName(key string) string {
	for i := len(key) - 1; i >= 0; i-- {
		if key[i] == ' ' {
			return key[:i]
		}
	}
	return key
}
