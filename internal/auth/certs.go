package auth

import (
	"crypto/tls"

	"github.com/llmgw/llmgw/internal/budget"
	"github.com/llmgw/llmgw/internal/limits"
)

// CertIdentity is the caller a client certificate's subject stands for.
type CertIdentity struct {
	// Subject is the certificate's subject in RFC 2253 form
	// (pkix.Name.String): "CN=svc-a,O=acme".
	Subject string
	KeyName string
	Tenant  string
	// Models lists the allowed models, as Key.Models.
	Models []string
	// Limits, Budget and MaxCostPico are the caller's own, as a static
	// Key's, counted under KeyName as a static key's are.
	Limits      limits.Limit
	Budget      budget.Budget
	MaxCostPico int64
}

// Certs maps the subjects of verified client certificates to principals
// (server.tls.client_identities). It is immutable snapshot state.
type Certs struct {
	bySubject map[string]*Principal
}

// NewCerts returns the principals of ids.
func NewCerts(ids []CertIdentity) *Certs {
	c := &Certs{bySubject: make(map[string]*Principal, len(ids))}
	for _, id := range ids {
		p := &Principal{KeyName: id.KeyName, Tenant: id.Tenant, Limits: id.Limits, MaxCostPico: id.MaxCostPico}
		if id.Budget.Limit > 0 {
			b := id.Budget
			b.Subject = "key:" + id.KeyName
			p.Budgets = []budget.Budget{b}
		}
		p.setModels(id.Models)
		c.bySubject[id.Subject] = p
	}
	return c
}

// Len returns the number of mapped subjects; 0 for nil.
func (c *Certs) Len() int {
	if c == nil {
		return 0
	}
	return len(c.bySubject)
}

// Lookup returns the principal of the connection's client certificate:
// the leaf of a chain the server verified, whose subject is mapped; nil
// otherwise. A certificate the handshake did not verify (none was asked
// for) is never looked up.
func (c *Certs) Lookup(cs *tls.ConnectionState) *Principal {
	if c.Len() == 0 || cs == nil || len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		return nil
	}
	return c.bySubject[cs.VerifiedChains[0][0].Subject.String()]
}
