package payloadlog

import (
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/llmgw/llmgw/internal/config"
)

// Lookahead is how far past the logged bound a text is searched for
// secrets, so that one that begins before the cut and ends after it is
// still recognized and redacted whole.
const Lookahead = 4096

// Policy is the compiled logging.payloads section: whose bodies are
// logged, how much of each, and the Redactor applied to them.
type Policy struct {
	tenants  map[string]bool
	maxBytes int
	redactor *Redactor
}

// New returns the policy of cfg, nil when no tenant opted in. cfg must
// hold its secrets' values (not Config.Redacted): they are what is
// redacted besides the patterns.
func New(cfg *config.Config) *Policy {
	pl := &cfg.Logging.Payloads
	if !pl.On() {
		return nil
	}
	p := &Policy{tenants: make(map[string]bool, len(pl.Tenants)), maxBytes: pl.MaxBytes, redactor: NewRedactor(Secrets(cfg))}
	if p.maxBytes <= 0 {
		p.maxBytes = config.DefaultPayloadMaxBytes
	}
	for _, t := range pl.Tenants {
		p.tenants[t] = true
	}
	return p
}

// Logs reports whether the bodies of tenant's requests are logged; false
// for a nil Policy and for the empty tenant.
func (p *Policy) Logs(tenant string) bool {
	return p != nil && tenant != "" && p.tenants[tenant]
}

// MaxBytes is the most logged of one body.
func (p *Policy) MaxBytes() int { return p.maxBytes }

// Window is how much of a body Text reads: what a capture needs to keep.
func (p *Policy) Window() int { return p.maxBytes + Lookahead }

// Text returns what is logged of b: its first Window bytes redacted, made
// valid UTF-8 (an invalid byte becomes U+FFFD) and cut to MaxBytes on a
// character boundary; and whether anything was cut.
func (p *Policy) Text(b []byte) (string, bool) {
	cut := false
	if len(b) > p.Window() {
		b, cut = b[:p.Window()], true
	}
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	s = p.redactor.Redact(s)
	if len(s) > p.maxBytes {
		n := p.maxBytes
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s, cut = s[:n], true
	}
	return s, cut
}

// secretType is config.Secret's reflect type.
var secretType = reflect.TypeFor[config.Secret]()

// Secrets returns the values of every config.Secret in cfg. It walks the
// configuration's types rather than list its secret fields, so that a
// secret added to the configuration is redacted without anyone having to
// remember it here.
func Secrets(cfg *config.Config) []string {
	var out []string
	collect(reflect.ValueOf(cfg).Elem(), &out)
	return out
}

func collect(v reflect.Value, out *[]string) {
	if v.Type() == secretType {
		if s := v.String(); s != "" {
			*out = append(*out, s)
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			collect(v.Elem(), out)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				collect(v.Field(i), out)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			collect(v.Index(i), out)
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			collect(it.Value(), out)
		}
	}
}
