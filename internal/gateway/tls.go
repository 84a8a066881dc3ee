package gateway

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"os"

	"github.com/llmgw/llmgw/internal/auth"
	"github.com/llmgw/llmgw/internal/budget"
	"github.com/llmgw/llmgw/internal/config"
)

// clientCerts returns the callers of server.tls.client_identities.
func clientCerts(cfg *config.Config) *auth.Certs {
	t := cfg.Server.TLS
	if t == nil {
		return nil
	}
	ids := make([]auth.CertIdentity, 0, len(t.ClientIdentities))
	for _, id := range t.ClientIdentities {
		ci := auth.CertIdentity{Subject: id.Subject, KeyName: id.KeyName, Tenant: id.Tenant, Models: id.Models,
			Limits: limitOf(id.Limits), MaxCostPico: id.MaxCostPico()}
		if id.Budget != nil {
			ci.Budget = budget.Budget{Limit: id.Budget.Pico(), Period: budget.Period(id.Budget.Period)}
		}
		ids = append(ids, ci)
	}
	return auth.NewCerts(ids)
}

// upstreamTLS returns the TLS settings of pc's connections (providers[].tls),
// nil for the defaults. The files are read now: a snapshot compiled after
// they changed uses, and keys its client by, the new ones.
func upstreamTLS(pc *config.Provider) (*tls.Config, error) {
	t := pc.TLS
	if t == nil {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.CAFile != "" {
		pool, err := config.LoadCertPool(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("provider %s: tls.ca_file: %w", pc.Name, err)
		}
		c.RootCAs = pool
	}
	if t.CertFile != "" {
		pair, err := config.LoadKeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("provider %s: tls.cert_file: %w", pc.Name, err)
		}
		c.Certificates = []tls.Certificate{pair}
	}
	return c, nil
}

// tlsDigest is the digest of pc's TLS settings and of their files'
// contents, so that a client is made anew when a file changes; "" without
// settings. It never leaves the process.
func tlsDigest(pc *config.Provider) string {
	t := pc.TLS
	if t == nil {
		return ""
	}
	h := sha256.New()
	for _, s := range []string{t.ServerName, t.CAFile, t.CertFile, t.KeyFile} {
		_, _ = h.Write([]byte(s))
		_, _ = h.Write([]byte{0})
	}
	for _, f := range []string{t.CAFile, t.CertFile, t.KeyFile} {
		if f == "" {
			continue
		}
		b, _ := os.ReadFile(f)
		s := sha256.Sum256(b)
		_, _ = h.Write(s[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}
