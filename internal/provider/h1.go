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
// (Request.Write's rules, ReadResponse), so only the pooling is this type's.
//
// Everything else goes to the standard transport, unchanged: https://
// upstreams (TLS with HTTP/2 where offered: one connection multiplexes many
// streams, and a cancelled stream costs no handshake) and requests that the
// environment's HTTP proxy settings send through a proxy.
//
// A connection goes back to the pool only when its answer has been read to
// the end with nothing after it, and is peeked at (one non-blocking
// recvfrom) each time it is taken out: one the upstream closed while it sat
// idle (a keep-alive timeout), or one with bytes nobody asked for, is
// dropped and another taken or dialled. What remains is the upstream
// closing in the instant between that peek and the request: a request whose
// write failed there (the upstream got at most part of it) is sent once more
// on a new connection; one that was written whole is sent again only when
// it is idempotent (GET, HEAD, OPTIONS, TRACE, or an Idempotency-Key
// header), as net/http does: the upstream may have acted on it.
//
// One difference from net/http's transport remains: the request is written
// before the answer is read, so an upstream that answers early (a 413, say)
// and then neither reads the rest of a large body nor closes leaves the
// write waiting until the request's context ends. An upstream that answers
// early and closes, as HTTP servers do, is answered as with net/http.
type h1Transport struct {
	dial          func(ctx context.Context, network, addr string) (net.Conn, error)
	maxIdle       int           // idle connections kept per host
	idleTimeout   time.Duration // an idle connection is closed after this
	headerTimeout time.Duration // bound on the wait for response headers; 0: none
	fallback      *http.Transport
	proxy         func(*http.Request) (*url.URL, error)
	useProxy      bool // the environment names an HTTP proxy

	mu    sync.Mutex
	idle  map[string][]*h1Conn // per host:port, most recently used last
	sweep *time.Timer          // armed while any connection is idle

	// open counts the connections open, this pool's and, through
	// countDial, the fallback's; cleartext is set once this pool has
	// dialled one; retired closes connections as they are released
	// instead of pooling them (see Pools).
	open      atomic.Int64
	cleartext atomic.Bool
	retired   atomic.Bool

	// slots bound the requests in progress per host, on both paths
	// (slots.go); nil is no bound.
	slots *slots
}

// Limits of h1Transport.
const (
	// drainTimeout and maxDrain bound reading the rest of a body whose
	// stream has ended (the chunked terminator that follows the last
	// event) so that its connection can be reused.
	drainTimeout = 250 * time.Millisecond
	maxDrain     = 4 << 10
	// maxHeaderBytes bounds the response head, interim (1xx) heads
	// included, as net/http's Transport does by default.
	maxHeaderBytes = 10 << 20
	// earlyAnswerWait bounds the wait for an answer after the connection
	// failed under the request's write.
	earlyAnswerWait = 100 * time.Millisecond
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
		idle:          make(map[string][]*h1Conn),
		slots:         newSlots(o.MaxConnections, o.PoolTimeout),
	}
}

// h1Conn is one pooled connection.
type h1Conn struct {
	t      *h1Transport
	key    string
	conn   net.Conn
	r      *limitedConn // under br: bounds the response head
	w      *errConn     // under bw: tells the connection's write errors apart
	br     *bufio.Reader
	bw     *bufio.Writer
	idleAt time.Time
	reused bool
	closed atomic.Bool // counted out of t.open
}

// close closes the connection, counting it out of the open connections
// once however many times it is called.
func (pc *h1Conn) close() {
	if pc.closed.CompareAndSwap(false, true) {
		pc.t.open.Add(-1)
	}
	pc.conn.Close()
}

// limitedConn reads from the connection, at most n bytes while n >= 0.
type limitedConn struct {
	net.Conn
	n int64
}

var errHeaderTooLarge = errors.New("net/http: server response headers exceeded 10485760 bytes; aborted")

func (c *limitedConn) Read(p []byte) (int, error) {
	if c.n < 0 {
		return c.Conn.Read(p)
	}
	if c.n == 0 {
		return 0, errHeaderTooLarge
	}
	if int64(len(p)) > c.n {
		p = p[:c.n]
	}
	n, err := c.Conn.Read(p)
	c.n -= int64(n)
	return n, err
}

// errConn writes to the connection and keeps its first write error.
type errConn struct {
	net.Conn
	err error
}

func (c *errConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err != nil && c.err == nil {
		c.err = err
	}
	return n, err
}

// RoundTrip implements http.RoundTripper.
func (t *h1Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	return t.slots.roundTrip(req, req.URL.Host, t.roundTrip)
}

func (t *h1Transport) roundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "http" || t.proxied(req) {
		return t.fallback.RoundTrip(req)
	}
	ctx := req.Context()
	if err := checkRequest(req); err != nil {
		closeRequestBody(req)
		return nil, err
	}
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
		if retried || !pc.reused || !mayResend(req, err) || ctx.Err() != nil {
			closeRequestBody(req)
			return nil, ctxErr(ctx, err)
		}
		// The upstream closed a pooled connection as the request went out:
		// send it again on a fresh one.
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

// checkRequest refuses what net/http's Transport refuses before writing.
func checkRequest(req *http.Request) error {
	if req.URL.Host == "" {
		return errors.New("http: no Host in request URL")
	}
	if req.Method != "" && !httpguts.ValidHeaderFieldName(req.Method) { // a token
		return fmt.Errorf("net/http: invalid method %q", req.Method)
	}
	for k, vs := range req.Header {
		if !httpguts.ValidHeaderFieldName(k) {
			return fmt.Errorf("net/http: invalid header field name %q", k)
		}
		for _, v := range vs {
			if !httpguts.ValidHeaderFieldValue(v) {
				return fmt.Errorf("net/http: invalid header field value for %q", k) // not the value: it may be a secret
			}
		}
	}
	return nil
}

// mayResend reports whether req, which failed on a reused connection with
// err, may be sent again: always when its write failed (the upstream has
// at most part of it), and after a whole write only when it is idempotent.
func mayResend(req *http.Request, err error) bool {
	if errors.Is(err, errWriteFailed) {
		return true
	}
	if !errors.Is(err, errNothingRead) {
		return false
	}
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	_, a := req.Header["Idempotency-Key"]
	_, b := req.Header["X-Idempotency-Key"]
	return a || b
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
			pc.close()
		}
	}
	t.fallback.CloseIdleConnections()
}

// get returns a pooled connection to key, or dials one. A pooled
// connection is peeked at first: one the upstream closed, or one holding
// bytes nobody asked for (a 408 sent before closing, say), is dropped.
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
		if now.Sub(pc.idleAt) >= t.idleTimeout || pc.br.Buffered() > 0 || !alive(pc.conn) {
			pc.close()
			continue
		}
		pc.reused = true
		return pc, nil
	}
	c, err := t.dial(ctx, "tcp", key)
	if err != nil {
		return nil, err
	}
	t.open.Add(1)
	t.cleartext.Store(true)
	pc := &h1Conn{t: t, key: key, conn: c, r: &limitedConn{Conn: c, n: -1}, w: &errConn{Conn: c}}
	pc.br = bufio.NewReaderSize(pc.r, 4<<10)
	pc.bw = bufio.NewWriterSize(pc.w, 4<<10)
	return pc, nil
}

// put returns pc to the pool, or closes it when the pool is full or
// retired, or bytes follow the answer just read (they can only be the
// upstream's mistake, and would be taken for the next answer).
func (t *h1Transport) put(pc *h1Conn) {
	if pc.br.Buffered() > 0 {
		pc.close()
		return
	}
	pc.idleAt = time.Now()
	t.mu.Lock()
	l := t.idle[pc.key]
	if len(l) >= t.maxIdle || t.retired.Load() {
		t.mu.Unlock()
		pc.close()
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
		pc.close()
	}
}

// Failures of an exchange, by what the upstream can have seen.
var (
	// errNothingRead: the request was written whole, and the connection
	// ended before any byte of the answer.
	errNothingRead = errors.New("upstream closed the connection before answering")
	// errWriteFailed: the connection failed while the request was being
	// written, so the upstream has at most part of it.
	errWriteFailed = errors.New("upstream connection failed while the request was sent")
)

type exchangeError struct {
	kind error
	err  error
}

func (e exchangeError) Error() string   { return e.kind.Error() + ": " + e.err.Error() }
func (e exchangeError) Unwrap() []error { return []error{e.kind, e.err} }

// roundTrip writes req and reads the answer's headers on pc. On failure pc
// is closed.
func (pc *h1Conn) roundTrip(ctx context.Context, req *http.Request) (*http.Response, error) {
	stop := func() bool { return true }
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, pc.close)
	}
	fail := func(err error) (*http.Response, error) {
		stop()
		pc.close()
		return nil, err
	}
	pc.w.err = nil
	err := writeRequest(pc.bw, req)
	if err == nil {
		err = pc.bw.Flush()
	}
	if err != nil {
		if pc.w.err == nil {
			return fail(err) // the request's own fault (its body): nothing to retry
		}
		// The connection failed under the write. An upstream may have
		// answered (413, say) and closed before reading the whole request:
		// its answer is still the answer.
		if pc.conn.SetReadDeadline(time.Now().Add(earlyAnswerWait)) == nil {
			if _, perr := pc.br.Peek(1); perr == nil && ctx.Err() == nil {
				return pc.readResponse(ctx, req, stop, fail, false)
			}
		}
		return fail(exchangeError{errWriteFailed, pc.w.err})
	}
	if pc.t.headerTimeout > 0 {
		if err := pc.conn.SetReadDeadline(time.Now().Add(pc.t.headerTimeout)); err != nil {
			return fail(err)
		}
	}
	pc.r.n = maxHeaderBytes
	if _, err := pc.br.Peek(1); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
			err = exchangeError{errNothingRead, err}
		}
		return fail(err)
	}
	return pc.readResponse(ctx, req, stop, fail, true)
}

// readResponse reads the answer to req on pc; keep says whether the
// connection may serve another request afterwards.
func (pc *h1Conn) readResponse(ctx context.Context, req *http.Request, stop func() bool,
	fail func(error) (*http.Response, error), keep bool) (*http.Response, error) {
	pc.r.n = maxHeaderBytes
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
	pc.r.n = -1
	if err := pc.conn.SetReadDeadline(time.Time{}); err != nil {
		return fail(err)
	}
	if err := ctx.Err(); err != nil { // the connection is being closed
		return fail(err)
	}
	keep = keep && !resp.Close && !req.Close && resp.StatusCode != http.StatusSwitchingProtocols &&
		!httpguts.HeaderValuesContainsToken(req.Header["Connection"], "close")
	if resp.Body == http.NoBody {
		if stop() && keep {
			pc.t.put(pc)
		} else {
			pc.close()
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
	// owner says who has the connection: bodyReading until the body ends
	// (then bodyReleased: pooled, drained or closed by the body) or a
	// Close finds a Read in progress (then bodyAborted: closed under it).
	// Whoever moves it away from bodyReading alone decides the
	// connection's fate.
	owner atomic.Int32
}

const (
	bodyReading = iota
	bodyReleased
	bodyAborted
)

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

// finish ends the body, reusing the connection when reuse is set, the
// connection is still the body's and nothing cancelled it. Called with mu
// held.
func (b *h1Body) finish(err error, reuse bool) {
	b.done, b.err = true, err
	if !b.owner.CompareAndSwap(bodyReading, bodyReleased) {
		return // a Close closed the connection under the Read
	}
	if b.stop() && reuse && b.keep {
		b.pc.t.put(b.pc)
		return
	}
	b.pc.close()
}

// abort closes the connection under a Read in progress, unless the body
// has already let the connection go.
func (b *h1Body) abort() {
	if b.owner.CompareAndSwap(bodyReading, bodyAborted) {
		b.pc.close() // the blocked Read returns and finishes
	}
}

// Close implements io.Closer. A body not read to its end closes its
// connection: the upstream learns that nobody reads the answer and can stop
// producing it. Close may be called while a Read is blocked in another
// goroutine.
func (b *h1Body) Close() error {
	if !b.mu.TryLock() {
		b.abort()
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
		b.abort()
		return nil
	}
	defer b.mu.Unlock()
	if b.done {
		return nil
	}
	b.done, b.err = true, errBodyClosed
	if !b.owner.CompareAndSwap(bodyReading, bodyReleased) {
		return nil
	}
	if !b.stop() || !b.keep {
		b.pc.close()
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
	pc.close()
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
	uri := req.URL.RequestURI()
	if req.Trailer != nil || len(req.TransferEncoding) > 0 || (body != nil) != (req.ContentLength > 0) ||
		!httpguts.ValidHostHeader(host) || strings.Contains(host, "%") || req.URL.Opaque != "" ||
		hasControl(uri) || !plainHeader(req.Header) {
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
	w.WriteString(uri)
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
	// Exactly ContentLength bytes go out, then the body must be at its end:
	// more would be taken by the upstream for another request.
	n, err := io.Copy(w, io.LimitReader(body, req.ContentLength))
	if err == nil {
		var extra [1]byte
		m, rerr := io.ReadFull(body, extra[:])
		n += int64(m)
		if rerr != io.EOF && rerr != io.ErrUnexpectedEOF && rerr != nil {
			err = rerr
		}
	}
	if err == nil && n != req.ContentLength {
		err = fmt.Errorf("http: ContentLength=%d with Body length %d", req.ContentLength, n)
	}
	return err
}

// hasControl reports whether s holds an ASCII control character, which
// may not appear in a request line.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
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
