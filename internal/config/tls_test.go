package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pemPair writes a self-signed certificate and its key into dir.
func pemPair(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "x"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	write(t, certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	write(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})))
	return certFile, keyFile
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// server.tls and providers[].tls: files are read and parsed at validation,
// and every problem names its field.
func TestValidateTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key := pemPair(t, dir)
	garbage := filepath.Join(dir, "garbage.pem")
	write(t, garbage, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
	unreadable := t.TempDir() // a directory: it cannot be read as a file
	missing := filepath.Join(dir, "missing.pem")
	otherCert, _ := pemPair(t, t.TempDir())

	cases := []struct {
		name string
		tls  *ServerTLS
		up   *UpstreamTLS
		want string // "" valid
	}{
		{"valid", &ServerTLS{CertFile: cert, KeyFile: key}, nil, ""},
		{"valid mtls", &ServerTLS{CertFile: cert, KeyFile: key, MinVersion: "1.2", ClientCAFile: cert, ClientAuth: "request",
			ClientIdentities: []ClientIdentity{{Subject: "CN=a,O=b", Tenant: "t", KeyName: "a"}}}, nil, ""},
		{"no cert", &ServerTLS{KeyFile: key}, nil, "server.tls.cert_file: required"},
		{"no key", &ServerTLS{CertFile: cert}, nil, "server.tls.key_file: required"},
		{"neither", &ServerTLS{}, nil, "server.tls.cert_file: required\nserver.tls.key_file: required"},
		{"missing cert", &ServerTLS{CertFile: missing, KeyFile: key}, nil, "server.tls.cert_file: cannot read: no such file"},
		{"unreadable cert", &ServerTLS{CertFile: unreadable, KeyFile: key}, nil, "server.tls.cert_file: cannot read: is a directory"},
		{"missing key", &ServerTLS{CertFile: cert, KeyFile: missing}, nil, "server.tls.key_file: cannot read: no such file"},
		{"unparsable cert", &ServerTLS{CertFile: garbage, KeyFile: key}, nil, "server.tls.cert_file: does not load with its key"},
		{"mismatched pair", &ServerTLS{CertFile: otherCert, KeyFile: key}, nil, "server.tls.cert_file: does not load with its key"},
		{"min version", &ServerTLS{CertFile: cert, KeyFile: key, MinVersion: "1.1"}, nil, `server.tls.min_version: want "1.2" or "1.3"; got "1.1"`},
		{"client ca garbage", &ServerTLS{CertFile: cert, KeyFile: key, ClientCAFile: key}, nil, "server.tls.client_ca_file: holds no PEM certificate"},
		{"client auth without ca", &ServerTLS{CertFile: cert, KeyFile: key, ClientAuth: "require"}, nil, "server.tls.client_auth: needs server.tls.client_ca_file"},
		{"client auth value", &ServerTLS{CertFile: cert, KeyFile: key, ClientCAFile: cert, ClientAuth: "optional"}, nil, `server.tls.client_auth: want "require" or "request"`},
		{"identities without ca", &ServerTLS{CertFile: cert, KeyFile: key,
			ClientIdentities: []ClientIdentity{{Subject: "CN=a", Tenant: "t", KeyName: "a"}}}, nil, "server.tls.client_identities: needs server.tls.client_ca_file"},
		{"identity fields", &ServerTLS{CertFile: cert, KeyFile: key, ClientCAFile: cert,
			ClientIdentities: []ClientIdentity{{Subject: "CN=a"}}}, nil, "server.tls.client_identities[0].tenant: required"},
		{"identity key name", &ServerTLS{CertFile: cert, KeyFile: key, ClientCAFile: cert,
			ClientIdentities: []ClientIdentity{{Subject: "CN=a", Tenant: "t"}}}, nil, "server.tls.client_identities[0].key_name: required"},
		{"identity twice", &ServerTLS{CertFile: cert, KeyFile: key, ClientCAFile: cert,
			ClientIdentities: []ClientIdentity{{Subject: "CN=a", Tenant: "t", KeyName: "a"}, {Subject: "CN=a", Tenant: "t", KeyName: "b"}}}, nil, "server.tls.client_identities[1].subject: \"CN=a\" is listed twice"},
		{"identity limits", &ServerTLS{CertFile: cert, KeyFile: key, ClientCAFile: cert,
			ClientIdentities: []ClientIdentity{{Subject: "CN=a", Tenant: "t", KeyName: "a", Limits: &Limits{RPM: -1}}}}, nil, "server.tls.client_identities[0].limits.rpm"},
		{"identity budget", &ServerTLS{CertFile: cert, KeyFile: key, ClientCAFile: cert,
			ClientIdentities: []ClientIdentity{{Subject: "CN=a", Tenant: "t", KeyName: "a", Budget: &Budget{USD: 5}}}}, nil, "server.tls.client_identities[0].budget.period: required"},
		{"identity cost cap", &ServerTLS{CertFile: cert, KeyFile: key, ClientCAFile: cert,
			ClientIdentities: []ClientIdentity{{Subject: "CN=a", Tenant: "t", KeyName: "a", MaxCostUSD: new(-1.0)}}}, nil, "server.tls.client_identities[0].max_cost_usd: must be above 0"},
		{"identity subject", &ServerTLS{CertFile: cert, KeyFile: key, ClientCAFile: cert,
			ClientIdentities: []ClientIdentity{{Subject: "svc-a", Tenant: "t", KeyName: "a"}}}, nil, "server.tls.client_identities[0].subject: want attributes"},
		{"admin identities", &ServerTLS{CertFile: cert, KeyFile: key, ClientCAFile: cert,
			AdminIdentities: []AdminIdentity{{Subject: "CN=ops", Name: "ops"}, {Subject: "CN=v", Name: "v", ReadOnly: true}}}, nil, ""},
		{"admin identities without ca", &ServerTLS{CertFile: cert, KeyFile: key,
			AdminIdentities: []AdminIdentity{{Subject: "CN=ops", Name: "ops"}}}, nil, "server.tls.admin_identities: needs server.tls.client_ca_file"},
		{"admin identity name", &ServerTLS{CertFile: cert, KeyFile: key, ClientCAFile: cert,
			AdminIdentities: []AdminIdentity{{Subject: "CN=ops"}}}, nil, "server.tls.admin_identities[0].name: required"},
		{"admin identity subject twice", &ServerTLS{CertFile: cert, KeyFile: key, ClientCAFile: cert,
			AdminIdentities: []AdminIdentity{{Subject: "CN=ops", Name: "a"}, {Subject: "CN=ops", Name: "b"}}}, nil, "server.tls.admin_identities[1].subject: \"CN=ops\" is listed twice"},
		{"admin identity subject", &ServerTLS{CertFile: cert, KeyFile: key, ClientCAFile: cert,
			AdminIdentities: []AdminIdentity{{Subject: "ops", Name: "a"}}}, nil, "server.tls.admin_identities[0].subject: want attributes"},
		{"upstream valid", nil, &UpstreamTLS{CAFile: cert, CertFile: cert, KeyFile: key, ServerName: "m.internal"}, ""},
		{"upstream ca unreadable", nil, &UpstreamTLS{CAFile: unreadable}, "providers[0].tls.ca_file: cannot read"},
		{"upstream cert alone", nil, &UpstreamTLS{CertFile: cert}, "providers[0].tls.key_file: required with cert_file"},
		{"upstream key alone", nil, &UpstreamTLS{KeyFile: key}, "providers[0].tls.cert_file: required with key_file"},
		{"upstream mismatched", nil, &UpstreamTLS{CertFile: otherCert, KeyFile: key}, "providers[0].tls.cert_file: does not load with its key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			c.Server.TLS = tc.tls
			c.Providers[0].TLS = tc.up
			err := c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "PRIVATE KEY") || strings.Contains(err.Error(), "AAAA") {
				t.Errorf("a file's content in the error: %v", err)
			}
		})
	}
}

// providers[].tls applies to https only.
func TestValidateUpstreamTLSNeedsHTTPS(t *testing.T) {
	c := validConfig()
	c.Providers[0].BaseURL = "http://10.0.0.1:8000/v1"
	c.Providers[0].TLS = &UpstreamTLS{ServerName: "m"}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "providers[0].tls: applies to an https:// base_url only") {
		t.Fatalf("got %v", err)
	}
}

// server.tls is decoded strictly: an unknown key is an error.
func TestServerTLSStrict(t *testing.T) {
	_, err := Parse([]byte("server: {tls: {cert_file: a, key_file: b, ciphers: [x]}}\n"), nil)
	if err == nil || !strings.Contains(err.Error(), "ciphers") {
		t.Fatalf("got %v", err)
	}
}

// The listener's TLS settings take effect on restart; client identities
// on reload.
func TestRestartOnlyTLS(t *testing.T) {
	a, b := validConfig(), validConfig()
	a.Server.TLS = &ServerTLS{CertFile: "c", KeyFile: "k", ClientCAFile: "ca"}
	t2 := *a.Server.TLS
	b.Server.TLS = &t2
	b.Server.TLS.ClientIdentities = []ClientIdentity{{Subject: "CN=a", Tenant: "t", KeyName: "a"}}
	b.Server.TLS.AdminIdentities = []AdminIdentity{{Subject: "CN=ops", Name: "ops"}}
	if errs := RestartOnly(a, b); len(errs) != 0 {
		t.Errorf("client identities: %v", errs)
	}
	b.Server.TLS.MinVersion = "1.2"
	if errs := RestartOnly(a, b); len(errs) != 1 || !strings.Contains(errs[0].Error(), "server.tls: changed") {
		t.Errorf("min_version: %v", errs)
	}
	b.Server.TLS = nil
	if errs := RestartOnly(a, b); len(errs) != 1 {
		t.Errorf("tls removed: %v", errs)
	}
}
