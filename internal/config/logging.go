package config

// Logging configures what the gateway logs beyond its access log
// (docs/logging.md).
type Logging struct {
	// Payloads logs the request and response bodies of the tenants listed,
	// redacted of secrets. Off for every tenant by default: prompts and
	// completions are never logged otherwise.
	Payloads Payloads `yaml:"payloads,omitempty" json:"payloads,omitzero"`
}

// Payloads is the opt-in logging of request and response bodies: for each
// request of a listed tenant, one "payload" line at INFO after its access
// log line, with the request body as the client sent it and the response
// (a unary answer's body as the client got it; a stream's text assembled
// from what the client was sent), each cut at max_bytes and redacted of
// secrets (API keys, bearer tokens, JWTs, private keys, passwords in URLs
// and the configuration's own secrets).
type Payloads struct {
	// Tenants are the tenants whose payloads are logged, by name: a static
	// key's tenant, a store tenant's name, a JWT's tenant claim. Each
	// non-empty, at most once. Empty (the default): none.
	Tenants []string `yaml:"tenants,omitempty" json:"tenants,omitempty"`
	// MaxBytes bounds what is logged of each of a request's body and of
	// its response, in bytes; the rest is left out, and the line says how
	// many bytes each had. Default 8192, at most 1048576 (1 MiB).
	MaxBytes int `yaml:"max_bytes,omitempty" json:"max_bytes,omitempty"`
}

const (
	// DefaultPayloadMaxBytes is logging.payloads.max_bytes when unset.
	DefaultPayloadMaxBytes = 8 << 10
	// MaxPayloadMaxBytes bounds logging.payloads.max_bytes.
	MaxPayloadMaxBytes = 1 << 20
)

// On reports whether payloads are logged for any tenant.
func (p *Payloads) On() bool { return len(p.Tenants) > 0 }

func (l *Logging) applyDefaults() {
	if l.Payloads.On() {
		setDefault(&l.Payloads.MaxBytes, DefaultPayloadMaxBytes)
	}
}

func (l *Logging) validate(p *problems) {
	pl := &l.Payloads
	seen := make(map[string]bool, len(pl.Tenants))
	for i, t := range pl.Tenants {
		switch {
		case t == "":
			p.add(indexPath("logging.payloads.tenants", i), "must not be empty")
		case seen[t]:
			p.add(indexPath("logging.payloads.tenants", i), "tenant %q is listed twice", t)
		}
		seen[t] = true
	}
	switch {
	case !pl.On() && pl.MaxBytes != 0:
		p.add("logging.payloads.max_bytes", "has no effect without logging.payloads.tenants: remove it")
	case pl.MaxBytes < 0 || pl.MaxBytes > MaxPayloadMaxBytes:
		p.add("logging.payloads.max_bytes", "must be from 1 to %d", MaxPayloadMaxBytes)
	}
}
