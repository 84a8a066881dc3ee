package health

import (
	"context"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/observe"
)

// Probe is the active check of one provider.
type Probe struct {
	// Provider is the provider's configured name.
	Provider string
	// Check sends the provider's check request once (provider.Checker).
	Check func(ctx context.Context) error
	// Interval is the time between two checks; Timeout bounds one.
	Interval, Timeout time.Duration
}

// ProviderResult is the last result of a provider's active check, as
// /readyz reports it.
type ProviderResult struct {
	// Up is true when the last check succeeded.
	Up bool `json:"up"`
	// CheckedAt is when it ended.
	CheckedAt time.Time `json:"checked_at"`
	// LatencyMS is how long it took, in milliseconds.
	LatencyMS float64 `json:"latency_ms"`
	// Error is its public error message (the provider's secrets
	// redacted), with the upstream's status when it answered one.
	Error          string `json:"error,omitempty"`
	UpstreamStatus int    `json:"upstream_status,omitempty"`
}

// CheckerOptions configure a Checker.
type CheckerOptions struct {
	// Probes returns the checks the configuration in force asks for; it is
	// called at each round, so that a new configuration takes effect at
	// the next one.
	Probes func() []Probe
	// Observe receives each result (nil err: success), to feed the
	// breakers of the router in force (router.Router.ObserveCheck).
	Observe func(provider string, err error)
	Metrics *observe.Registry
	Logger  *slog.Logger
	// Now and After are the clock; nil are time.Now and time.After.
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time
	// Rescan is the longest sleep between rounds, so that a new
	// configuration's checks start soon; default 5s.
	Rescan time.Duration
}

// Checker runs the active checks of providers in the background. It is
// process state: created once, it reads the probes of the configuration in
// force at each round, and Close stops it.
type Checker struct {
	o        CheckerOptions
	up       *prometheus.GaugeVec
	duration *prometheus.HistogramVec
	ctx      context.Context
	cancel   context.CancelFunc
	done     chan struct{}
	wg       sync.WaitGroup // checks under way

	mu      sync.Mutex
	started bool
	known   map[string]bool      // the providers of the last probes read
	next    map[string]time.Time // provider -> when its next check is due
	running map[string]bool
	results map[string]ProviderResult
}

// NewChecker returns a Checker, not started (see Start), its metrics
// registered in o.Metrics.
func NewChecker(o CheckerOptions) *Checker {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.After == nil {
		o.After = time.After
	}
	if o.Rescan <= 0 {
		o.Rescan = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Observe == nil {
		o.Observe = func(string, error) {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Checker{
		o: o, ctx: ctx, cancel: cancel, done: make(chan struct{}),
		known: map[string]bool{}, next: map[string]time.Time{}, running: map[string]bool{}, results: map[string]ProviderResult{},
		up: observe.Register(o.Metrics, prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "llmgw_provider_up",
			Help: "Result of the last active check of each provider with providers[].health_check: 1 up, 0 down; absent for providers not checked.",
		}, []string{"provider"})),
		duration: observe.Register(o.Metrics, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "llmgw_provider_check_duration_seconds",
			Help:    "Duration of the active checks of each provider, failed ones included.",
			Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
		}, []string{"provider"})),
	}
}

// Start runs the checks in the background until Close: each provider's
// first check at once, then one per interval.
func (c *Checker) Start() {
	c.mu.Lock()
	c.started = true
	c.mu.Unlock()
	go func() {
		defer close(c.done)
		for {
			wait := c.Round()
			select {
			case <-c.ctx.Done():
				return
			case <-c.o.After(wait):
			}
		}
	}()
}

// Close stops the checks, cancels those under way and waits for them and
// for the background loop, if started.
func (c *Checker) Close() {
	c.cancel()
	c.wg.Wait()
	c.mu.Lock()
	started := c.started
	c.mu.Unlock()
	if started {
		<-c.done
	}
}

// Round starts the checks that are due (those of providers no longer
// checked are forgotten, their series removed) and returns how long to
// wait before the next round.
func (c *Checker) Round() time.Duration {
	probes := c.o.Probes()
	now := c.o.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.forget(probes)
	wait := c.o.Rescan
	for _, p := range probes {
		if c.ctx.Err() != nil {
			break
		}
		at, ok := c.next[p.Provider]
		if !ok || !now.Before(at) {
			if !c.running[p.Provider] {
				c.running[p.Provider] = true
				c.wg.Add(1)
				go c.run(p)
			}
			at = now.Add(p.Interval)
			c.next[p.Provider] = at
		}
		wait = min(wait, at.Sub(now))
	}
	return max(wait, 0)
}

// CheckNow runs every probe of the configuration in force once, now, and
// returns when they have all ended.
func (c *Checker) CheckNow() {
	probes := c.o.Probes()
	c.mu.Lock()
	c.forget(probes)
	c.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range probes {
		wg.Add(1)
		c.wg.Add(1)
		go func() {
			defer wg.Done()
			c.check(p)
			c.wg.Done()
		}()
	}
	wg.Wait()
}

// Results returns the last result of each provider checked; nil when no
// provider is.
func (c *Checker) Results() map[string]ProviderResult {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.results) == 0 {
		return nil
	}
	return maps.Clone(c.results)
}

// forget drops the state of the providers not among probes, which become
// the providers known.
func (c *Checker) forget(probes []Probe) {
	known := make(map[string]bool, len(probes))
	for _, p := range probes {
		known[p.Provider] = true
	}
	for name := range c.known {
		if !known[name] {
			delete(c.next, name)
			delete(c.results, name)
			c.up.DeleteLabelValues(name)
			c.duration.DeleteLabelValues(name)
		}
	}
	c.known = known
}

func (c *Checker) run(p Probe) {
	defer c.wg.Done()
	c.check(p)
	c.mu.Lock()
	delete(c.running, p.Provider)
	c.mu.Unlock()
}

// check runs p once and records its result.
func (c *Checker) check(p Probe) {
	ctx, cancel := context.WithTimeout(c.ctx, p.Timeout)
	defer cancel()
	start := c.o.Now()
	err := p.Check(ctx)
	end := c.o.Now()
	if c.ctx.Err() != nil {
		return // stopped: says nothing of the provider
	}
	if err != nil && ctx.Err() != nil {
		err = &llm.Error{Kind: llm.KindUpstreamTimeout, Provider: p.Provider, Message: "the check timed out", Err: err}
	}
	res := ProviderResult{Up: err == nil, CheckedAt: end.UTC(), LatencyMS: ms(end.Sub(start))}
	if err != nil {
		e := llm.AsError(err)
		res.Error, res.UpstreamStatus = e.PublicMessage(), e.UpstreamStatus
	}
	c.mu.Lock()
	if !c.known[p.Provider] {
		c.mu.Unlock()
		return // no longer checked: a new configuration dropped it
	}
	prev, seen := c.results[p.Provider]
	c.results[p.Provider] = res
	c.up.WithLabelValues(p.Provider).Set(b2f(res.Up))
	c.duration.WithLabelValues(p.Provider).Observe(end.Sub(start).Seconds())
	c.mu.Unlock()
	c.o.Observe(p.Provider, err)
	if res.Up != prev.Up || !seen {
		if res.Up {
			c.o.Logger.Info("provider check: up", "provider", p.Provider)
		} else {
			c.o.Logger.Warn("provider check: down", "provider", p.Provider, "err", llm.Clip(res.Error), "upstream_status", res.UpstreamStatus)
		}
	}
}
