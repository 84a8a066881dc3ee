package provider

import (
	"crypto/tls"
	"net"
	"net/http"
	"time"
)

// ClientOptions tunes the upstream HTTP client. Zero fields take defaults.
type ClientOptions struct {
	// ConnectTimeout bounds establishing a TCP connection; default 10s.
	ConnectTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for the response headers after
	// the request is written; 0 means none. A non-streaming completion sends
	// its headers only when the whole answer is ready, so keep it generous.
	ResponseHeaderTimeout time.Duration
	// MaxIdleConnsPerHost is the idle connection pool per upstream host;
	// default 256.
	MaxIdleConnsPerHost int
	// TLSConfig, when set, is cloned into the transport (a private CA for a
	// self-hosted upstream, say).
	TLSConfig *tls.Config
	// MaxConnections bounds the requests in progress per upstream host
	// (h1.go's slots); 0 is no bound. PoolTimeout bounds the wait for a
	// slot, default DefaultPoolTimeout.
	MaxConnections int
	PoolTimeout    time.Duration
}

// Client defaults.
const (
	DefaultConnectTimeout      = 10 * time.Second
	DefaultMaxIdleConnsPerHost = 256
	DefaultPoolTimeout         = time.Second
)

// NewHTTPClient returns an HTTP client for upstream calls, tuned for a proxy:
// its own transport with a large idle pool, no overall timeout (streams are
// long; deadlines come from request contexts) and redirects never followed,
// so that upstream credentials never travel to another host.
//
// Cleartext (http://) upstreams, typically self-hosted models on the local
// network where the gateway's own cost matters most, go through
// h1Transport: HTTP/1.1 keep-alive connections driven by the calling
// goroutine. TLS upstreams and proxied requests go through net/http's
// Transport, with HTTP/2 where the upstream offers it.
//
// Compression: net/http's Transport asks TLS upstreams for gzip and
// decompresses transparently, so bodies reach the adapters as plain JSON
// from which usage can be read; cleartext upstreams are asked for nothing
// and answer uncompressed, which on a local network costs less than
// compressing.
func NewHTTPClient(o ClientOptions) *http.Client {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.MaxIdleConnsPerHost <= 0 {
		o.MaxIdleConnsPerHost = DefaultMaxIdleConnsPerHost
	}
	if o.MaxConnections > 0 && o.PoolTimeout <= 0 {
		o.PoolTimeout = DefaultPoolTimeout
	}
	dialer := &net.Dialer{Timeout: o.ConnectTimeout, KeepAlive: 30 * time.Second}
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   o.MaxIdleConnsPerHost,
		MaxConnsPerHost:       0,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: o.ResponseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
		// A dead HTTP/2 connection would otherwise hang every stream
		// multiplexed on it until its idle timeout.
		HTTP2: &http.HTTP2Config{SendPingTimeout: 30 * time.Second, PingTimeout: 15 * time.Second},
	}
	if o.TLSConfig != nil {
		t.TLSClientConfig = o.TLSConfig.Clone()
	}
	h1 := newH1Transport(dialer.DialContext, o, t)
	// The standard transport's connections are counted with the pool's
	// (Pools).
	t.DialContext = h1.countDial(dialer.DialContext)
	return &http.Client{
		Transport: h1,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
