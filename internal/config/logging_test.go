package config

import (
	"strings"
	"testing"
)

func TestLoggingConfig(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string // problems; none: valid
	}{
		{"defaults", ``, nil},
		{"tenants", "logging: {payloads: {tenants: [acme, beta]}}\n", nil},
		{"tenants and size", "logging: {payloads: {tenants: [acme], max_bytes: 100}}\n", nil},
		{"largest size", "logging: {payloads: {tenants: [acme], max_bytes: 1048576}}\n", nil},
		{"size without tenants", "logging: {payloads: {max_bytes: 100}}\n", []string{"logging.payloads.max_bytes: has no effect without logging.payloads.tenants"}},
		{"negative size", "logging: {payloads: {tenants: [acme], max_bytes: -1}}\n", []string{"logging.payloads.max_bytes: must be from 1 to 1048576"}},
		{"size too large", "logging: {payloads: {tenants: [acme], max_bytes: 1048577}}\n", []string{"logging.payloads.max_bytes: must be from 1 to 1048576"}},
		{"empty tenant and twice", "logging: {payloads: {tenants: [acme, \"\", acme]}}\n",
			[]string{"logging.payloads.tenants[1]: must not be empty", `logging.payloads.tenants[2]: tenant "acme" is listed twice`}},
		{"unknown key", "logging: {payloads: {tenant: [acme]}}\n", []string{"tenant"}},
		{"unknown section key", "logging: {prompts: true}\n", []string{"prompts"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), envOf(nil))
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want %v", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not say %q", err, w)
				}
			}
		})
	}
	cfg, err := Parse(nil, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if pl := cfg.Logging.Payloads; pl.On() || pl.MaxBytes != 0 {
		t.Fatalf("payloads on by default: %+v", pl)
	}
	cfg, err = Parse([]byte("logging: {payloads: {tenants: [acme]}}\n"), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if pl := cfg.Logging.Payloads; !pl.On() || pl.MaxBytes != DefaultPayloadMaxBytes {
		t.Fatalf("default size: %+v", pl)
	}
	// Redacted is a deep copy: changing it leaves the original as it was.
	r := cfg.Redacted()
	r.Logging.Payloads.Tenants[0] = "other"
	if cfg.Logging.Payloads.Tenants[0] != "acme" {
		t.Error("Redacted shares the tenants list")
	}
}
