package server

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/sse"
)

// slowConfig is baseConfig with the given server settings added.
func slowConfig(settings string) string {
	return strings.Replace(baseConfig, "server:\n", "server:\n"+settings, 1)
}

// readResponse reads one response from c, waiting at most wait; it returns
// nil and the error when the connection is closed or the wait passes.
func readResponse(c net.Conn, br *bufio.Reader, wait time.Duration) (*http.Response, error) {
	_ = c.SetReadDeadline(time.Now().Add(wait))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, nil
}

// baseGoroutines returns the number of goroutines of a server on ln at
// rest: once it has served one request and closed its connection.
func baseGoroutines(t *testing.T, ln net.Listener) int {
	t.Helper()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, _ = io.Copy(io.Discard, c)
	c.Close()
	n := runtime.NumGoroutine()
	for i := 0; i < 100; i++ { // until the count has not dropped for 100ms
		time.Sleep(100 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m >= n {
			return n
		}
		n = m
	}
	return n
}

// waitGoroutines waits until the number of goroutines is back to at most
// base, and fails the test if it is not after a generous while.
func waitGoroutines(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, baseline %d:\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Bodies that drip in one byte at a time are cut after read_timeout: every
// client gets a 408 or a closed connection, and the server keeps no
// goroutine (nor file descriptor) for any of them.
func TestSlowBodyIsCut(t *testing.T) {
	_, ln, _, cancel, done := runServer(t, slowConfig("  read_timeout: \"1s\"\n"))
	defer func() { cancel(); <-done }()
	base := baseGoroutines(t, ln)

	const clients = 40
	var wg sync.WaitGroup
	results := make(chan string, clients)
	stop := make(chan struct{})
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				results <- "dial: " + err.Error()
				return
			}
			defer c.Close()
			fmt.Fprintf(c, "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
			go func() { // one byte every 100ms, for far longer than read_timeout
				for {
					select {
					case <-stop:
						return
					case <-time.After(100 * time.Millisecond):
					}
					if _, err := c.Write([]byte(" ")); err != nil {
						return
					}
				}
			}()
			resp, err := readResponse(c, bufio.NewReader(c), 30*time.Second)
			switch {
			case err == nil && resp.StatusCode == http.StatusRequestTimeout && resp.Close:
				results <- "cut"
			case err == nil:
				results <- fmt.Sprintf("status %d, close %v", resp.StatusCode, resp.Close)
			case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "reset"):
				results <- "cut"
			default:
				results <- "not cut: " + err.Error()
			}
		}()
	}
	wg.Wait()
	close(stop)
	close(results)
	for r := range results {
		if r != "cut" {
			t.Errorf("slow body: %s", r)
		}
	}
	waitGoroutines(t, base)
}

// A stream that lasts far longer than read_timeout is not cut by it: the
// read deadline ends with the request body.
func TestStreamOutlivesReadTimeout(t *testing.T) {
	yaml := `
server:
  read_timeout: "200ms"
providers: [{name: mock, type: mock, mock: {tokens_per_second: 8}}]
models: [{name: mock, targets: [{provider: mock, model: mock}]}]
`
	_, ln, _, cancel, done := runServer(t, yaml)
	defer func() { cancel(); <-done }()
	start := time.Now()
	resp, err := http.Post("http://"+ln.Addr().String()+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"mock","stream":true,"messages":[{"role":"user","content":"one two three four five six seven eight"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := sse.NewReader(resp.Body, 0)
	var last string
	for {
		ev, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("stream cut after %v: %v", time.Since(start), err)
		}
		last = string(ev.Data)
	}
	if last != "[DONE]" {
		t.Fatalf("stream ended with %q after %v", last, time.Since(start))
	}
	if el := time.Since(start); el < 400*time.Millisecond {
		t.Fatalf("the stream lasted %v: too short to test read_timeout", el)
	}
}

// Without a valid key, the 401 is written before a byte of the body is
// read: a client that drips a body gets its answer at once, and its
// connection is closed rather than held for the rest of the body.
func TestUnauthenticatedSlowBodyAnsweredAtOnce(t *testing.T) {
	_, ln, _, cancel, done := runServer(t, strings.Replace(keysConfig, "server:\n", "server:\n  read_timeout: \"60s\"\n", 1))
	defer func() { cancel(); <-done }()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer wrong\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"model\":")
	br := bufio.NewReader(c)
	resp, err := readResponse(c, br, 20*time.Second)
	if err != nil {
		t.Fatalf("no answer while the body is pending: %v", err)
	}
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", resp.StatusCode)
	}
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := br.ReadByte(); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("connection still open after the 401: %v", err)
	}
}

// Idle keep-alive connections are closed after idle_timeout, and headers
// that never end after read_header_timeout.
func TestIdleAndSlowHeaderConnectionsClosed(t *testing.T) {
	_, ln, _, cancel, done := runServer(t, slowConfig("  idle_timeout: \"300ms\"\n  read_header_timeout: \"300ms\"\n"))
	defer func() { cancel(); <-done }()
	base := baseGoroutines(t, ln)

	idle, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	fmt.Fprintf(idle, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	br := bufio.NewReader(idle)
	resp, err := readResponse(idle, br, 20*time.Second)
	if err != nil || resp.StatusCode != 200 || resp.Close {
		t.Fatalf("healthz: %v %+v", err, resp)
	}

	slow, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fmt.Fprintf(slow, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n") // no end of headers

	for name, c := range map[string]net.Conn{"idle keep-alive": idle, "slow headers": slow} {
		_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
		r := br
		if c != idle {
			r = bufio.NewReader(c)
		}
		if _, err := io.Copy(io.Discard, r); err != nil {
			t.Errorf("%s connection not closed by the server: %v", name, err)
		}
	}
	waitGoroutines(t, base)
}

// A body over the limit is answered 413 as soon as the limit is passed,
// without waiting for the rest of it, and the connection is closed.
func TestTooLargeBodyAnsweredWithoutTheRest(t *testing.T) {
	_, ln, _, cancel, done := runServer(t, slowConfig("  max_body_bytes: 1024\n  read_timeout: \"60s\"\n"))
	defer func() { cancel(); <-done }()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Chunked, so the size is known only once 1 KiB has arrived; the rest
	// never comes.
	fmt.Fprintf(c, "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n%s\r\n", strings.Repeat("x", 0x800))
	br := bufio.NewReader(c)
	resp, err := readResponse(c, br, 20*time.Second)
	if err != nil {
		t.Fatalf("no answer while the body is pending: %v", err)
	}
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !resp.Close {
		t.Fatalf("status %d, close %v; want 413 and close", resp.StatusCode, resp.Close)
	}
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := br.ReadByte(); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("connection still open after the 413: %v", err)
	}
}
