package provider

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// connCounter counts the connections a test server accepts and closes.
type connCounter struct{ opened, closed atomic.Int32 }

func newCountingServer(t *testing.T, h http.Handler) (*httptest.Server, *connCounter) {
	t.Helper()
	cc := &connCounter{}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			cc.opened.Add(1)
		case http.StateClosed, http.StateHijacked:
			cc.closed.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, cc
}

func newH1Client(t *testing.T, o ClientOptions) (*h1Transport, *http.Client) {
	t.Helper()
	c := NewHTTPClient(o)
	t.Cleanup(c.CloseIdleConnections)
	return c.Transport.(*h1Transport), c
}

// eventually fails the test when cond does not hold within 10 s; it bounds
// a wait for something asynchronous, it does not time anything.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func post(ctx context.Context, c *http.Client, u, body string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// echo answers "echo:" and the request body, with a Content-Length, or
// chunked when the path is /chunked.
func echo(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	if r.URL.Path == "/chunked" {
		_, _ = w.Write([]byte("echo:"))
		w.(http.Flusher).Flush()
		_, _ = w.Write(b)
		return
	}
	_, _ = w.Write(append([]byte("echo:"), b...))
}

func TestH1ReusesOneConnection(t *testing.T) {
	srv, cc := newCountingServer(t, http.HandlerFunc(echo))
	tr, c := newH1Client(t, ClientOptions{})
	for i := range 20 {
		path := "/"
		if i%2 == 1 {
			path = "/chunked"
		}
		body := fmt.Sprintf("request %d", i)
		got, err := post(context.Background(), c, srv.URL+path, body)
		if err != nil {
			t.Fatal(err)
		}
		if got != "echo:"+body {
			t.Fatalf("answer %q, want %q", got, "echo:"+body)
		}
	}
	if n := cc.opened.Load(); n != 1 {
		t.Errorf("20 sequential requests opened %d connections, want 1", n)
	}
	if n := tr.idleCount(); n != 1 {
		t.Errorf("%d idle connections, want 1", n)
	}
}

func TestH1ConcurrentRequestsGetTheirOwnAnswers(t *testing.T) {
	srv, _ := newCountingServer(t, http.HandlerFunc(echo))
	_, c := newH1Client(t, ClientOptions{})
	var wg sync.WaitGroup
	errs := make(chan error, 8*50)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				path := "/"
				if (g+i)%3 == 0 {
					path = "/chunked"
				}
				body := fmt.Sprintf("g%d-i%d-%s", g, i, strings.Repeat("x", i*37))
				ctx := context.Background()
				if i%7 == 3 { // some requests are abandoned at once
					cctx, cancel := context.WithCancel(ctx)
					cancel()
					if _, err := post(cctx, c, srv.URL+path, body); !errors.Is(err, context.Canceled) {
						errs <- fmt.Errorf("cancelled request: err %v, want context.Canceled", err)
					}
					continue
				}
				got, err := post(ctx, c, srv.URL+path, body)
				if err != nil || got != "echo:"+body {
					errs <- fmt.Errorf("request %s: %q, %v", body, got, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// oneShotServer answers each connection's first request and then closes
// the connection, as an upstream whose keep-alive timeout fires while the
// connection sits in the client's pool. failSecond makes the second
// request's answer stop halfway through its headers.
func oneShotServer(t *testing.T, failSecond bool) (addr string, requests *atomic.Int32, bodies chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	requests = new(atomic.Int32)
	bodies = make(chan string, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			req, err := http.ReadRequest(bufio.NewReader(c))
			if err != nil {
				c.Close()
				continue
			}
			b, _ := io.ReadAll(req.Body)
			n := requests.Add(1)
			bodies <- string(b)
			if failSecond && n == 2 {
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Le")
			} else {
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			}
			c.Close()
		}
	}()
	return ln.Addr().String(), requests, bodies
}

func TestH1DropsAStalePooledConnection(t *testing.T) {
	addr, requests, bodies := oneShotServer(t, false)
	tr, c := newH1Client(t, ClientOptions{})
	for i := range 3 {
		body := fmt.Sprintf("body %d", i)
		got, err := post(context.Background(), c, "http://"+addr+"/", body)
		if err != nil || got != "ok" {
			t.Fatalf("request %d: %q, %v", i, got, err)
		}
		if b := <-bodies; b != body {
			t.Fatalf("upstream got body %q, want %q", b, body)
		}
		// Let the upstream's close reach the pooled connection.
		eventually(t, "the upstream to close", func() bool {
			return tr.idleCount() == 1 && !alive(tr.idle[addr][0].conn)
		})
	}
	if n := requests.Load(); n != 3 {
		t.Errorf("upstream saw %d requests, want 3 (each exactly once)", n)
	}
}

// rawServer serves each connection with handle.
func rawServer(t *testing.T, handle func(c net.Conn, br *bufio.Reader)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c, bufio.NewReader(c))
			}()
		}
	}()
	return ln.Addr().String()
}

// An upstream that reads a request on a reused connection and then closes
// it without answering may have acted on it: a POST is not sent again, an
// idempotent request is.
func TestH1ResendsOnlyWhatTheUpstreamCannotHaveActedOn(t *testing.T) {
	for _, tc := range []struct {
		name   string
		method string
		key    bool
		resent bool
	}{
		{"POST", http.MethodPost, false, false},
		{"POST with Idempotency-Key", http.MethodPost, true, true},
		{"GET", http.MethodGet, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var seen atomic.Int32
			addr := rawServer(t, func(c net.Conn, br *bufio.Reader) {
				for i := 0; ; i++ {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					if req.URL.Path == "/act" {
						seen.Add(1)
						if i == 1 {
							return // read it, maybe acted on it, then died
						}
					}
					_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
				}
			})
			_, c := newH1Client(t, ClientOptions{})
			if _, err := post(context.Background(), c, "http://"+addr+"/warm", "x"); err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest(tc.method, "http://"+addr+"/act", strings.NewReader("charge me"))
			if tc.key {
				req.Header.Set("Idempotency-Key", "k1")
			}
			resp, err := c.Do(req)
			if err == nil {
				resp.Body.Close()
			}
			if got, want := seen.Load(), map[bool]int32{false: 1, true: 2}[tc.resent]; got != want {
				t.Errorf("upstream saw the request %d times, want %d", got, want)
			}
			if (err == nil) != tc.resent {
				t.Errorf("err = %v, resent = %v", err, tc.resent)
			}
		})
	}
}

// Bytes after a complete answer can only be the upstream's mistake; they
// must never be taken for the next request's answer.
func TestH1NeverTakesLeftoverBytesForAnAnswer(t *testing.T) {
	for name, extra := range map[string]string{
		"after a Content-Length body": "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged",
		"after a 204":                 "forged",
	} {
		t.Run(name, func(t *testing.T) {
			first := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
			if name == "after a 204" {
				first = "HTTP/1.1 204 No Content\r\n\r\n"
			}
			var answered atomic.Int32 // over all connections
			addr := rawServer(t, func(c net.Conn, br *bufio.Reader) {
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					if answered.Add(1) == 1 {
						_, _ = io.WriteString(c, first+extra)
					} else {
						_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nreal")
					}
				}
			})
			tr, c := newH1Client(t, ClientOptions{})
			if _, err := post(context.Background(), c, "http://"+addr+"/", "x"); err != nil {
				t.Fatal(err)
			}
			// The leftover may arrive with the answer or just after it.
			time.Sleep(20 * time.Millisecond)
			got, err := post(context.Background(), c, "http://"+addr+"/", "y")
			if err != nil || got != "real" {
				t.Errorf("second answer %q, %v; want \"real\"", got, err)
			}
			_ = tr
		})
	}
}

func TestH1BodyOwnership(t *testing.T) {
	srv, _ := newCountingServer(t, http.HandlerFunc(echo))
	open := func(t *testing.T) (*h1Transport, *h1Body) {
		tr, c := newH1Client(t, ClientOptions{})
		resp, err := c.Post(srv.URL, "text/plain", strings.NewReader("x"))
		if err != nil {
			t.Fatal(err)
		}
		return tr, resp.Body.(*h1Body)
	}
	t.Run("abort first", func(t *testing.T) {
		tr, b := open(t)
		b.abort()                       // a Close found a Read in progress
		_, _ = io.ReadAll(io.Reader(b)) // that Read then reaches the end, or fails
		if n := tr.idleCount(); n != 0 {
			t.Errorf("a connection closed by an abort was pooled (%d idle)", n)
		}
	})
	t.Run("finish first", func(t *testing.T) {
		tr, b := open(t)
		if got, err := io.ReadAll(io.Reader(b)); err != nil || string(got) != "echo:x" {
			t.Fatalf("body %q, %v", got, err)
		}
		b.abort() // too late: the connection is no longer the body's
		if n := tr.idleCount(); n != 1 || !alive(tr.idle[srv.Listener.Addr().String()][0].conn) {
			t.Errorf("a pooled connection was closed by a late abort (%d idle)", n)
		}
	})
}

func TestH1RefusesBadRequests(t *testing.T) {
	var requests atomic.Int32
	srv, _ := newCountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		echo(w, r)
	}))
	_, c := newH1Client(t, ClientOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	longer := func() *http.Request {
		declared := `{"a":1}`
		smuggled := "GET /smuggled HTTP/1.1\r\nHost: x\r\nX-Pad: " + strings.Repeat("p", 8<<10) + "\r\n\r\n"
		r, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader(declared+smuggled))
		r.ContentLength = int64(len(declared))
		return r
	}
	shorter := func() *http.Request {
		r, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader("short"))
		r.ContentLength = 10
		return r
	}
	nilBody := func() *http.Request {
		r, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, nil)
		r.ContentLength = 5
		return r
	}
	controlInURL := func() *http.Request {
		r, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader("x"))
		r.URL.RawQuery = "a=1 HTTP/1.1\r\nX-Injected: yes\r\nX-Rest: "
		return r
	}
	nulInHeader := func() *http.Request {
		r, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader("x"))
		r.Header["X-Bad"] = []string{"a\x00b"}
		return r
	}
	badMethod := func() *http.Request {
		r, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader("x"))
		r.Method = "POST /x HTTP/1.1\r\n"
		return r
	}
	for name, mk := range map[string]func() *http.Request{
		"body longer than Content-Length": longer, "body shorter than Content-Length": shorter,
		"Content-Length without a body": nilBody, "control character in the URL": controlInURL,
		"NUL in a header value": nulInHeader, "invalid method": badMethod,
	} {
		t.Run(name, func(t *testing.T) {
			resp, err := c.Do(mk())
			if err == nil {
				resp.Body.Close()
				t.Fatal("the request was sent and answered")
			}
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v: the bad request was left waiting for an answer", err)
			}
		})
	}
	// Give a request smuggled past the checks the time to arrive.
	if _, err := post(context.Background(), c, srv.URL, "after"); err != nil {
		t.Fatal(err)
	}
	if n := requests.Load(); n > 2 {
		t.Errorf("upstream served %d requests, want at most 2 (the declared part of the long body, and the last)", n)
	}
}

func TestH1BoundsTheResponseHead(t *testing.T) {
	addr := rawServer(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nX-Huge: ")
		chunk := strings.Repeat("h", 64<<10)
		for range (maxHeaderBytes / len(chunk)) + 2 {
			if _, err := io.WriteString(c, chunk); err != nil {
				return
			}
		}
	})
	_, c := newH1Client(t, ClientOptions{})
	_, err := post(context.Background(), c, "http://"+addr+"/", "x")
	if !errors.Is(err, errHeaderTooLarge) {
		t.Fatalf("err = %v, want the head-too-large error", err)
	}
}

func TestH1ConnectionCloseHeaderIsHonoured(t *testing.T) {
	srv, cc := newCountingServer(t, http.HandlerFunc(echo))
	tr, c := newH1Client(t, ClientOptions{})
	for range 2 {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("x"))
		req.Header.Set("Connection", "close")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if n := tr.idleCount(); n != 0 || cc.opened.Load() != 2 {
		t.Errorf("%d idle, %d opened; want 0 and 2", n, cc.opened.Load())
	}
}

func TestAlive(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	peer := <-accepted
	if !alive(c) {
		t.Fatal("an open idle connection is not alive")
	}
	if _, err := peer.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "unexpected data to be seen", func() bool { return !alive(c) })
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		t.Fatal(err)
	}
	if !alive(c) {
		t.Fatal("the connection is not alive after the data was read")
	}
	peer.Close()
	eventually(t, "the close to be seen", func() bool { return !alive(c) })
}

// sseServer streams events; done is closed when a handler's request
// context ends before the handler has finished.
func sseServer(t *testing.T, events int, every time.Duration) (*httptest.Server, *connCounter, chan struct{}) {
	t.Helper()
	gone := make(chan struct{}, 16)
	srv, cc := newCountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := 0; events < 0 || i < events; i++ {
			if _, err := fmt.Fprintf(w, "data: {\"n\":%d,\"pad\":%q}\n\n", i, strings.Repeat("p", 200)); err != nil {
				break
			}
			w.(http.Flusher).Flush()
			if every > 0 {
				select {
				case <-r.Context().Done():
					gone <- struct{}{}
					return
				case <-time.After(every):
				}
			}
		}
		if events >= 0 {
			_, _ = io.WriteString(w, "data: [DONE]\n\n")
			w.(http.Flusher).Flush()
			// The chunked terminator follows a little later, as it does
			// from an upstream that finishes its bookkeeping after the
			// last event: the client has its [DONE] before the body's end.
			time.Sleep(20 * time.Millisecond)
		}
	}))
	return srv, cc, gone
}

// readUntilDone reads an event stream up to and including [DONE], without
// reading on to the end of the body.
func readUntilDone(t *testing.T, r io.Reader) {
	t.Helper()
	br := bufio.NewReaderSize(r, 64)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended before [DONE]: %v", err)
		}
		if line == "data: [DONE]\n" {
			return
		}
	}
}

func TestH1CloseEndedReusesTheConnection(t *testing.T) {
	srv, cc, _ := sseServer(t, 5, 0)
	tr, c := newH1Client(t, ClientOptions{})
	for range 5 {
		resp, err := c.Post(srv.URL, "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		readUntilDone(t, resp.Body)
		if err := CloseEnded(resp.Body); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the connection to return to the pool", func() bool { return tr.idleCount() == 1 })
	}
	if n := cc.opened.Load(); n != 1 {
		t.Errorf("5 streams ended with CloseEnded opened %d connections, want 1", n)
	}
}

// A body closed before its end, with Close or with CloseEnded (which reads
// on only as far as a few kilobytes), drops its connection: the upstream
// learns that nobody reads on.
func TestH1CloseBeforeTheEndDropsTheConnection(t *testing.T) {
	for name, closeBody := range map[string]func(io.ReadCloser) error{
		"Close": io.ReadCloser.Close, "CloseEnded": func(b io.ReadCloser) error { return CloseEnded(b) },
	} {
		t.Run(name, func(t *testing.T) {
			srv, cc, gone := sseServer(t, -1, time.Millisecond)
			tr, c := newH1Client(t, ClientOptions{})
			resp, err := c.Post(srv.URL, "application/json", strings.NewReader("{}"))
			if err != nil {
				t.Fatal(err)
			}
			var b [64]byte
			if _, err := resp.Body.Read(b[:]); err != nil {
				t.Fatal(err)
			}
			_ = closeBody(resp.Body)
			<-gone
			if _, err := resp.Body.Read(b[:]); err == nil {
				t.Error("Read after Close succeeded")
			}
			if n := tr.idleCount(); n != 0 || cc.opened.Load() != 1 {
				t.Errorf("%d idle connections, %d opened; want 0 and 1", n, cc.opened.Load())
			}
		})
	}
}

func TestH1CancelEndsTheBodyAndTheConnection(t *testing.T) {
	srv, _, gone := sseServer(t, -1, 5*time.Millisecond)
	_, c := newH1Client(t, ClientOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader("{}"))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b [64]byte
	if _, err := resp.Body.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	readErr := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, resp.Body)
		readErr <- err
	}()
	cancel()
	if err := <-readErr; !errors.Is(err, context.Canceled) {
		t.Errorf("read after cancel: %v, want context.Canceled", err)
	}
	<-gone
}

func TestH1CloseUnblocksARead(t *testing.T) {
	srv, _, gone := sseServer(t, -1, time.Hour)
	_, c := newH1Client(t, ClientOptions{})
	resp, err := c.Post(srv.URL, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	var b [4096]byte
	if _, err := resp.Body.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	readErr := make(chan error, 1)
	go func() {
		_, err := resp.Body.Read(b[:]) // blocks: the next event is an hour away
		readErr <- err
	}()
	time.Sleep(10 * time.Millisecond) // let the Read block (it is correct either way)
	resp.Body.Close()
	if err := <-readErr; err == nil {
		t.Error("a Read blocked across Close returned no error")
	}
	<-gone
}

func TestH1ConnectionCloseIsHonoured(t *testing.T) {
	srv, cc := newCountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		echo(w, r)
	}))
	tr, c := newH1Client(t, ClientOptions{})
	for i := range 3 {
		if got, err := post(context.Background(), c, srv.URL, "x"); err != nil || got != "echo:x" {
			t.Fatalf("request %d: %q, %v", i, got, err)
		}
	}
	if n := cc.opened.Load(); n != 3 {
		t.Errorf("opened %d connections, want 3", n)
	}
	if n := tr.idleCount(); n != 0 {
		t.Errorf("%d idle connections, want 0", n)
	}
}

func TestH1SkipsInterimResponses(t *testing.T) {
	srv, _ := newCountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Link")
		echo(w, r)
	}))
	_, c := newH1Client(t, ClientOptions{})
	for range 2 {
		if got, err := post(context.Background(), c, srv.URL, "x"); err != nil || got != "echo:x" {
			t.Fatalf("got %q, %v", got, err)
		}
	}
}

func TestH1HeaderTimeoutDoesNotLimitTheBody(t *testing.T) {
	release := make(chan struct{})
	srv, _ := newCountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "first ")
		w.(http.Flusher).Flush()
		<-release
		_, _ = io.WriteString(w, "second")
	}))
	_, c := newH1Client(t, ClientOptions{ResponseHeaderTimeout: 20 * time.Millisecond})
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	time.AfterFunc(100*time.Millisecond, func() { close(release) })
	b, err := io.ReadAll(resp.Body)
	if err != nil || string(b) != "first second" {
		t.Fatalf("body %q, %v", b, err)
	}
}

func TestH1IdleConnectionsExpire(t *testing.T) {
	srv, cc := newCountingServer(t, http.HandlerFunc(echo))
	tr, c := newH1Client(t, ClientOptions{})
	tr.idleTimeout = 20 * time.Millisecond
	if _, err := post(context.Background(), c, srv.URL, "x"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the idle connection to be closed", func() bool { return cc.closed.Load() == 1 })
	if n := tr.idleCount(); n != 0 {
		t.Errorf("%d idle connections, want 0", n)
	}
	if _, err := post(context.Background(), c, srv.URL, "y"); err != nil {
		t.Fatal(err)
	}
	if n := cc.opened.Load(); n != 2 {
		t.Errorf("opened %d connections, want 2", n)
	}
}

func TestH1KeepsAtMostMaxIdle(t *testing.T) {
	var in sync.WaitGroup
	in.Add(3)
	release := make(chan struct{})
	srv, cc := newCountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in.Done()
		<-release
		echo(w, r)
	}))
	tr, c := newH1Client(t, ClientOptions{MaxIdleConnsPerHost: 1})
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := post(context.Background(), c, srv.URL, "x"); err != nil {
				t.Error(err)
			}
		}()
	}
	in.Wait()
	close(release)
	wg.Wait()
	if n := tr.idleCount(); n != 1 {
		t.Errorf("%d idle connections, want 1", n)
	}
	eventually(t, "two connections to be closed", func() bool { return cc.closed.Load() == 2 })
}

func TestH1ProxiedAndTLSRequestsUseTheStandardTransport(t *testing.T) {
	var proxied atomic.Value
	proxy, _ := newCountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxied.Store(r.RequestURI)
		_, _ = io.WriteString(w, "via proxy")
	}))
	pu, _ := url.Parse(proxy.URL)
	tr, c := newH1Client(t, ClientOptions{})
	tr.useProxy = true
	tr.proxy = http.ProxyURL(pu)
	tr.fallback.Proxy = tr.proxy
	got, err := post(context.Background(), c, "http://upstream.invalid/v1/chat", "x")
	if err != nil || got != "via proxy" {
		t.Fatalf("got %q, %v", got, err)
	}
	if u := proxied.Load(); u != "http://upstream.invalid/v1/chat" {
		t.Errorf("proxy saw %v, want the absolute URL", u)
	}
	if n := tr.idleCount(); n != 0 {
		t.Errorf("the proxied request used the HTTP/1.1 pool (%d idle)", n)
	}
}

type trackedBody struct {
	io.Reader
	closed atomic.Bool
}

func (b *trackedBody) Close() error { b.closed.Store(true); return nil }

func TestH1ClosesTheRequestBodyOnFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	_, c := newH1Client(t, ClientOptions{})
	body := &trackedBody{Reader: bytes.NewReader([]byte("x"))}
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/", body)
	if _, err := c.Do(req); err == nil {
		t.Fatal("request to a closed port succeeded")
	}
	if !body.closed.Load() {
		t.Error("the request body was not closed")
	}
}

func TestEventStreamEndReturnsTheConnection(t *testing.T) {
	srv, cc, _ := sseServer(t, 3, 0)
	tr, c := newH1Client(t, ClientOptions{})
	up := NewUpstream(UpstreamConfig{Name: "fake", Client: c})
	for i := range 3 {
		var s EventStream
		if err := s.Open(context.Background(), up, srv.URL, []byte("{}")); err != nil {
			t.Fatal(err)
		}
		events := 0
		for {
			_, data, err := s.Next()
			if err != nil {
				t.Fatalf("stream %d: %v", i, err)
			}
			if string(data) == "[DONE]" {
				break
			}
			events++
		}
		if events != 3 {
			t.Fatalf("stream %d: %d events, want 3", i, events)
		}
		if err := s.End(); err != io.EOF {
			t.Fatalf("End: %v", err)
		}
		_ = s.Close()
		eventually(t, "the connection to return to the pool", func() bool { return tr.idleCount() == 1 })
	}
	if n := cc.opened.Load(); n != 1 {
		t.Errorf("3 streams opened %d connections, want 1", n)
	}
}

func TestEventStreamCloseBeforeEndDropsTheConnection(t *testing.T) {
	srv, _, gone := sseServer(t, -1, time.Millisecond)
	tr, c := newH1Client(t, ClientOptions{})
	up := NewUpstream(UpstreamConfig{Name: "fake", Client: c})
	var s EventStream
	if err := s.Open(context.Background(), up, srv.URL, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Next(); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	<-gone
	if n := tr.idleCount(); n != 0 {
		t.Errorf("%d idle connections after a stream closed early, want 0", n)
	}
}

func TestH1ReturnsAnAnswerSentBeforeTheRequestWasRead(t *testing.T) {
	srv, _ := newCountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "too large", http.StatusRequestEntityTooLarge) // without reading the body
	}))
	_, c := newH1Client(t, ClientOptions{})
	req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(make([]byte, 32<<20)))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("err %v, want the upstream's 413", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", resp.StatusCode)
	}
}

// writeRequest must put on the wire what Request.Write does: both outputs
// are read back with http.ReadRequest and compared.
func TestWriteRequestMatchesRequestWrite(t *testing.T) {
	mk := func(method, u string, body []byte, h map[string]string, mod func(*http.Request)) *http.Request {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		r, err := http.NewRequest(method, u, rd)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range h {
			r.Header.Set(k, v)
		}
		if mod != nil {
			mod(r)
		}
		return r
	}
	body := []byte(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`)
	cases := map[string]func() *http.Request{
		"post": func() *http.Request {
			return mk("POST", "http://up.example:8080/v1/chat/completions", body,
				map[string]string{"Authorization": "Bearer sk-x", "Content-Type": "application/json", "User-Agent": "llmgw", "Accept": "text/event-stream"}, nil)
		},
		"query and default agent": func() *http.Request {
			return mk("POST", "http://up.example/v1/x?api-version=2024-10-21&a=b%20c", body, nil, nil)
		},
		"get":    func() *http.Request { return mk("GET", "http://up.example/v1/models", nil, nil, nil) },
		"delete": func() *http.Request { return mk("DELETE", "http://up.example/v1/files/1", nil, nil, nil) },
		"empty agent": func() *http.Request {
			return mk("POST", "http://up.example/", body, map[string]string{"User-Agent": ""}, nil)
		},
		"multi-valued": func() *http.Request {
			return mk("POST", "http://up.example/", body, nil, func(r *http.Request) {
				r.Header.Add("X-A", "1")
				r.Header.Add("X-A", "2")
			})
		},
		"host and close": func() *http.Request {
			return mk("POST", "http://127.0.0.1:9/", body, nil, func(r *http.Request) {
				r.Host = "virtual.example"
				r.Close = true
			})
		},
		"line break in a value": func() *http.Request {
			return mk("POST", "http://up.example/", body, nil, func(r *http.Request) {
				r.Header["X-Evil"] = []string{"a\r\nInjected: yes"}
			})
		},
		"padded value": func() *http.Request {
			return mk("POST", "http://up.example/", body, nil, func(r *http.Request) { r.Header["X-Pad"] = []string{" v "} })
		},
		"unknown length": func() *http.Request {
			return mk("POST", "http://up.example/", nil, nil, func(r *http.Request) {
				r.Body = io.NopCloser(bytes.NewReader(body))
				r.ContentLength = -1
			})
		},
	}
	for name, newReq := range cases {
		t.Run(name, func(t *testing.T) {
			var want, got bytes.Buffer
			if err := newReq().Write(&want); err != nil {
				t.Fatal(err)
			}
			bw := bufio.NewWriter(&got)
			if err := writeRequest(bw, newReq()); err != nil {
				t.Fatal(err)
			}
			bw.Flush()
			wantText, gotText := want.String(), got.String()
			w, err := http.ReadRequest(bufio.NewReader(&want))
			if err != nil {
				t.Fatal(err)
			}
			g, err := http.ReadRequest(bufio.NewReader(&got))
			if err != nil {
				t.Fatalf("%v in\n%s", err, gotText)
			}
			wb, _ := io.ReadAll(w.Body)
			gb, _ := io.ReadAll(g.Body)
			if g.Method != w.Method || g.RequestURI != w.RequestURI || g.Proto != w.Proto || g.Host != w.Host ||
				g.ContentLength != w.ContentLength || g.Close != w.Close || !bytes.Equal(gb, wb) ||
				fmt.Sprint(g.Header) != fmt.Sprint(w.Header) || fmt.Sprint(g.TransferEncoding) != fmt.Sprint(w.TransferEncoding) {
				t.Errorf("writeRequest wrote\n%s\nRequest.Write wrote\n%s", gotText, wantText)
			}
		})
	}
}

func TestWriteRequestChecksTheBodyLength(t *testing.T) {
	req, _ := http.NewRequest(http.MethodPost, "http://up.example/", strings.NewReader("short"))
	req.ContentLength = 10
	if err := writeRequest(bufio.NewWriter(io.Discard), req); err == nil {
		t.Fatal("a body shorter than its Content-Length was written without error")
	}
}

func BenchmarkWriteRequest(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 600)
	h, _ := StaticHeader(map[string]string{"Authorization": "Bearer sk-0123456789"})
	h.Set("Accept", "application/json")
	for _, bc := range []struct {
		name  string
		write func(*bufio.Writer, *http.Request) error
	}{
		{"writeRequest", writeRequest},
		{"Request.Write", func(w *bufio.Writer, r *http.Request) error { return r.Write(w) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			w := bufio.NewWriterSize(io.Discard, 4<<10)
			b.ReportAllocs()
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodPost, "http://up.example/v1/chat/completions", bytes.NewReader(body))
				req.Header = h
				if err := bc.write(w, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
