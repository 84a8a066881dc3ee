package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"go.yaml.in/yaml/v3"
)

// redactedText is what a non-empty Secret shows instead of its value.
const redactedText = "[redacted]"

// Secret is a credential read from the configuration. Its fmt, slog, YAML
// and JSON forms never reveal the value: they show "[redacted]", or "" when
// the secret is empty. Value returns the plaintext.
type Secret string

// Value returns the plaintext secret.
func (s Secret) Value() string { return string(s) }

// String returns "[redacted]", or "" for an empty secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redactedText
}

// Format implements fmt.Formatter so that every verb, %#v and %x included,
// prints String rather than the value.
func (s Secret) Format(f fmt.State, _ rune) {
	_, _ = io.WriteString(f, s.String())
}

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalYAML implements yaml.Marshaler.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// MarshalJSON implements json.Marshaler.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// redacted returns s with its value replaced by "[redacted]" unless empty.
func (s Secret) redacted() Secret { return Secret(s.String()) }

// Duration is a time.Duration written in the configuration as a string such
// as "30s", "2m" or "1h30m". A bare number is rejected, so that "30" cannot
// silently mean 30 nanoseconds.
type Duration time.Duration

// errDurationNotString is the message for a duration written as a number.
var errDurationNotString = errors.New(`durations must be strings like "30s"`)

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String formats d like time.Duration.String ("1m30s").
func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalYAML implements yaml.Unmarshaler: only string scalars are
// accepted.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		return errDurationNotString
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("invalid duration %s: want a string like \"30s\"", quote(n.Value))
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON implements json.Unmarshaler: only strings are accepted.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errDurationNotString
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %s: want a string like \"30s\"", quote(s))
	}
	*d = Duration(v)
	return nil
}

// quote quotes s for an error message, shortened if long.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		return fmt.Sprintf("%q...", s[:max])
	}
	return fmt.Sprintf("%q", s)
}

// AllowList is a list of names that restricts what is allowed, such as the
// models a key may use. Absent (nil) allows everything; an empty list
// allows nothing. The difference survives decoding and YAML and JSON
// encoding, where a plain slice marked omitempty would turn an empty list
// into an absent one and so "none" into "all". A null written for it is an
// error rather than a guess at either meaning.
type AllowList []string

// IsZero reports whether the list is absent; an empty list is not. YAML's
// omitempty and JSON's omitzero consult it.
func (l AllowList) IsZero() bool { return l == nil }
