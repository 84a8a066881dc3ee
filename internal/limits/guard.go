package limits

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// FailMode is what a Guarded limiter does while its shared counts cannot
// be reached.
type FailMode uint8

// The modes.
const (
	// FailOpen counts in this replica's memory meanwhile: limits hold per
	// replica, not across them.
	FailOpen FailMode = iota
	// FailClosed refuses requests (the caller answers 503).
	FailClosed
)

// ErrClosed is returned by a FailClosed limiter while the shared counts
// cannot be reached.
var ErrClosed = errors.New("limits: the shared limit store is unavailable")

// GuardOptions tune a Guarded limiter.
type GuardOptions struct {
	Mode FailMode
	// Timeout bounds each call to the shared counts; default 50 ms.
	Timeout time.Duration
	// Failures is how many failures in a row open the breaker; default 3.
	Failures int
	// Cooldown is how long the breaker stays open before one call tries
	// the shared counts again; default 2 s.
	Cooldown time.Duration
	Logger   *slog.Logger
	Now      func() time.Time
}

// Guarded puts a timeout and a breaker around a shared limiter (Redis), so
// that no request waits on a dead dependency: each call is bounded by
// Timeout, and after Failures failures in a row the shared counts are not
// tried for Cooldown. Meanwhile requests are counted in Local (FailOpen)
// or refused (FailClosed).
type Guarded struct {
	shared, local Limiter
	o             GuardOptions

	mu        sync.Mutex
	failures  int
	openUntil time.Time
	probing   bool
}

var _ Limiter = (*Guarded)(nil)

// NewGuarded returns shared guarded, with local as the fallback of
// FailOpen.
func NewGuarded(shared, local Limiter, o GuardOptions) *Guarded {
	if o.Timeout <= 0 {
		o.Timeout = 50 * time.Millisecond
	}
	if o.Failures <= 0 {
		o.Failures = 3
	}
	if o.Cooldown <= 0 {
		o.Cooldown = 2 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Guarded{shared: shared, local: local, o: o}
}

// Available reports whether the shared counts are in use (the breaker is
// closed), for readiness and metrics.
func (g *Guarded) Available() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.o.Now().After(g.openUntil) || g.probing
}

// try reports whether to call the shared counts now: the breaker is
// closed, or open past its cooldown with no other call probing.
func (g *Guarded) try() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.failures < g.o.Failures {
		return true
	}
	if g.probing || g.o.Now().Before(g.openUntil) {
		return false
	}
	g.probing = true
	return true
}

func (g *Guarded) result(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.probing = false
	if err == nil {
		if g.failures >= g.o.Failures {
			g.o.Logger.Info("the shared limit store answers again")
		}
		g.failures = 0
		return
	}
	g.failures++
	if g.failures >= g.o.Failures {
		if g.failures == g.o.Failures {
			mode := "counting in this replica's memory"
			if g.o.Mode == FailClosed {
				mode = "refusing requests"
			}
			g.o.Logger.Error("the shared limit store does not answer; "+mode+" until it does", "err", err.Error())
		}
		g.openUntil = g.o.Now().Add(g.o.Cooldown)
	}
}

// Acquire decides on r with the shared counts when they answer in time,
// else as the mode says.
func (g *Guarded) Acquire(ctx context.Context, r Request) (Decision, Lease, error) {
	if !active(&r) {
		return Decision{Allowed: true}, Lease{}, nil
	}
	if g.try() {
		cctx, cancel := context.WithTimeout(ctx, g.o.Timeout)
		d, le, err := g.shared.Acquire(cctx, r)
		cancel()
		if ctx.Err() != nil && err != nil {
			return d, le, ctx.Err() // the caller went away: not the store's fault
		}
		g.result(err)
		if err == nil {
			le.l = guardedRelease{g: g, inner: le.l}
			return d, le, nil
		}
	}
	if g.o.Mode == FailClosed {
		return Decision{}, Lease{}, ErrClosed
	}
	return g.local.Acquire(ctx, r)
}

// guardedRelease bounds a shared lease's release by the timeout too; a
// release that fails is left to the lease's expiry in the shared store.
type guardedRelease struct {
	g     *Guarded
	inner limiter
}

func (gr guardedRelease) release(ctx context.Context, r Request, id string, used int64) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), gr.g.o.Timeout)
	defer cancel()
	err := gr.inner.release(cctx, r, id, used)
	gr.g.result(err)
	return err
}

func (m FailMode) String() string {
	if m == FailClosed {
		return "closed"
	}
	return "open"
}
