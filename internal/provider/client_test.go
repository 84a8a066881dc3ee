package provider

import (
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func newTestClient(t *testing.T, o ClientOptions) *http.Client {
	t.Helper()
	c := NewHTTPClient(o)
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func TestNewHTTPClientSettings(t *testing.T) {
	c := NewHTTPClient(ClientOptions{ResponseHeaderTimeout: 3 * time.Second})
	h1, ok := c.Transport.(*h1Transport)
	if !ok {
		t.Fatalf("Transport is %T, want *h1Transport", c.Transport)
	}
	if h1.maxIdle != DefaultMaxIdleConnsPerHost || h1.headerTimeout != 3*time.Second || h1.idleTimeout <= 0 {
		t.Errorf("unexpected h1 transport settings: %+v", h1)
	}
	tr := h1.fallback
	if tr == http.DefaultTransport {
		t.Fatal("client uses http.DefaultTransport")
	}
	if c.Timeout != 0 {
		t.Errorf("Client.Timeout = %v, want 0 (deadlines come from contexts)", c.Timeout)
	}
	if !tr.ForceAttemptHTTP2 || tr.MaxIdleConnsPerHost != DefaultMaxIdleConnsPerHost ||
		tr.ResponseHeaderTimeout != 3*time.Second || tr.Proxy == nil || tr.DisableCompression {
		t.Errorf("unexpected transport settings: %+v", tr)
	}
}

func TestNewHTTPClientNegotiatesHTTP2(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(r.Proto))
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	pool := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs

	c := newTestClient(t, ClientOptions{TLSConfig: &tls.Config{RootCAs: pool}})
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Fatalf("ProtoMajor = %d, want 2", resp.ProtoMajor)
	}
}

func TestNewHTTPClientDoesNotFollowRedirects(t *testing.T) {
	var hits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
	}))
	t.Cleanup(other.Close)
	srv := httptest.NewServer(http.RedirectHandler(other.URL+"/steal", http.StatusTemporaryRedirect))
	t.Cleanup(srv.Close)

	c := newTestClient(t, ClientOptions{})
	req, _ := http.NewRequest(http.MethodPost, srv.URL, nil)
	req.Header.Set("Authorization", "Bearer sk-secret")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect {
		t.Errorf("status = %d, want the redirect itself", resp.StatusCode)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("redirect target was called %d times", n)
	}
}

func TestNewHTTPClientResponseHeaderTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs before srv.Close

	c := newTestClient(t, ClientOptions{ResponseHeaderTimeout: 20 * time.Millisecond})
	resp, err := c.Get(srv.URL)
	if err == nil {
		resp.Body.Close()
		t.Fatal("request succeeded, want a response header timeout")
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("err = %v, want a timeout", err)
	}
}
