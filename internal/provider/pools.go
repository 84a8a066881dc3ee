package provider

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"weak"

	"github.com/prometheus/client_golang/prometheus"
)

// Pools reports the state of upstream connection pools per provider as
// llmgw_upstream_connections{provider,state}, read from the pools' own
// counters when the registry is scraped: the request path pays one atomic
// add when a connection is opened and one when it is closed, nothing per
// request.
//
// A provider's pool belongs to a configuration snapshot, and a reload
// builds new ones while requests of the old snapshot may still hold
// connections of the old pools. Pools reports, per provider name, the sum
// over every pool added that is still alive: the connections counted are
// all open at the time. A pool leaves the set when it is retired (Retire)
// and its last connection has closed, or when it has been garbage
// collected (Pools holds it weakly), so an old snapshot's series neither
// linger nor count twice.
//
// What is measured, by transport (see NewHTTPClient):
//   - state="open": every connection the provider's client holds open,
//     cleartext ones of its own pool and TLS ones of net/http's Transport
//     (counted as they are dialled and closed), including those to a token
//     endpoint reached through the same client (vertex, azure with Entra)
//     and to an HTTP proxy.
//   - state="idle" and state="in_use": the cleartext (http://) pool's
//     connections waiting in the pool and those serving a request (open
//     connections not idle). net/http's Transport exposes neither for TLS
//     upstreams (and an HTTP/2 connection serves many requests at once), so
//     these two series appear only for a provider whose client has dialled
//     a cleartext connection; idle + in_use = open for a provider whose
//     upstream is http:// and not proxied.
//
// A provider with providers[].max_connections (slots.go) also reports its
// waits for a free connection: llmgw_upstream_connection_waits_total (the
// requests that found none free), llmgw_upstream_connection_wait_seconds_total
// (the time they waited, so that rate(seconds)/rate(waits) is the mean
// wait) and llmgw_upstream_connection_wait_timeouts_total (those that gave
// up after pool_timeout). A provider without the bound never waits and
// reports none of them.
//
// Pools is safe for concurrent use.
type Pools struct {
	desc                      *prometheus.Desc
	waits, waitSecs, timeouts *prometheus.Desc

	mu    sync.Mutex
	pools []namedPool
}

type namedPool struct {
	name string
	t    weak.Pointer[h1Transport]
}

// NewPools returns an empty set of pools.
func NewPools() *Pools {
	return &Pools{desc: prometheus.NewDesc("llmgw_upstream_connections",
		"Upstream connections per provider, by state: open (every connection), idle and in_use (for http:// upstreams only).",
		[]string{"provider", "state"}, nil),
		waits: prometheus.NewDesc("llmgw_upstream_connection_waits_total",
			"Upstream requests that found every connection of their provider (providers[].max_connections) in use and waited for one.",
			[]string{"provider"}, nil),
		waitSecs: prometheus.NewDesc("llmgw_upstream_connection_wait_seconds_total",
			"Time upstream requests spent waiting for a free connection of their provider, in seconds.",
			[]string{"provider"}, nil),
		timeouts: prometheus.NewDesc("llmgw_upstream_connection_wait_timeouts_total",
			"Upstream requests that found no free connection of their provider within providers[].pool_timeout and failed.",
			[]string{"provider"}, nil),
	}
}

// Add reports c's pool under the provider name, and reports whether c has
// one: a client made by NewHTTPClient whose transport was not replaced.
func (p *Pools) Add(name string, c *http.Client) bool {
	t, ok := c.Transport.(*h1Transport)
	if !ok {
		return false
	}
	w := weak.Make(t)
	p.mu.Lock()
	defer p.mu.Unlock()
	// A client kept across snapshots (gateway.Clients) is added by each:
	// its pool is counted once.
	for _, np := range p.pools {
		if np.t == w {
			return true
		}
	}
	p.pools = append(p.pools, namedPool{name: name, t: w})
	return true
}

// Retire ends the pool of c, a client of a snapshot no longer served: its
// idle connections are closed now, the others when the requests using
// them end (of TLS connections, those of net/http's Transport, the ones
// idle now; the rest when they have been idle for its timeout). A client
// without a pool of its own is only asked to close its idle connections.
func Retire(c *http.Client) {
	if t, ok := c.Transport.(*h1Transport); ok {
		t.mu.Lock()
		t.retired.Store(true)
		t.mu.Unlock()
	}
	c.CloseIdleConnections()
}

// Describe implements prometheus.Collector.
func (p *Pools) Describe(ch chan<- *prometheus.Desc) {
	ch <- p.desc
	ch <- p.waits
	ch <- p.waitSecs
	ch <- p.timeouts
}

// poolState is what is reported of one provider.
type poolState struct {
	open, idle int64
	cleartext  bool
	// bounded is set when a pool has slots (max_connections), with its
	// waits, timeouts and time waited.
	bounded                    bool
	waits, timeouts, waitNanos int64
}

// Collect implements prometheus.Collector.
func (p *Pools) Collect(ch chan<- prometheus.Metric) {
	var names []string
	states := make(map[string]*poolState)
	p.mu.Lock()
	kept := p.pools[:0]
	for _, np := range p.pools {
		t := np.t.Value()
		if t == nil {
			continue
		}
		open := t.open.Load()
		if open <= 0 && t.retired.Load() {
			continue
		}
		kept = append(kept, np)
		st := states[np.name]
		if st == nil {
			st = &poolState{}
			states[np.name] = st
			names = append(names, np.name)
		}
		st.open += open
		st.idle += int64(t.idleCount())
		st.cleartext = st.cleartext || t.cleartext.Load()
		if sl := t.slots; sl != nil {
			st.bounded = true
			st.waits += sl.waits.Load()
			st.timeouts += sl.timeouts.Load()
			st.waitNanos += sl.waitNanos.Load()
		}
	}
	clear(p.pools[len(kept):])
	p.pools = kept
	p.mu.Unlock()
	for _, name := range names {
		st := states[name]
		ch <- prometheus.MustNewConstMetric(p.desc, prometheus.GaugeValue, float64(st.open), name, "open")
		if st.cleartext {
			ch <- prometheus.MustNewConstMetric(p.desc, prometheus.GaugeValue, float64(st.idle), name, "idle")
			ch <- prometheus.MustNewConstMetric(p.desc, prometheus.GaugeValue, float64(max(st.open-st.idle, 0)), name, "in_use")
		}
		if st.bounded {
			ch <- prometheus.MustNewConstMetric(p.waits, prometheus.CounterValue, float64(st.waits), name)
			ch <- prometheus.MustNewConstMetric(p.waitSecs, prometheus.CounterValue, float64(st.waitNanos)/1e9, name)
			ch <- prometheus.MustNewConstMetric(p.timeouts, prometheus.CounterValue, float64(st.timeouts), name)
		}
	}
}

// idleCount is the number of connections in the pool.
func (t *h1Transport) idleCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, l := range t.idle {
		n += len(l)
	}
	return n
}

// countDial wraps dial, the fallback transport's, so that the connections
// it opens are counted in t.open until they are closed.
func (t *h1Transport) countDial(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		t.open.Add(1)
		return &countedConn{Conn: c, t: t}, nil
	}
}

// countedConn is a connection counted in t.open until its first Close.
type countedConn struct {
	net.Conn
	t      *h1Transport
	closed atomic.Bool
}

func (c *countedConn) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		c.t.open.Add(-1)
	}
	return c.Conn.Close()
}
