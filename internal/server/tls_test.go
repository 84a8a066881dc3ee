package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// testPKI is a certificate authority writing its certificates to files.
type testPKI struct {
	t      *testing.T
	dir    string
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	caFile string
	pool   *x509.CertPool
	serial atomic.Int64
}

func newPKI(t *testing.T) *testPKI {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	p := &testPKI{t: t, dir: t.TempDir(), ca: ca, caKey: key, pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	p.serial.Store(100)
	p.caFile = filepath.Join(p.dir, "ca.pem")
	writeFile(t, p.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	return p
}

// issue returns the PEM certificate and key of subject, a server
// certificate for 127.0.0.1 or a client one, and the certificate's serial.
func (p *testPKI) issue(subject pkix.Name, server bool) (certPEM, keyPEM []byte, serial int64) {
	p.t.Helper()
	return p.issueFor(subject, server, nil)
}

// issueFor is issue, a server certificate naming dnsNames instead of
// 127.0.0.1 when there are any.
func (p *testPKI) issueFor(subject pkix.Name, server bool, dnsNames []string) (certPEM, keyPEM []byte, serial int64) {
	p.t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		p.t.Fatal(err)
	}
	serial = p.serial.Add(1)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: subject,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
		if len(dnsNames) > 0 {
			tmpl.IPAddresses, tmpl.DNSNames = nil, dnsNames
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		p.t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		p.t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), serial
}

// files issues a certificate into name.pem and name-key.pem.
func (p *testPKI) files(name string, subject pkix.Name, server bool) (certFile, keyFile string, serial int64) {
	c, k, serial := p.issue(subject, server)
	certFile, keyFile = filepath.Join(p.dir, name+".pem"), filepath.Join(p.dir, name+"-key.pem")
	writeFile(p.t, certFile, c)
	writeFile(p.t, keyFile, k)
	return certFile, keyFile, serial
}

// client returns a tls.Certificate of subject, for a client.
func (p *testPKI) client(subject pkix.Name) tls.Certificate {
	c, k, _ := p.issue(subject, false)
	pair, err := tls.X509KeyPair(c, k)
	if err != nil {
		p.t.Fatal(err)
	}
	return pair
}

// writeFile replaces path's content at once (a rename), as tools that
// rotate certificates do.
func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// tlsGateway is a gateway serving HTTPS on a listener of its own.
type tlsGateway struct {
	srv  *Server
	addr string
	logs *syncBuffer
}

// startTLS serves yaml (${CERT}, ${KEY}, ${CA} and ${UPSTREAM} replaced)
// over TLS, looking at the certificate files on every handshake.
func startTLS(t *testing.T, yaml string, env map[string]string) *tlsGateway {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	snap, err := gateway.Compile(cfg, gateway.Options{})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	logs := &syncBuffer{}
	srv := New(snap, slog.New(slog.NewJSONHandler(logs, nil)))
	srv.certCheckEvery = 0
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.RunWithMetrics(ctx, ln, nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	return &tlsGateway{srv: srv, addr: ln.Addr().String(), logs: logs}
}

// tlsClient returns a client trusting p's CA, offering HTTP/2 when h2,
// with the client certificates certs, one connection per request when
// fresh.
func tlsClient(p *testPKI, h2, fresh bool, maxVersion uint16, certs ...tls.Certificate) *http.Client {
	c := &tls.Config{RootCAs: p.pool, Certificates: certs, MaxVersion: maxVersion}
	tr := &http.Transport{TLSClientConfig: c, ForceAttemptHTTP2: h2, DisableKeepAlives: fresh}
	return &http.Client{Transport: tr}
}

const tlsConfigYAML = `
server:
  tls: {cert_file: "${CERT}", key_file: "${KEY}"}
providers: [{name: mock, type: mock}]
models: [{name: mock, targets: [{provider: mock, model: mock}]}]
`

// The gateway serves HTTPS, HTTP/2 to a client that offers it and
// HTTP/1.1 to one that does not.
func TestTLSServesHTTP2AndHTTP1(t *testing.T) {
	p := newPKI(t)
	cert, key, _ := p.files("server", pkix.Name{CommonName: "gateway"}, true)
	g := startTLS(t, tlsConfigYAML, map[string]string{"CERT": cert, "KEY": key})
	for _, tc := range []struct {
		h2    bool
		proto int
	}{{true, 2}, {false, 1}} {
		resp, err := tlsClient(p, tc.h2, false, 0).Get("https://" + g.addr + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.ProtoMajor != tc.proto {
			t.Errorf("h2 %v: got %d over HTTP/%d, want 200 over HTTP/%d", tc.h2, resp.StatusCode, resp.ProtoMajor, tc.proto)
		}
		if resp.TLS == nil || resp.TLS.Version != tls.VersionTLS13 {
			t.Errorf("h2 %v: not TLS 1.3: %+v", tc.h2, resp.TLS)
		}
	}
}

// The HTTP/2 server announces its limits: streams per connection, the
// largest frame and the header list size.
func TestTLSHTTP2Settings(t *testing.T) {
	p := newPKI(t)
	cert, key, _ := p.files("server", pkix.Name{CommonName: "gateway"}, true)
	g := startTLS(t, tlsConfigYAML, map[string]string{"CERT": cert, "KEY": key})
	conn, err := tls.Dial("tcp", g.addr, &tls.Config{RootCAs: p.pool, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if got := conn.ConnectionState().NegotiatedProtocol; got != "h2" {
		t.Fatalf("ALPN %q, want h2", got)
	}
	// The client preface and an empty SETTINGS frame.
	if _, err := conn.Write(append([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 0, 0, 0, 4, 0, 0, 0, 0, 0)); err != nil {
		t.Fatal(err)
	}
	var hdr [9]byte
	if _, err := io.ReadFull(conn, hdr[:]); err != nil {
		t.Fatal(err)
	}
	n := int(hdr[0])<<16 | int(hdr[1])<<8 | int(hdr[2])
	if hdr[3] != 4 || n%6 != 0 || n > 1024 {
		t.Fatalf("first frame: type %d length %d, want SETTINGS", hdr[3], n)
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(conn, payload); err != nil {
		t.Fatal(err)
	}
	settings := map[uint16]uint32{}
	for i := 0; i < n; i += 6 {
		settings[binary.BigEndian.Uint16(payload[i:])] = binary.BigEndian.Uint32(payload[i+2:])
	}
	const maxConcurrentStreams, maxFrameSize, maxHeaderListSize = 3, 5, 6
	if got := settings[maxConcurrentStreams]; got != h2MaxConcurrentStreams {
		t.Errorf("MAX_CONCURRENT_STREAMS %d, want %d (settings %v)", got, h2MaxConcurrentStreams, settings)
	}
	if got := settings[maxFrameSize]; got != h2MaxReadFrameSize {
		t.Errorf("MAX_FRAME_SIZE %d, want %d", got, h2MaxReadFrameSize)
	}
	if got := settings[maxHeaderListSize]; got < maxHeaderBytes || got > 2*maxHeaderBytes {
		t.Errorf("MAX_HEADER_LIST_SIZE %d, want about %d", got, maxHeaderBytes)
	}
}

// TLS 1.2 is refused by default and accepted when min_version allows it.
func TestTLSMinVersion(t *testing.T) {
	p := newPKI(t)
	cert, key, _ := p.files("server", pkix.Name{CommonName: "gateway"}, true)
	env := map[string]string{"CERT": cert, "KEY": key}
	get := func(g *tlsGateway) error {
		resp, err := tlsClient(p, false, true, tls.VersionTLS12).Get("https://" + g.addr + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := get(startTLS(t, tlsConfigYAML, env)); err == nil {
		t.Error("TLS 1.2 accepted by default")
	}
	g := startTLS(t, strings.Replace(tlsConfigYAML, `key_file: "${KEY}"`, `key_file: "${KEY}", min_version: "1.2"`, 1), env)
	if err := get(g); err != nil {
		t.Errorf("TLS 1.2 with min_version 1.2: %v", err)
	}
}

// A certificate rotated while clients connect without pause is served
// from the next handshakes, and no request fails; a pair that does not
// load leaves the one before served, logged and counted.
func TestTLSCertificateRotationUnderLoad(t *testing.T) {
	p := newPKI(t)
	cert, key, first := p.files("server", pkix.Name{CommonName: "gateway"}, true)
	g := startTLS(t, tlsConfigYAML, map[string]string{"CERT": cert, "KEY": key})
	client := tlsClient(p, false, true, 0)
	serial := func() (int64, error) {
		resp, err := client.Get("https://" + g.addr + "/healthz")
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != 200 {
			return 0, io.ErrUnexpectedEOF
		}
		return resp.TLS.PeerCertificates[0].SerialNumber.Int64(), nil
	}

	// Four clients make a new connection for every request; a fifth keeps
	// one HTTP/2 connection open throughout.
	h2 := tlsClient(p, true, false, 0)
	var stop atomic.Bool
	var failures, served atomic.Int64
	var wg sync.WaitGroup
	tick := make(chan struct{}, 64)
	for w := range 5 {
		wg.Go(func() {
			for !stop.Load() {
				var err error
				if w == 4 {
					var resp *http.Response
					if resp, err = h2.Get("https://" + g.addr + "/healthz"); err == nil {
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
				} else {
					_, err = serial()
				}
				if err != nil {
					failures.Add(1)
					t.Logf("request failed: %v", err)
				}
				served.Add(1)
				select {
				case tick <- struct{}{}:
				default:
				}
			}
		})
	}
	defer func() { stop.Store(true); wg.Wait() }() // on a failure too
	// waitRequests returns once n more requests have been served.
	waitRequests := func(n int) {
		for range n {
			<-tick
		}
	}
	waitRequests(50)
	const rotations = 5
	want := first
	for range rotations {
		c2, k2, next := p.issue(pkix.Name{CommonName: "gateway"}, true)
		writeFile(t, key, k2) // key first: the pair is mismatched meanwhile
		writeFile(t, cert, c2)
		// Connections made from now on get the new certificate: the
		// files are looked at on every handshake, by this one or one
		// made meanwhile.
		for i := 0; ; i++ {
			if i == 100 {
				t.Fatal("the new certificate is not served")
			}
			s, err := serial()
			if err != nil {
				t.Fatal(err)
			}
			if s == next {
				break
			}
			if s != want {
				t.Fatalf("serial %d, want %d or %d", s, want, next)
			}
		}
		want = next
		waitRequests(50)
	}
	second := want
	stop.Store(true)
	wg.Wait()
	if n := failures.Load(); n != 0 {
		t.Errorf("%d of %d requests failed during rotation", n, served.Load())
	}
	t.Logf("%d requests during %d rotations", served.Load(), rotations)
	if reloads := counter(t, g, "llmgw_tls_certificate_reloads_total"); reloads < rotations {
		t.Errorf("reloads %v, want at least %d", reloads, rotations)
	}

	// A damaged certificate: the one before is still served.
	failedBefore := counter(t, g, "llmgw_tls_certificate_reload_failures_total")
	writeFile(t, cert, []byte("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"))
	if s, err := serial(); err != nil || s != second {
		t.Fatalf("after a damaged certificate: serial %d, %v; want %d", s, err, second)
	}
	if got := counter(t, g, "llmgw_tls_certificate_reload_failures_total"); got != failedBefore+1 {
		t.Errorf("reload failures %v, want %v", got, failedBefore+1)
	}
	if !strings.Contains(g.logs.String(), `"level":"ERROR","msg":"server certificate not reloaded`) {
		t.Errorf("no ERROR logged: %s", g.logs.String())
	}
}

// counter returns the value of the counter name in g's registry.
func counter(t *testing.T, g *tlsGateway, name string) float64 {
	t.Helper()
	mfs, err := g.srv.reg.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

const mtlsConfigYAML = `
server:
  tls:
    cert_file: "${CERT}"
    key_file: "${KEY}"
    client_ca_file: "${CA}"
    client_auth: ${MODE}
    client_identities:
      - {subject: "CN=svc-a,O=acme", tenant: acme, key_name: svc-a}
keys:
  - {name: k1, key: "sk-test-key-one-0123456789", tenant: beta}
providers: [{name: mock, type: mock}]
models: [{name: mock, targets: [{provider: mock, model: mock}]}]
`

// A verified client certificate whose subject is mapped authenticates as
// its caller, whose tenant the metrics show; an unmapped one, or none,
// without a key gets 401; a key still authenticates.
func TestMTLSClientIdentity(t *testing.T) {
	p := newPKI(t)
	cert, key, _ := p.files("server", pkix.Name{CommonName: "gateway"}, true)
	env := map[string]string{"CERT": cert, "KEY": key, "CA": p.caFile, "MODE": "request"}
	g := startTLS(t, mtlsConfigYAML, env)
	mapped := p.client(pkix.Name{CommonName: "svc-a", Organization: []string{"acme"}})
	unmapped := p.client(pkix.Name{CommonName: "svc-b", Organization: []string{"acme"}})
	chat := func(c *http.Client, key string) (int, string) {
		t.Helper()
		return tlsChat(t, c, g.addr, key, `{"model":"mock","messages":[{"role":"user","content":"hello there"}]}`)
	}
	if code, body := chat(tlsClient(p, true, false, 0, mapped), ""); code != 200 {
		t.Fatalf("mapped certificate: %d %s", code, body)
	}
	if code, body := chat(tlsClient(p, true, false, 0, unmapped), ""); code != 401 {
		t.Errorf("unmapped certificate without key: %d %s, want 401", code, body)
	}
	if code, body := chat(tlsClient(p, true, false, 0), ""); code != 401 {
		t.Errorf("no certificate, no key: %d %s, want 401", code, body)
	}
	if code, body := chat(tlsClient(p, true, false, 0, unmapped), "sk-test-key-one-0123456789"); code != 200 {
		t.Errorf("unmapped certificate with a key: %d %s, want 200", code, body)
	}
	if code, body := chat(tlsClient(p, true, false, 0, mapped), "sk-wrong"); code != 401 {
		t.Errorf("mapped certificate with a wrong key: %d %s, want 401", code, body)
	}
	resp, err := tlsClient(p, true, false, 0).Get("https://" + g.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `llmgw_tokens_total{model="mock",tenant="acme",type="input"}`) {
		t.Errorf("no tokens of tenant acme in the metrics:\n%s", grepLines(string(b), "llmgw_tokens_total"))
	}
	if !g.logs.waitFor(func(s string) bool {
		return strings.Contains(s, `"key":"svc-a"`) && strings.Contains(s, `"tenant":"acme"`)
	}, 5*time.Second) {
		t.Errorf("access log does not name svc-a of acme: %s", grepLines(g.logs.String(), "svc-a"))
	}
}

// With client_auth require, a handshake without a client certificate, or
// with one of another authority, fails.
func TestMTLSRequire(t *testing.T) {
	p := newPKI(t)
	other := newPKI(t)
	cert, key, _ := p.files("server", pkix.Name{CommonName: "gateway"}, true)
	g := startTLS(t, mtlsConfigYAML, map[string]string{"CERT": cert, "KEY": key, "CA": p.caFile, "MODE": "require"})
	for name, c := range map[string]*http.Client{
		"none":    tlsClient(p, true, true, 0),
		"foreign": tlsClient(p, true, true, 0, other.client(pkix.Name{CommonName: "svc-a", Organization: []string{"acme"}})),
	} {
		resp, err := c.Get("https://" + g.addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			t.Errorf("%s: handshake succeeded", name)
		}
	}
	resp, err := tlsClient(p, true, true, 0, p.client(pkix.Name{CommonName: "svc-a", Organization: []string{"acme"}})).Get("https://" + g.addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// A provider's tls settings reach an upstream that requires a client
// certificate from a private CA; without the client certificate the
// upstream refuses.
func TestUpstreamMTLS(t *testing.T) {
	p := newPKI(t)
	up := providertest.NewOpenAI(t)
	ts := httptest.NewUnstartedServer(up.Server.Config.Handler)
	scert, skey, _ := p.files("upstream", pkix.Name{CommonName: "upstream"}, true)
	pair, err := tls.LoadX509KeyPair(scert, skey)
	if err != nil {
		t.Fatal(err)
	}
	ts.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, ClientCAs: p.pool, ClientAuth: tls.RequireAndVerifyClientCert}
	ts.StartTLS()
	t.Cleanup(ts.Close)
	ccert, ckey, _ := p.files("client", pkix.Name{CommonName: "gateway"}, false)
	cfg := `
providers:
  - name: internal
    type: openai_compatible
    base_url: "${UPSTREAM}"
    tls: {ca_file: "${CA}", cert_file: "${CLIENT_CERT}", key_file: "${CLIENT_KEY}"}
models: [{name: m, targets: [{provider: internal, model: m}]}]
`
	env := map[string]string{"UPSTREAM": ts.URL, "CA": p.caFile, "CLIENT_CERT": ccert, "CLIENT_KEY": ckey}
	g := newGatewayEnv(t, cfg, env)
	body := `{"model":"m","messages":[{"role":"user","content":"hello"}]}`
	if resp, b := g.do("POST", "/v1/chat/completions", body); resp.StatusCode != 200 {
		t.Fatalf("with the client certificate: %d %s", resp.StatusCode, b)
	}
	g = newGatewayEnv(t, strings.Replace(cfg, `, cert_file: "${CLIENT_CERT}", key_file: "${CLIENT_KEY}"`, "", 1), env)
	if resp, b := g.do("POST", "/v1/chat/completions", body); resp.StatusCode < 500 {
		t.Errorf("without the client certificate: %d %s, want an upstream error", resp.StatusCode, b)
	}
}

// newGatewayEnv is newGateway with every variable from env.
func newGatewayEnv(t *testing.T, yaml string, env map[string]string) *testGateway {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	snap, err := gateway.Compile(cfg, gateway.Options{})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	logs := &syncBuffer{}
	srv := New(snap, slog.New(slog.NewJSONHandler(logs, nil)))
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &testGateway{t: t, srv: srv, http: ts, logs: logs}
}

// The files are looked at no more often than every: a change is served
// from the first handshake after that much time.
func TestCertReloaderInterval(t *testing.T) {
	p := newPKI(t)
	cert, key, first := p.files("server", pkix.Name{CommonName: "gateway"}, true)
	now := time.Unix(1000, 0)
	r, err := newCertReloader(&config.ServerTLS{CertFile: cert, KeyFile: key}, slog.New(slog.DiscardHandler),
		newTLSMetrics(nil), time.Minute, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	served := func() int64 {
		c, err := r.getCertificate(nil)
		if err != nil {
			t.Fatal(err)
		}
		x, err := x509.ParseCertificate(c.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		return x.SerialNumber.Int64()
	}
	c2, k2, second := p.issue(pkix.Name{CommonName: "gateway"}, true)
	writeFile(t, key, k2)
	writeFile(t, cert, c2)
	now = now.Add(time.Minute - time.Second)
	if s := served(); s != first {
		t.Errorf("before the interval: serial %d, want %d", s, first)
	}
	now = now.Add(time.Second)
	if s := served(); s != second {
		t.Errorf("after the interval: serial %d, want %d", s, second)
	}
}

// A verified client certificate mapped in admin_identities is a global
// admin of /admin/v1 (read-only if so configured); an unmapped one, or
// one of a /v1 caller, is not.
func TestMTLSAdminIdentity(t *testing.T) {
	p := newPKI(t)
	cert, key, _ := p.files("server", pkix.Name{CommonName: "gateway"}, true)
	cfg := strings.Replace(mtlsConfigYAML, "keys:", `    admin_identities:
      - {subject: "CN=ops,O=acme", name: ops}
      - {subject: "CN=viewer,O=acme", name: viewer, read_only: true}
  admin_token: "adm-test-token-0123456789"
keys:`, 1)
	g := startTLS(t, cfg, map[string]string{"CERT": cert, "KEY": key, "CA": p.caFile, "MODE": "request"})
	do := func(method, path string, c tls.Certificate) int {
		t.Helper()
		req, _ := http.NewRequest(method, "https://"+g.addr+path, nil)
		resp, err := tlsClient(p, true, false, 0, c).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	ops := p.client(pkix.Name{CommonName: "ops", Organization: []string{"acme"}})
	viewer := p.client(pkix.Name{CommonName: "viewer", Organization: []string{"acme"}})
	caller := p.client(pkix.Name{CommonName: "svc-a", Organization: []string{"acme"}})
	for _, tc := range []struct {
		name, method, path string
		cert               tls.Certificate
		want               int
	}{
		{"admin reads", "GET", "/admin/v1/targets", ops, 200},
		{"read-only admin reads", "GET", "/admin/v1/targets", viewer, 200},
		{"read-only admin writes", "POST", "/admin/v1/targets/reset", viewer, 403},
		{"a /v1 caller", "GET", "/admin/v1/targets", caller, 401},
		{"no certificate", "GET", "/admin/v1/targets", tls.Certificate{}, 401},
	} {
		if got := do(tc.method, tc.path, tc.cert); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

// providers[].tls.server_name is the name the upstream's certificate is
// verified against: an upstream reached by address whose certificate
// names only models.internal is accepted with it and refused without.
func TestUpstreamTLSServerName(t *testing.T) {
	p := newPKI(t)
	up := providertest.NewOpenAI(t)
	ts := httptest.NewUnstartedServer(up.Server.Config.Handler)
	c, k, _ := p.issueFor(pkix.Name{CommonName: "upstream"}, true, []string{"models.internal"})
	pair, err := tls.X509KeyPair(c, k)
	if err != nil {
		t.Fatal(err)
	}
	ts.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	ts.StartTLS()
	t.Cleanup(ts.Close)
	cfg := `
providers:
  - name: internal
    type: openai_compatible
    base_url: "${UPSTREAM}"
    tls: {ca_file: "${CA}", server_name: models.internal}
models: [{name: m, targets: [{provider: internal, model: m}]}]
`
	env := map[string]string{"UPSTREAM": ts.URL, "CA": p.caFile}
	body := `{"model":"m","messages":[{"role":"user","content":"hello"}]}`
	if resp, b := newGatewayEnv(t, cfg, env).do("POST", "/v1/chat/completions", body); resp.StatusCode != 200 {
		t.Fatalf("with server_name: %d %s", resp.StatusCode, b)
	}
	g := newGatewayEnv(t, strings.Replace(cfg, ", server_name: models.internal", "", 1), env)
	if resp, b := g.do("POST", "/v1/chat/completions", body); resp.StatusCode < 500 {
		t.Errorf("without server_name: %d %s, want an upstream error", resp.StatusCode, b)
	}
}

// A certificate gone between validation and the listener's start stops
// Run with an error naming server.tls, and the listener is closed.
func TestTLSCertificateGoneAtStart(t *testing.T) {
	p := newPKI(t)
	cert, key, _ := p.files("server", pkix.Name{CommonName: "gateway"}, true)
	cfg, err := config.Parse([]byte(tlsConfigYAML), func(k string) (string, bool) {
		return map[string]string{"CERT": cert, "KEY": key}[k], true
	})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := gateway.Compile(cfg, gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(cert); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	err = New(snap, slog.New(slog.DiscardHandler)).RunWithMetrics(context.Background(), ln, nil)
	if err == nil || !strings.Contains(err.Error(), "server.tls: ") || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("got %v", err)
	}
	if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		c.Close()
		t.Error("the listener is still open")
	}
}

// tlsChat posts body to addr's /v1/chat/completions through c, with key
// as its bearer token unless empty, and returns the status and body.
func tlsChat(t *testing.T, c *http.Client, addr, key, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", "https://"+addr+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

const mtlsLimitsYAML = `
server:
  tls:
    cert_file: "${CERT}"
    key_file: "${KEY}"
    client_ca_file: "${CA}"
    client_auth: require
    client_identities:
      - {subject: "CN=svc-a,O=acme", tenant: acme, key_name: svc-a, limits: {rpm: 2}}
      - {subject: "CN=svc-b,O=acme", tenant: acme, key_name: svc-b, budget: {usd: 0.05, period: daily}}
      - {subject: "CN=svc-c,O=acme", tenant: acme, key_name: svc-c, max_cost_usd: 0.01}
      - {subject: "CN=svc-d,O=acme", tenant: acme, key_name: svc-d, max_cost_usd: 1, budget: {usd: 5, period: daily}}
providers: [{name: mock, type: mock}]
models: [{name: mock, targets: [{provider: mock, model: mock}]}]
pricing: [{provider: mock, model: mock, input_per_mtok: 1000, output_per_mtok: 1000}]
`

// A certificate's caller has the rate limits, budget and cost cap its
// identity gives it, as a static key would. At $1000 per million tokens,
// a request that may take 50 output tokens is estimated at about $0.06:
// over svc-b's budget of $0.05 and svc-c's cap of $0.01, under svc-d's.
func TestMTLSClientIdentityLimits(t *testing.T) {
	p := newPKI(t)
	cert, key, _ := p.files("server", pkix.Name{CommonName: "gateway"}, true)
	g := startTLS(t, mtlsLimitsYAML, map[string]string{"CERT": cert, "KEY": key, "CA": p.caFile})
	chat := func(cn string) (int, string) {
		t.Helper()
		c := tlsClient(p, true, false, 0, p.client(pkix.Name{CommonName: cn, Organization: []string{"acme"}}))
		return tlsChat(t, c, g.addr, "", `{"model":"mock","max_tokens":50,"messages":[{"role":"user","content":"hello there"}]}`)
	}
	for i := 0; i < 2; i++ {
		if code, body := chat("svc-a"); code != 200 {
			t.Fatalf("svc-a request %d: %d %s", i+1, code, body)
		}
	}
	if code, body := chat("svc-a"); code != 429 || !strings.Contains(body, "rate_limit_exceeded") {
		t.Errorf("svc-a over its 2 requests a minute: %d %s, want 429 rate_limit_exceeded", code, body)
	}
	if code, body := chat("svc-b"); code != 429 || !strings.Contains(body, "budget_exceeded") {
		t.Errorf("svc-b over its budget: %d %s, want 429 budget_exceeded", code, body)
	}
	if code, body := chat("svc-c"); code != 400 || !strings.Contains(body, "cost_cap_exceeded") || !strings.Contains(body, "estimate") {
		t.Errorf("svc-c over its cost cap: %d %s, want 400 cost_cap_exceeded with the estimate", code, body)
	}
	if code, body := chat("svc-d"); code != 200 {
		t.Errorf("svc-d, under its cap and budget: %d %s", code, body)
	}
}
