package provider

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/http/httpguts"
)

// h1Transport is the upstream transport for cleartext (http://) upstreams:
// HTTP/1.1 over a pool of keep-alive connections, each exchange done in the
// calling goroutine. net/http's Transport gives every connection a read
// and a write goroutine and hands each request and response between them
// and the caller over channels; on a two-core machine those hand-offs (a
// goroutine wake-up each, often a thread wake-up) cost about as much CPU as
// the rest of a small request's proxying. Here the caller writes the request
// and reads the response itself; the wire format is net/http's own
// (Request.Write, ReadResponse), so only the pooling is this type's.
//
// Everything else goes to the standard transport, unchanged: https://
// upstreams (TLS with HTTP/2 where offered: one connection multiplexes many
// streams, and a cancelled stream costs no handshake) and requests that the
// environment's HTTP proxy settings send through a proxy.
//
// A connection taken from the pool may have been closed by the upstream
// while it sat idle (a keep-alive timeout). One idle for more than
// staleCheck is checked with a non-blocking peek before use; and a request
// whose reused connection fails before any byte of the answer arrives is
// sent once more on a new connection, as net/http does, since the upstream
// cannot have acted on it.
type h1Transport struct {
	dial          func(ctx context.Context, network, addr string) (net.Conn, error)
	maxIdle       int           // idle connections kept per host
	idleTimeout   time.Duration // an idle connection is closed after this
	headerTimeout time.Duration // bound on the wait for response headers; 0: none
	fallback      *http.Transport
	proxy         func(*http.Request) (*url.URL, error)
	useProxy      bool          // the environment names an HTTP proxy
	staleCheck    time.Duration // an idle connection older than this is peeked at before use

	mu    sync.Mutex
	idle  map[string][]*h1Conn // per host:port, most recently used last
	sweep *time.Timer          // armed while any connection is idle
}

// Pool tuning of h1Transport.
const (
	// defaultStaleCheck: a connection idle for longer is peeked at before
	// reuse (about one system call).
	defaultStaleCheck = time.Second
	// drainTimeout and maxDrain bound reading the rest of a body whose
	// stream has ended (the chunked terminator that follows the last
	// event) so that its connection can be reused.
	drainTimeout = 250 * time.Millisecond
	maxDrain     = 4 << 10
)

func newH1Transport(dial func(ctx context.Context, network, addr string) (net.Conn, error),
	o ClientOptions, fallback *http.Transport) *h1Transport {
	return &h1Transport{
		dial:          dial,
		maxIdle:       o.MaxIdleConnsPerHost,
		idleTimeout:   fallback.IdleConnTimeout,
		headerTimeout: o.ResponseHeaderTimeout,
		fallback:      fallback,
		proxy:         fallback.Proxy,
		useProxy:      fallback.Proxy != nil && (os.Getenv("HTTP_PROXY") != "" || os.Getenv("http_proxy") != ""),
		staleCheck:    defaultStaleCheck,
		idle:          make(map[string][]*h1Conn),
	}
}

// h1Conn is one pooled connection.
type h1Conn struct {
	t      *h1Transport
	key    string
	conn   net.Conn
	br     *bufio.Reader
	bw     *bufio.Writer
	idleAt time.Time
	reused bool
}

// RoundTrip implements http.RoundTripper.
func (t *h1Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "http" || t.proxied(req) {
		return t.fallback.RoundTrip(req)
	}
	ctx := req.Context()
	if err := ctx.Err(); err != nil {
		closeRequestBody(req)
		return nil, err
	}
	key := req.URL.Host
	if req.URL.Port() == "" {
		key = net.JoinHostPort(req.URL.Hostname(), "80")
	}
	for retried := false; ; retried = true {
		pc, err := t.get(ctx, key)
		if err != nil {
			closeRequestBody(req)
			return nil, ctxErr(ctx, err)
		}
		resp, err := pc.roundTrip(ctx, req)
		if err == nil {
			return resp, nil
		}
		if retried || !pc.reused || !errors.Is(err, errNothingRead) || ctx.Err() != nil {
			closeRequestBody(req)
			return nil, ctxErr(ctx, err)
		}
		// The upstream closed a pooled connection without reading the
		// request: send it again on a fresh one.
		if req.Body != nil && req.Body != http.NoBody {
			if req.GetBody == nil {
				return nil, err
			}
			body, gerr := req.GetBody()
			if gerr != nil {
				return nil, err
			}
			r2 := new(http.Request)
			*r2 = *req
			r2.Body = body
			req = r2
		}
	}
}

func (t *h1Transport) proxied(req *http.Request) bool {
	if !t.useProxy {
		return false
	}
	u, err := t.proxy(req)
	return err != nil || u != nil
}

// CloseIdleConnections closes every idle connection, this transport's and
// the fallback's.
func (t *h1Transport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = make(map[string][]*h1Conn)
	if t.sweep != nil {
		t.sweep.Stop()
		t.sweep = nil
	}
	t.mu.Unlock()
	for _, l := range idle {
		for _, pc := range l {
			pc.conn.Close()
		}
	}
	t.fallback.CloseIdleConnections()
}

// get returns a pooled connection to key, or dials one.
func (t *h1Transport) get(ctx context.Context, key string) (*h1Conn, error) {
	now := time.Now()
	for {
		t.mu.Lock()
		l := t.idle[key]
		n := len(l)
		if n == 0 {
			t.mu.Unlock()
			break
		}
		pc := l[n-1]
		l[n-1] = nil
		t.idle[key] = l[:n-1]
		t.mu.Unlock()
		idle := now.Sub(pc.idleAt)
		if idle >= t.idleTimeout || (idle >= t.staleCheck && !alive(pc.conn)) {
			pc.conn.Close()
			continue
		}
		pc.reused = true
		return pc, nil
	}
	c, err := t.dial(ctx, "tcp", key)
	if err != nil {
		return nil, err
	}
	return &h1Conn{t: t, key: key, conn: c,
		br: bufio.NewReaderSize(c, 4<<10), bw: bufio.NewWriterSize(c, 4<<10)}, nil
}

// put returns pc to the pool, or closes it when the pool is full.
func (t *h1Transport) put(pc *h1Conn) {
	pc.idleAt = time.Now()
	t.mu.Lock()
	l := t.idle[pc.key]
	if len(l) >= t.maxIdle {
		t.mu.Unlock()
		pc.conn.Close()
		return
	}
	t.idle[pc.key] = append(l, pc)
	if t.sweep == nil {
		t.sweep = time.AfterFunc(t.idleTimeout, t.closeExpired)
	}
	t.mu.Unlock()
}

// closeExpired closes the connections idle for longer than idleTimeout and
// re-arms itself while any remain.
func (t *h1Transport) closeExpired() {
	cutoff := time.Now().Add(-t.idleTimeout)
	var expired []*h1Conn
	t.mu.Lock()
	left := false
	for key, l := range t.idle {
		i := 0
		for i < len(l) && !l[i].idleAt.After(cutoff) { // oldest first
			expired = append(expired, l[i])
			i++
		}
		if i == len(l) {
			delete(t.idle, key)
			continue
		}
		t.idle[key] = append(l[:0], l[i:]...)
		left = true
	}
	t.sweep = nil
	if left {
		t.sweep = time.AfterFunc(t.idleTimeout, t.closeExpired)
	}
	t.mu.Unlock()
	for _, pc := range expired {
		pc.conn.Close()
	}
}

// errNothingRead marks a failure before any byte of the answer arrived.
var errNothingRead = errors.New("upstream closed the connection before answering")

type nothingReadError struct{ err error }

func (e nothingReadError) Error() string   { return errNothingRead.Error() + ": " + e.err.Error() }
func (e nothingReadError) Unwrap() []error { return []error{errNothingRead, e.err} }

// roundTrip writes req and reads the answer's headers on pc. On failure pc
// is closed.
func (pc *h1Conn) roundTrip(ctx context.Context, req *http.Request) (*http.Response, error) {
	stop := func() bool { return true }
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, func() { pc.conn.Close() })
	}
	fail := func(err error) (*http.Response, error) {
		stop()
		pc.conn.Close()
		return nil, err
	}
	if pc.t.headerTimeout > 0 {
		if err := pc.conn.SetReadDeadline(time.Now().Add(pc.t.headerTimeout)); err != nil {
			return fail(err)
		}
	}
	err := writeRequest(pc.bw, req)
	if err == nil {
		err = pc.bw.Flush()
	}
	writeErr := err
	if _, err := pc.br.Peek(1); err != nil || writeErr != nil {
		// An upstream may answer (413, say) and close before it has read
		// the whole request: its answer is still the answer.
		if err == nil && ctx.Err() == nil {
			return pc.readResponse(ctx, req, stop, fail, false)
		}
		switch {
		case writeErr != nil:
			err = nothingReadError{writeErr}
		case errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET):
			err = nothingReadError{err}
		}
		return fail(err)
	}
	return pc.readResponse(ctx, req, stop, fail, true)
}

// readResponse reads the answer to req on pc; keep says whether the
// connection may serve another request afterwards.
func (pc *h1Conn) readResponse(ctx context.Context, req *http.Request, stop func() bool,
	fail func(error) (*http.Response, error), keep bool) (*http.Response, error) {
	var resp *http.Response
	var err error
	for {
		resp, err = http.ReadResponse(pc.br, req)
		if err != nil {
			return fail(err)
		}
		// 1xx answers are interim; 101 would switch protocols, which no
		// upstream request asks for.
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
	}
	if pc.t.headerTimeout > 0 {
		if err := pc.conn.SetReadDeadline(time.Time{}); err != nil {
			return fail(err)
		}
	}
	if err := ctx.Err(); err != nil { // the connection is being closed
		return fail(err)
	}
	keep = keep && !resp.Close && !req.Close && resp.StatusCode != http.StatusSwitchingProtocols
	if resp.Body == http.NoBody {
		if stop() && keep {
			pc.t.put(pc)
		} else {
			pc.conn.Close()
		}
		return resp, nil
	}
	resp.Body = &h1Body{pc: pc, ctx: ctx, body: resp.Body, stop: stop, keep: keep}
	return resp, nil
}

// h1Body is a response body on a pooled connection: read to its end, it
// returns the connection to the pool.
type h1Body struct {
	mu   sync.Mutex // held by Read; Close aborts when it cannot take it
	pc   *h1Conn
	ctx  context.Context
	body io.ReadCloser
	stop func() bool // stops closing the connection when ctx ends
	keep bool
	done bool
	err  error // returned by Read once done
	// aborted is set by a Close that found a Read in progress and closed
	// the connection under it.
	aborted atomic.Bool
}

var errBodyClosed = errors.New("http: read on closed response body")

// Read implements io.Reader.
func (b *h1Body) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return 0, b.err
	}
	n, err := b.body.Read(p)
	switch {
	case err == io.EOF:
		b.finish(io.EOF, true)
	case err != nil:
		err = ctxErr(b.ctx, err)
		b.finish(err, false)
	}
	return n, err
}

// finish ends the body, reusing the connection when reuse is set and the
// connection is still the body's. Called with mu held.
func (b *h1Body) finish(err error, reuse bool) {
	b.done, b.err = true, err
	if b.stop() && reuse && b.keep && !b.aborted.Load() {
		b.pc.t.put(b.pc)
		return
	}
	b.pc.conn.Close()
}

// Close implements io.Closer. A body not read to its end closes its
// connection: the upstream learns that nobody reads the answer and can stop
// producing it. Close may be called while a Read is blocked in another
// goroutine.
func (b *h1Body) Close() error {
	if !b.mu.TryLock() {
		b.aborted.Store(true)
		b.pc.conn.Close() // the blocked Read returns and finishes
		return nil
	}
	defer b.mu.Unlock()
	if !b.done {
		b.finish(errBodyClosed, false)
	}
	return nil
}

// CloseEnded closes a body whose content has ended by the upstream
// protocol's own terms (an event stream's last event) but whose framing
// may not have (the chunked terminator that follows): the rest is read in
// the background, bounded by drainTimeout and maxDrain, and the connection
// reused if it arrives. Otherwise it is Close.
func (b *h1Body) CloseEnded() error {
	if !b.mu.TryLock() {
		b.aborted.Store(true)
		b.pc.conn.Close()
		return nil
	}
	defer b.mu.Unlock()
	if b.done {
		return nil
	}
	b.done, b.err = true, errBodyClosed
	if !b.stop() || !b.keep {
		b.pc.conn.Close()
		return nil
	}
	go b.pc.drain(b.body)
	return nil
}

// drain reads what is left of body and pools the connection if it ends
// within the bounds.
func (pc *h1Conn) drain(body io.Reader) {
	if pc.conn.SetReadDeadline(time.Now().Add(drainTimeout)) == nil {
		var buf [512]byte
		n, err := io.CopyBuffer(io.Discard, io.LimitReader(body, maxDrain+1), buf[:])
		if err == nil && n <= maxDrain && pc.conn.SetReadDeadline(time.Time{}) == nil {
			pc.t.put(pc)
			return
		}
	}
	pc.conn.Close()
}

// CloseEnded closes body with its CloseEnded method when it has one: the
// body's content has ended and only its framing may remain.
func CloseEnded(body io.Closer) error {
	if b, ok := body.(interface{ CloseEnded() error }); ok {
		return b.CloseEnded()
	}
	return body.Close()
}

// ctxErr returns the context's error when it has ended (its end closed the
// connection, and err only says so), err otherwise.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return err
}

func closeRequestBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// writeRequest writes req's head and body to w as Request.Write would,
// for the requests an Upstream makes (a body of known length, no trailers),
// without the sorted copy of the header that Request.Write makes. Anything
// else, and any header Request.Write would have to repair, goes to
// Request.Write. It closes the body, as Request.Write does.
func writeRequest(w *bufio.Writer, req *http.Request) error {
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	body := req.Body
	if body == http.NoBody {
		body = nil
	}
	if req.Trailer != nil || len(req.TransferEncoding) > 0 || (body != nil && req.ContentLength <= 0) ||
		!httpguts.ValidHostHeader(host) || req.URL.Opaque != "" || !plainHeader(req.Header) {
		return req.Write(w)
	}
	if body != nil {
		defer body.Close()
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	w.WriteString(method)
	w.WriteByte(' ')
	w.WriteString(req.URL.RequestURI())
	w.WriteString(" HTTP/1.1\r\nHost: ")
	w.WriteString(host)
	if _, ok := req.Header["User-Agent"]; !ok {
		w.WriteString("\r\nUser-Agent: Go-http-client/1.1")
	}
	for k, vs := range req.Header {
		if reqWriteExcluded(k) {
			continue
		}
		for _, v := range vs {
			w.WriteString("\r\n")
			w.WriteString(k)
			w.WriteString(": ")
			w.WriteString(v)
		}
	}
	if ua := req.Header["User-Agent"]; len(ua) > 0 && ua[0] != "" {
		w.WriteString("\r\nUser-Agent: ")
		w.WriteString(ua[0])
	}
	if body != nil || methodExpectsBody(method) {
		var n [20]byte
		w.WriteString("\r\nContent-Length: ")
		w.Write(strconv.AppendInt(n[:0], max(req.ContentLength, 0), 10))
	}
	if req.Close {
		w.WriteString("\r\nConnection: close")
	}
	if _, err := w.WriteString("\r\n\r\n"); err != nil {
		return err
	}
	if body == nil {
		return nil
	}
	n, err := io.Copy(w, body)
	if err == nil && n != req.ContentLength {
		err = fmt.Errorf("http: ContentLength=%d with Body length %d", req.ContentLength, n)
	}
	return err
}

// plainHeader reports whether every field of h can be written as it is:
// valid names, values without line breaks or other control characters.
func plainHeader(h http.Header) bool {
	for k, vs := range h {
		if !httpguts.ValidHeaderFieldName(k) {
			return false
		}
		for _, v := range vs {
			if !httpguts.ValidHeaderFieldValue(v) || strings.TrimSpace(v) != v {
				return false
			}
		}
	}
	return true
}

// reqWriteExcluded are the fields writeRequest writes itself, as
// Request.Write does.
func reqWriteExcluded(k string) bool {
	switch k {
	case "Host", "User-Agent", "Content-Length", "Transfer-Encoding", "Trailer":
		return true
	}
	return false
}

// methodExpectsBody: Request.Write sends "Content-Length: 0" for these
// when there is no body.
func methodExpectsBody(m string) bool {
	return m == http.MethodPost || m == http.MethodPut || m == http.MethodPatch
}
