package faulttest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Kind is a fault the proxy injects.
type Kind uint8

// Faults.
const (
	// Pass forwards traffic untouched.
	Pass Kind = iota
	// Latency forwards traffic after holding each connection for Delay.
	Latency
	// Reset accepts a connection and resets it at once (RST).
	Reset
	// Hang accepts a connection, reads what comes and never answers.
	Hang
	// Drip forwards the upstream's answer one byte every Delay.
	Drip
	// Status answers the request with Status, Header and Body (an OpenAI
	// error by default) without asking the upstream, then closes the
	// connection.
	Status
)

// Fault is what the proxy does to each new connection.
type Fault struct {
	Kind   Kind
	Delay  time.Duration
	Status int
	Header http.Header
	Body   string
}

// Proxy is a fault-injecting TCP proxy. Its URL is the upstream's URL with
// the proxy's address.
type Proxy struct {
	// URL is the base URL to give a provider.
	URL string

	ln       net.Listener
	upstream string
	fault    atomic.Pointer[Fault]
	accepted atomic.Int64
	closing  chan struct{}
	wg       sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	times []time.Time
}

// New starts a proxy to the upstream at base URL upstream (such as a
// providertest fake's URL), closed when the test ends.
func New(t testing.TB, upstream string) *Proxy {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, upstream: u.Host, closing: make(chan struct{}), conns: make(map[net.Conn]struct{})}
	u.Host = ln.Addr().String()
	p.URL = u.String()
	p.fault.Store(&Fault{})
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// Set changes the fault applied to new connections and drops every open
// one, so that pooled connections cannot dodge it.
func (p *Proxy) Set(f Fault) {
	p.fault.Store(&f)
	p.mu.Lock()
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
}

// Accepted returns the number of connections accepted so far.
func (p *Proxy) Accepted() int64 { return p.accepted.Load() }

// Times returns when each connection was accepted.
func (p *Proxy) Times() []time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Time(nil), p.times...)
}

// Close stops the proxy and drops every connection.
func (p *Proxy) Close() {
	select {
	case <-p.closing:
		return
	default:
	}
	close(p.closing)
	_ = p.ln.Close()
	p.Set(Fault{})
	p.wg.Wait()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.conns[c] = struct{}{}
		p.times = append(p.times, time.Now())
		p.mu.Unlock()
		p.accepted.Add(1)
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.serve(c, *p.fault.Load())
			_ = c.Close()
			p.mu.Lock()
			delete(p.conns, c)
			p.mu.Unlock()
		}()
	}
}

func (p *Proxy) serve(c net.Conn, f Fault) {
	switch f.Kind {
	case Reset:
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
	case Hang:
		_, _ = io.Copy(io.Discard, c) // until the client or Set closes it
	case Status:
		p.answer(c, f)
	case Latency:
		select {
		case <-time.After(f.Delay):
		case <-p.closing:
			return
		}
		p.forward(c, 0)
	case Drip:
		p.forward(c, f.Delay)
	default:
		p.forward(c, 0)
	}
}

// answer replies to one request on c with f's status and closes the
// connection, so that every request is a connection of its own.
func (p *Proxy) answer(c net.Conn, f Fault) {
	req, err := http.ReadRequest(bufio.NewReader(c))
	if err != nil {
		return
	}
	_, _ = io.Copy(io.Discard, req.Body)
	body := f.Body
	if body == "" {
		body = fmt.Sprintf(`{"error":{"message":"injected %d","type":"server_error","param":null,"code":null}}`, f.Status)
	}
	resp := &http.Response{StatusCode: f.Status, ProtoMajor: 1, ProtoMinor: 1, Header: f.Header.Clone(), Close: true,
		ContentLength: int64(len(body)), Body: io.NopCloser(strings.NewReader(body))}
	if resp.Header == nil {
		resp.Header = http.Header{}
	}
	resp.Header.Set("Content-Type", "application/json")
	_ = resp.Write(c)
}

// forward proxies c to the upstream; with drip > 0 the answer goes back
// one byte every drip.
func (p *Proxy) forward(c net.Conn, drip time.Duration) {
	up, err := net.Dial("tcp", p.upstream)
	if err != nil {
		return
	}
	defer up.Close()
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(up, c)
		_ = up.Close()
		close(done)
	}()
	if drip <= 0 {
		_, _ = io.Copy(c, up)
	} else {
		buf := make([]byte, 1)
		for {
			if _, err := io.ReadFull(up, buf); err != nil {
				break
			}
			if _, err := c.Write(buf); err != nil {
				break
			}
			select {
			case <-time.After(drip):
			case <-p.closing:
				_ = c.Close()
			}
		}
	}
	_ = c.Close()
	<-done
}
