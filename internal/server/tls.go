package server

import (
	"crypto/tls"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/observe"
)

// HTTP/2 limits of the TLS listener: streams one connection may have open
// at once (net/http's default is 250: fewer, since each is a request that
// may hold an upstream stream for minutes), the HPACK tables of each
// direction, and the largest frame read (net/http's default is 1 MiB:
// request bodies are JSON, read in smaller frames at no cost, and a
// connection's buffers stay smaller). The header list a client may send is
// bounded by maxHeaderBytes, as for HTTP/1.1.
const (
	h2MaxConcurrentStreams = 100
	h2HeaderTableSize      = 4096
	h2MaxReadFrameSize     = 64 << 10
	maxHeaderBytes         = http.DefaultMaxHeaderBytes
)

// certCheckEvery is how often, at most, the certificate files are looked
// at for a change: on a handshake at least this long after the last look.
const certCheckEvery = time.Second

// certReloader serves the certificate of server.tls from its files and
// loads them again when they change, without restart. It is process
// state: it lives as long as the listener it serves.
//
// On a handshake at least every seconds after its last look, it compares
// the files' modification times and sizes with those of the pair served;
// when they differ it loads the pair. A pair that does not load (a key
// written before its certificate, a damaged file) is logged at ERROR and
// counted in llmgw_tls_certificate_reload_failures_total, and the pair
// served before keeps being served; the next change is tried again.
type certReloader struct {
	certFile, keyFile string
	log               *slog.Logger
	every             time.Duration
	now               func() time.Time
	loads, failures   prometheus.Counter

	cert atomic.Pointer[tls.Certificate]
	mu   sync.Mutex // held while looking; a handshake meanwhile does not wait
	// checked is when the files were last looked at, seen their stamp
	// then (loaded or not).
	checked time.Time
	seen    [2]fileStamp
}

// fileStamp is what tells a file changed.
type fileStamp struct {
	mod  time.Time
	size int64
}

// tlsMetrics count the reloads of the server certificate. They are
// registered with the server's other metrics, TLS or not, so that the
// series exist from the start.
type tlsMetrics struct {
	loads, failures prometheus.Counter
}

func newTLSMetrics(reg *observe.Registry) tlsMetrics {
	return tlsMetrics{
		loads: observe.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "llmgw_tls_certificate_reloads_total",
			Help: "Server certificate pairs (server.tls) loaded again after their files changed.",
		})),
		failures: observe.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "llmgw_tls_certificate_reload_failures_total",
			Help: "Changed server certificate files (server.tls) that did not load; the pair loaded before kept being served.",
		})),
	}
}

// newCertReloader loads the pair of t.
func newCertReloader(t *config.ServerTLS, log *slog.Logger, m tlsMetrics, every time.Duration, now func() time.Time) (*certReloader, error) {
	r := &certReloader{
		certFile: t.CertFile, keyFile: t.KeyFile, log: log, every: every, now: now,
		loads: m.loads, failures: m.failures,
	}
	if r.now == nil {
		r.now = time.Now
	}
	r.seen = r.stamps()
	pair, err := config.LoadKeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		return nil, err
	}
	r.cert.Store(&pair)
	r.checked = r.now()
	return r, nil
}

// stamps returns the files' stamps; a file that cannot be looked at has
// the zero stamp.
func (r *certReloader) stamps() [2]fileStamp {
	var s [2]fileStamp
	for i, f := range []string{r.certFile, r.keyFile} {
		if fi, err := os.Stat(f); err == nil {
			s[i] = fileStamp{mod: fi.ModTime(), size: fi.Size()}
		}
	}
	return s
}

// getCertificate is the tls.Config's GetCertificate.
func (r *certReloader) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.check()
	return r.cert.Load(), nil
}

// check loads the pair again if its files changed, at most once every
// r.every.
func (r *certReloader) check() {
	if !r.mu.TryLock() {
		return // another handshake is looking
	}
	defer r.mu.Unlock()
	now := r.now()
	if now.Sub(r.checked) < r.every {
		return
	}
	r.checked = now
	s := r.stamps()
	if s == r.seen {
		return
	}
	r.seen = s
	pair, err := config.LoadKeyPair(r.certFile, r.keyFile)
	if err != nil {
		r.failures.Inc()
		r.log.Error("server certificate not reloaded; the previous one is still served",
			"field", "server.tls.cert_file", "err", err.Error())
		return
	}
	r.cert.Store(&pair)
	r.loads.Inc()
	r.log.Info("server certificate reloaded")
}

// tlsConfig returns the TLS settings of the main listener: the certificate
// of r, the minimum version, the client certificates asked for, and ALPN
// for HTTP/2 and HTTP/1.1.
func tlsConfig(t *config.ServerTLS, r *certReloader) (*tls.Config, error) {
	c := &tls.Config{
		MinVersion:     t.TLSVersion(),
		GetCertificate: r.getCertificate,
		ClientAuth:     t.ClientAuthType(),
		NextProtos:     []string{"h2", "http/1.1"},
	}
	if t.ClientCAFile != "" {
		pool, err := config.LoadCertPool(t.ClientCAFile)
		if err != nil {
			return nil, err
		}
		c.ClientCAs = pool
	}
	return c, nil
}

// serveTLS turns srv into the HTTPS server of t: TLS settings and HTTP/2
// limits.
func (s *Server) serveTLS(srv *http.Server, t *config.ServerTLS) error {
	r, err := newCertReloader(t, s.log, s.tlsm, s.certCheckEvery, s.certNow)
	if err != nil {
		return err
	}
	if srv.TLSConfig, err = tlsConfig(t, r); err != nil {
		return err
	}
	srv.HTTP2 = &http.HTTP2Config{
		MaxConcurrentStreams:      h2MaxConcurrentStreams,
		MaxDecoderHeaderTableSize: h2HeaderTableSize,
		MaxEncoderHeaderTableSize: h2HeaderTableSize,
		MaxReadFrameSize:          h2MaxReadFrameSize,
	}
	return nil
}
