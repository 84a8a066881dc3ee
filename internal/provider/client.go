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
}

// Client defaults.
const (
	DefaultConnectTimeout      = 10 * time.Second
	DefaultMaxIdleConnsPerHost = 256
)

// NewHTTPClient returns an HTTP client for upstream calls, tuned for a proxy:
// its own transport with a large idle pool, HTTP/2 where the upstream offers
// it, no overall timeout (streams are long; deadlines come from request
// contexts) and redirects never followed, so that upstream credentials never
// travel to another host.
//
// Compression is left to the transport: it asks for gzip itself and then
// decompresses transparently, so bodies reach the adapters as plain JSON from
// which usage can be read.
func NewHTTPClient(o ClientOptions) *http.Client {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.MaxIdleConnsPerHost <= 0 {
		o.MaxIdleConnsPerHost = DefaultMaxIdleConnsPerHost
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
	return &http.Client{
		Transport: t,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
