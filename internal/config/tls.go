package config

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// ServerTLS serves the gateway over HTTPS (docs/tls.md).
type ServerTLS struct {
	// CertFile is the PEM file of the server's certificate chain, leaf
	// first. Required. The file and key_file are watched: a new pair is
	// served from the next handshakes without restart; a pair that does not
	// load leaves the previous one served.
	CertFile string `yaml:"cert_file" json:"cert_file"`
	// KeyFile is the PEM file of the certificate's private key. Required.
	KeyFile string `yaml:"key_file" json:"key_file"`
	// MinVersion is the oldest TLS version accepted: "1.3" (the default)
	// or "1.2".
	MinVersion string `yaml:"min_version,omitempty" json:"min_version,omitempty"`
	// ClientCAFile is the PEM bundle of the certificate authorities whose
	// client certificates are verified (mutual TLS). Empty: no client
	// certificate is asked for.
	ClientCAFile string `yaml:"client_ca_file,omitempty" json:"client_ca_file,omitempty"`
	// ClientAuth, with client_ca_file, is "require" (the default: a
	// handshake without a valid client certificate fails) or "request" (a
	// client certificate, when sent, must be valid; clients without one
	// authenticate by key).
	ClientAuth string `yaml:"client_auth,omitempty" json:"client_auth,omitempty"`
	// ClientIdentities map the subjects of verified client certificates to
	// callers of /v1: a request carrying no key, whose certificate's
	// subject is listed, is that caller's; one whose certificate is not
	// listed gets 401. A request carrying a key authenticates by the key.
	ClientIdentities []ClientIdentity `yaml:"client_identities,omitempty" json:"client_identities,omitempty"`
	// AdminIdentities map the subjects of verified client certificates to
	// global admins of /admin/v1, as server.admin_tokens do: a request
	// carrying no Authorization header, whose certificate's subject is
	// listed, is that admin's, named "cert:<name>" in the audit log.
	AdminIdentities []AdminIdentity `yaml:"admin_identities,omitempty" json:"admin_identities,omitempty"`
}

// AdminIdentity is the global admin a client certificate's subject stands
// for.
type AdminIdentity struct {
	// Subject is the certificate's subject in RFC 2253 form, as in
	// client_identities. Required, unique.
	Subject string `yaml:"subject" json:"subject"`
	// Name identifies the admin in the audit log, as "cert:<name>".
	// Required, unique.
	Name string `yaml:"name" json:"name"`
	// ReadOnly limits the admin to reading.
	ReadOnly bool `yaml:"read_only,omitempty" json:"read_only,omitempty"`
}

// ClientIdentity is the caller a client certificate's subject stands for.
type ClientIdentity struct {
	// Subject is the certificate's subject as RFC 2253 writes it, most
	// specific attribute first, as openssl x509 -subject -nameopt RFC2253
	// prints it: "CN=svc-a,O=acme". Required, unique.
	Subject string `yaml:"subject" json:"subject"`
	// Tenant is the tenant the caller's requests are accounted to, as a
	// static key's tenant. Required.
	Tenant string `yaml:"tenant" json:"tenant"`
	// KeyName names the caller in logs, usage records and metrics, as a
	// static key's name does. Required.
	KeyName string `yaml:"key_name" json:"key_name"`
	// Models lists the models the caller may use, as a key's models: absent
	// allows every model, an empty list none, "prefix/*" every model under
	// prefix.
	Models []string `yaml:"models,omitempty" json:"models,omitempty"`
	// Limits are the caller's own rate limits, as a static key's: counted
	// under its key_name, so a static key of the same name shares them.
	Limits *Limits `yaml:"limits,omitempty" json:"limits,omitempty"`
	// Budget is the caller's spending limit, as a static key's, under its
	// key_name.
	Budget *Budget `yaml:"budget,omitempty" json:"budget,omitempty"`
	// MaxCostUSD caps the estimated cost of each of the caller's requests,
	// as a static key's max_cost_usd.
	MaxCostUSD *float64 `yaml:"max_cost_usd,omitempty" json:"max_cost_usd,omitempty"`
}

// MaxCostPico returns the caller's cost cap in picodollars; 0 when it has
// none.
func (id *ClientIdentity) MaxCostPico() int64 { return costPico(id.MaxCostUSD) }

// UpstreamTLS sets how a provider's TLS connections are made: a private CA
// and a client certificate (mutual TLS to internal model servers).
type UpstreamTLS struct {
	// CAFile is a PEM bundle of the certificate authorities trusted for
	// the upstream's certificate, instead of the system's. Empty: the
	// system's.
	CAFile string `yaml:"ca_file,omitempty" json:"ca_file,omitempty"`
	// CertFile is the PEM file of the client certificate presented to the
	// upstream; with key_file, or neither.
	CertFile string `yaml:"cert_file,omitempty" json:"cert_file,omitempty"`
	// KeyFile is the PEM file of the client certificate's key.
	KeyFile string `yaml:"key_file,omitempty" json:"key_file,omitempty"`
	// ServerName is the name the upstream's certificate is verified
	// against, and sent in SNI; empty: base_url's host.
	ServerName string `yaml:"server_name,omitempty" json:"server_name,omitempty"`
}

// Values of server.tls.min_version and server.tls.client_auth.
const (
	TLS12             = "1.2"
	TLS13             = "1.3"
	ClientAuthRequire = "require"
	ClientAuthRequest = "request"
)

// TLSVersion returns the tls package's constant of min_version, TLS 1.3
// when it is empty.
func (t *ServerTLS) TLSVersion() uint16 {
	if t.MinVersion == TLS12 {
		return tls.VersionTLS12
	}
	return tls.VersionTLS13
}

// ClientAuthType returns the tls package's client authentication policy.
func (t *ServerTLS) ClientAuthType() tls.ClientAuthType {
	switch {
	case t.ClientCAFile == "":
		return tls.NoClientCert
	case t.ClientAuth == ClientAuthRequest:
		return tls.VerifyClientCertIfGiven
	}
	return tls.RequireAndVerifyClientCert
}

// LoadCertPool reads a PEM bundle of certificates; the error says what is
// wrong without the file's content.
func LoadCertPool(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fileError(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, errors.New("holds no PEM certificate")
	}
	return pool, nil
}

// LoadKeyPair reads a certificate and its key from PEM files; the error
// says which file is wrong and how, never what they hold.
func LoadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%s: %w", certFile, fileError(err))
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%s: %w", keyFile, fileError(err))
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		// The tls package's messages name the problem, not the bytes.
		return tls.Certificate{}, fmt.Errorf("does not load with its key: %w", err)
	}
	return c, nil
}

// readable returns why path cannot be read, nil if it can.
func readable(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fileError(err)
	}
	defer f.Close()
	if _, err := f.Read(make([]byte, 1)); err != nil && err != io.EOF {
		return fileError(err)
	}
	return nil
}

// fileError is err of reading a file, without the path (the caller names
// the field).
func fileError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("cannot read: %w", pe.Err)
	}
	return err
}

// validateTLS checks server.tls: the files are read and parsed now, so
// that a certificate that does not load is refused at start or reload.
func (s *Server) validateTLS(p *problems) {
	t := s.TLS
	if t == nil {
		return
	}
	if t.CertFile == "" {
		p.add("server.tls.cert_file", "required")
	}
	if t.KeyFile == "" {
		p.add("server.tls.key_file", "required")
	}
	if t.CertFile != "" && t.KeyFile != "" {
		if err := readable(t.CertFile); err != nil {
			p.add("server.tls.cert_file", "%v", err)
		} else if err := readable(t.KeyFile); err != nil {
			p.add("server.tls.key_file", "%v", err)
		} else if _, err := LoadKeyPair(t.CertFile, t.KeyFile); err != nil {
			p.add("server.tls.cert_file", "%v", err)
		}
	}
	if t.MinVersion != "" && t.MinVersion != TLS12 && t.MinVersion != TLS13 {
		p.add("server.tls.min_version", "want \"1.2\" or \"1.3\"; got %q", t.MinVersion)
	}
	if t.ClientCAFile != "" {
		if _, err := LoadCertPool(t.ClientCAFile); err != nil {
			p.add("server.tls.client_ca_file", "%v", err)
		}
	}
	switch t.ClientAuth {
	case "":
	case ClientAuthRequest, ClientAuthRequire:
		if t.ClientCAFile == "" {
			p.add("server.tls.client_auth", "needs server.tls.client_ca_file")
		}
	default:
		p.add("server.tls.client_auth", "want \"require\" or \"request\"; got %q", t.ClientAuth)
	}
	if len(t.ClientIdentities) > 0 && t.ClientCAFile == "" {
		p.add("server.tls.client_identities", "needs server.tls.client_ca_file")
	}
	t.validateAdminIdentities(p)
	seen := make(map[string]bool, len(t.ClientIdentities))
	for i, id := range t.ClientIdentities {
		path := fmt.Sprintf("server.tls.client_identities[%d]", i)
		switch {
		case id.Subject == "":
			p.add(path+".subject", "required, such as \"CN=svc-a,O=acme\"")
		case seen[id.Subject]:
			p.add(path+".subject", "%q is listed twice", id.Subject)
		case !strings.Contains(id.Subject, "="):
			p.add(path+".subject", "want attributes such as \"CN=svc-a,O=acme\"; got %q", id.Subject)
		}
		seen[id.Subject] = true
		if id.Tenant == "" {
			p.add(path+".tenant", "required")
		}
		if id.KeyName == "" {
			p.add(path+".key_name", "required")
		}
		id.Limits.validate(p, path)
		id.Budget.validate(p, path)
		validateCostCap(p, path, id.MaxCostUSD)
	}
}

// validateUpstreamTLS checks providers[i].tls.
func (pc *Provider) validateUpstreamTLS(p *problems, path string) {
	t := pc.TLS
	if t == nil {
		return
	}
	path += ".tls"
	if strings.HasPrefix(pc.BaseURL, "http://") {
		p.add(path, "applies to an https:// base_url only")
	}
	if t.CAFile != "" {
		if _, err := LoadCertPool(t.CAFile); err != nil {
			p.add(path+".ca_file", "%v", err)
		}
	}
	switch {
	case t.CertFile == "" && t.KeyFile == "":
	case t.CertFile == "":
		p.add(path+".cert_file", "required with key_file")
	case t.KeyFile == "":
		p.add(path+".key_file", "required with cert_file")
	default:
		if err := readable(t.CertFile); err != nil {
			p.add(path+".cert_file", "%v", err)
		} else if err := readable(t.KeyFile); err != nil {
			p.add(path+".key_file", "%v", err)
		} else if _, err := LoadKeyPair(t.CertFile, t.KeyFile); err != nil {
			p.add(path+".cert_file", "%v", err)
		}
	}
}

// validateAdminIdentities checks server.tls.admin_identities.
func (t *ServerTLS) validateAdminIdentities(p *problems) {
	if len(t.AdminIdentities) > 0 && t.ClientCAFile == "" {
		p.add("server.tls.admin_identities", "needs server.tls.client_ca_file")
	}
	subjects := make(map[string]bool, len(t.AdminIdentities))
	names := make(map[string]int, len(t.AdminIdentities))
	for i, id := range t.AdminIdentities {
		path := fmt.Sprintf("server.tls.admin_identities[%d]", i)
		switch {
		case !strings.Contains(id.Subject, "="):
			p.add(path+".subject", "want attributes such as \"CN=ops,O=acme\"; got %q", id.Subject)
		case subjects[id.Subject]:
			p.add(path+".subject", "%q is listed twice", id.Subject)
		}
		subjects[id.Subject] = true
		checkName(p, path, id.Name, "admin identity", names, i)
	}
}
