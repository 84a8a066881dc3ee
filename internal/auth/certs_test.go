package auth

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"testing"
)

// Only a verified chain's leaf is looked up, by its subject in RFC 2253
// form; the caller's models are restricted as a key's.
func TestCertsLookup(t *testing.T) {
	c := NewCerts([]CertIdentity{{Subject: "CN=svc-a,O=acme", KeyName: "svc-a", Tenant: "acme", Models: []string{"gpt"}}})
	leaf := &x509.Certificate{Subject: pkix.Name{CommonName: "svc-a", Organization: []string{"acme"}}}
	other := &x509.Certificate{Subject: pkix.Name{CommonName: "svc-b", Organization: []string{"acme"}}}
	if p := c.Lookup(&tls.ConnectionState{PeerCertificates: []*x509.Certificate{leaf}}); p != nil {
		t.Error("an unverified certificate was mapped")
	}
	p := c.Lookup(&tls.ConnectionState{PeerCertificates: []*x509.Certificate{leaf}, VerifiedChains: [][]*x509.Certificate{{leaf}}})
	if p == nil || p.KeyName != "svc-a" || p.Tenant != "acme" || !p.Allows("gpt") || p.Allows("claude") {
		t.Fatalf("verified mapped certificate: %+v", p)
	}
	if p := c.Lookup(&tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{other}}}); p != nil {
		t.Error("an unmapped subject was mapped")
	}
	if p := c.Lookup(nil); p != nil {
		t.Error("a plain connection was mapped")
	}
	var none *Certs
	if none.Len() != 0 || none.Lookup(&tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{leaf}}}) != nil {
		t.Error("nil Certs mapped a certificate")
	}
}
