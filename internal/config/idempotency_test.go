package config

import (
	"strings"
	"testing"
	"time"
)

func TestIdempotencyConfig(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string // problems; none: valid
	}{
		{"defaults", ``, nil},
		{"set", "idempotency: {ttl: \"1h\", max_record_bytes: 1000, max_bytes: 5000}\n", nil},
		{"off", "idempotency: {enabled: false}\n", nil},
		{"off with settings", "idempotency: {enabled: false, ttl: \"1h\"}\n", []string{"idempotency.enabled: is false"}},
		{"short ttl", "idempotency: {ttl: \"10ms\"}\n", []string{"idempotency.ttl: must be at least 1s"}},
		{"long ttl", "idempotency: {ttl: \"721h\"}\n", []string{"idempotency.ttl: must be at most 720h"}},
		{"negative record", "idempotency: {max_record_bytes: -1}\n", []string{"idempotency.max_record_bytes: must be > 0"}},
		{"negative total", "idempotency: {max_bytes: -1}\n", []string{"idempotency.max_bytes: must be > 0"}},
		{"record over the default total", "idempotency: {max_record_bytes: 100000000}\n", []string{"idempotency.max_bytes: must be at least"}},
		{"record over total", "idempotency: {max_record_bytes: 2000, max_bytes: 1000}\n", []string{"idempotency.max_bytes: must be at least idempotency.max_record_bytes"}},
		{"max_bytes with redis", "redis: {url: \"redis://127.0.0.1:6379/0\"}\nidempotency: {max_bytes: 1000}\n", []string{"idempotency.max_bytes: has no effect with redis.url"}},
		{"unknown key", "idempotency: {ttl_seconds: 5}\n", []string{"ttl_seconds"}},
		{"duration as a number", "idempotency: {ttl: 5}\n", []string{"ttl"}},
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
	ic := cfg.Idempotency
	if !ic.On() || ic.TTL.Std() != 24*time.Hour || ic.MaxRecordBytes != 1<<20 || ic.MaxBytes != 0 || ic.MemoryBytes() != 64<<20 {
		t.Fatalf("defaults %+v", ic)
	}
	cfg, err = Parse([]byte("redis: {url: \"redis://127.0.0.1:6379/0\"}\n"), envOf(nil))
	if err != nil || cfg.Idempotency.MaxBytes != 0 {
		t.Fatalf("with redis: %+v %v", cfg.Idempotency, err)
	}
}
