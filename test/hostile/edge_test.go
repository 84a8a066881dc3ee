package hostile

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// cutBound is how long the gateway may take, past a configured timeout of
// a second or two, to cut a connection: generous for a loaded machine.
const cutBound = 15 * time.Second

// dial opens a raw connection to the gateway.
func (g *gateway) dial(t *testing.T) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", g.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// drip writes b one byte every interval until it is written, a write
// fails or stop is closed.
func drip(c net.Conn, b []byte, interval time.Duration, stop <-chan struct{}) {
	for i := range b {
		if _, err := c.Write(b[i : i+1]); err != nil {
			return
		}
		select {
		case <-stop:
			return
		case <-time.After(interval):
		}
	}
}

// waitCut reads from c until the gateway closes it, and returns what it
// read; it fails if the connection is still open after cutBound.
func waitCut(t *testing.T, c net.Conn) string {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(cutBound)); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the connection is still open after %v (read %q)", cutBound, got)
	}
	return string(got)
}

// edgeTimeouts are the short edge timeouts the edge tests configure.
const edgeTimeouts = `  read_header_timeout: "1s"
  idle_timeout: "1s"`

// TestSlowHeaders: a client that sends its headers a byte at a time is cut
// by server.read_header_timeout.
func TestSlowHeaders(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, gatewayConfig(up.URL, edgeTimeouts, true))
	c := g.dial(t)
	stop := make(chan struct{})
	defer close(stop)
	go drip(c, []byte("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "+strings.Repeat("a", 1000)+"\r\n\r\n"), 100*time.Millisecond, stop)
	if got := waitCut(t, c); got != "" && !strings.HasPrefix(got, "HTTP/1.1 408") && !strings.HasPrefix(got, "HTTP/1.1 400") {
		t.Errorf("a slow client got %.200q", got)
	}
	g.finish(t)
}

// TestIdleConnection: a keep-alive connection left idle after a response is
// closed by server.idle_timeout.
func TestIdleConnection(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, gatewayConfig(up.URL, edgeTimeouts, true))
	c := g.dial(t)
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Close {
		t.Fatalf("/healthz: %d, close %v", resp.StatusCode, resp.Close)
	}
	if err := c.SetReadDeadline(time.Now().Add(cutBound)); err != nil {
		t.Fatal(err)
	}
	if _, err := br.ReadByte(); errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("an idle connection is still open after %v", cutBound)
	}
	g.finish(t)
}

// slowBody is server.read_timeout for the slow-body tests, with a request
// timeout long enough for the stream that must outlive it.
const slowBody = `  read_timeout: "2s"
  request_timeout: "20s"`

// TestSlowBody: a client that sends its body a byte at a time, with a
// valid key so that the body is read, is cut by server.read_timeout: a 408
// or a closed connection, not a request held open for as long as the
// client likes.
func TestSlowBody(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, gatewayConfig(up.URL, slowBody, true))
	c := g.dial(t)
	head := "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + canaryVirtualKey +
		"\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go drip(c, []byte(`{"model":"oa-ok","messages":[{"role":"user","content":"`+strings.Repeat("a", 99_000)), 100*time.Millisecond, stop)
	got := waitCut(t, c)
	if got != "" && !strings.HasPrefix(got, "HTTP/1.1 408") && !strings.HasPrefix(got, "HTTP/1.1 400") {
		t.Errorf("a slow body got %.300q", got)
	}
	noCanary(t, "the answer to a slow body", got)
	g.finish(t)
}

// TestStreamOutlivesReadTimeout: server.read_timeout bounds reading the
// request, not the response: a stream longer than it completes.
func TestStreamOutlivesReadTimeout(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, gatewayConfig(up.URL, slowBody, true))
	// 60 words at the mock's 20 a second: 3 s, past the 2 s read timeout.
	text := strings.TrimSpace(strings.Repeat("word ", 60))
	a := g.do("POST", "/v1/chat/completions", []byte(`{"model":"mock","stream":true,"messages":[{"role":"user","content":"`+text+`"}]}`), auth(canaryVirtualKey)...)
	if a.err != nil || a.status != 200 {
		t.Fatalf("stream: %v %d %.300s", a.err, a.status, a.body)
	}
	checkStreamEnd(t, "/v1/chat/completions", a.body, true)
	g.finish(t)
}

// TestReflectionBounds: values a client sends come back in errors and logs
// truncated: a 1 MiB model name, path or header does not come back whole
// in a response, and no log line grows past maxLogLine.
func TestReflectionBounds(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, gatewayConfig(up.URL, "", true))
	const maxErrorBody = 2048
	huge := strings.Repeat("m", 1<<20)
	check := func(t *testing.T, what string, a answer, status int) {
		t.Helper()
		if a.err != nil {
			t.Fatalf("%s: %v", what, a.err)
		}
		if status != 0 && a.status != status {
			t.Errorf("%s: status %d, want %d", what, a.status, status)
		}
		if len(a.body) > maxErrorBody {
			t.Errorf("%s: an error body of %d bytes: %.200s...", what, len(a.body), a.body)
		}
		var h strings.Builder
		_ = a.header.Write(&h)
		if h.Len() > maxErrorBody {
			t.Errorf("%s: %d bytes of response headers", what, h.Len())
		}
	}
	for _, c := range modelBodies(huge) {
		t.Run("model"+c.path, func(t *testing.T) {
			a := g.do("POST", c.path, []byte(c.body), auth(canaryVirtualKey)...)
			check(t, "a 1 MiB model name", a, 404)
			if a.status == 404 {
				errorShape(t, c.path, a)
			}
		})
	}
	t.Run("path", func(t *testing.T) {
		check(t, "a 512 KiB path", g.do("GET", "/"+strings.Repeat("p", 512<<10), nil), 404)
		check(t, "a 512 KiB path under /v1", g.do("POST", "/v1/"+strings.Repeat("p", 512<<10), nil, auth(canaryVirtualKey)...), 404)
	})
	t.Run("headers", func(t *testing.T) {
		big := strings.Repeat("h", 512<<10)
		chat := modelBodies("oa-ok")[0]
		check(t, "a 512 KiB fallback list", g.do("POST", chat.path, []byte(chat.body), append(auth(canaryOneModelKey), "X-Llmgw-Fallbacks", big)...), 0)
		msgs := modelBodies("an-ok")[1]
		check(t, "a 512 KiB anthropic-version", g.do("POST", msgs.path, []byte(msgs.body), append(auth(canaryVirtualKey), "Anthropic-Version", big)...), 0)
		check(t, "a 512 KiB unknown key", g.do("POST", chat.path, []byte(chat.body), auth("sk-"+big)...), 401)
	})
	g.finish(t)
}
