package config

import (
	"strings"
	"testing"
	"time"
)

func TestHealthCheckDefaultsAndOff(t *testing.T) {
	c, err := Parse([]byte(`
providers:
  - {name: a, type: openai, api_key: k, health_check: {}}
  - {name: b, type: anthropic, api_key: k}
models:
  - {name: m, targets: [{provider: a, model: x}, {provider: b, model: y}]}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	h := c.Providers[0].HealthCheck
	if h == nil || time.Duration(h.Interval) != DefaultHealthCheckInterval || time.Duration(h.Timeout) != DefaultHealthCheckTimeout {
		t.Fatalf("health_check = %+v, want the defaults", h)
	}
	if c.Providers[1].HealthCheck != nil {
		t.Fatal("a provider without health_check has a check: checks must be off by default")
	}
	if r := c.Redacted(); r.Providers[0].HealthCheck == h || *r.Providers[0].HealthCheck != *h {
		t.Fatal("Redacted must copy the health_check block")
	}
}

func TestHealthCheckValidation(t *testing.T) {
	if _, err := Parse([]byte(`
providers:
  - {name: c, type: mock, health_check: {interval: 10s, path: /x}}
`), nil); err == nil || !strings.Contains(err.Error(), "providers[0].health_check.path") {
		t.Errorf("unknown key in health_check: err = %v", err)
	}
	_, err := Parse([]byte(`
providers:
  - {name: a, type: openai, api_key: k, health_check: {interval: 500ms, timeout: 10ms}}
  - {name: b, type: bedrock, bedrock: {region: us-east-1}, health_check: {interval: 10s, timeout: 20s}}
models:
  - {name: m, targets: [{provider: a, model: x}]}
`), nil)
	if err == nil {
		t.Fatal("invalid health checks accepted")
	}
	for _, want := range []string{
		"providers[0].health_check.interval: must be at least 1s",
		"providers[0].health_check.timeout: must be at least 100ms",
		"providers[1].health_check: not available for type bedrock",
		"providers[1].health_check.timeout: must not be longer than the interval",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}
}
