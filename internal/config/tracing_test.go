package config

import (
	"fmt"
	"strings"
	"testing"
)

func TestTracingConfig(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string // problems; none: valid
	}{
		{"none", ``, nil},
		{"full", "tracing: {enabled: true, endpoint: \"https://tempo.example.com:4318\", protocol: http/protobuf, headers: {X-Api-Key: k}, sample_ratio: 0.1, service_name: gw}\n", nil},
		{"grpc", "tracing: {endpoint: \"http://collector:4317\", protocol: grpc}\n", nil},
		{"ratio bounds", "tracing: {sample_ratio: 0}\n", nil},
		{"off", "tracing: {enabled: false}\n", nil},
		{"off with settings", "tracing: {enabled: false, sample_ratio: 0.5}\n", []string{"tracing.enabled: is false"}},
		{"not a URL", "tracing: {endpoint: \"collector:4318\"}\n", []string{"tracing.endpoint: must be an http:// or https:// URL"}},
		{"no host", "tracing: {endpoint: \"http://\"}\n", []string{"tracing.endpoint: has no host"}},
		{"credentials in the URL", "tracing: {endpoint: \"https://user:pw@collector\"}\n", []string{"tracing.endpoint: must not hold credentials"}},
		{"protocol", "tracing: {protocol: http/json}\n", []string{`tracing.protocol: must be "http/protobuf" or "grpc"`}},
		{"ratio over 1", "tracing: {sample_ratio: 1.5}\n", []string{"tracing.sample_ratio: must be between 0 and 1"}},
		{"negative ratio", "tracing: {sample_ratio: -0.1}\n", []string{"tracing.sample_ratio: must be between 0 and 1"}},
		{"header name", "tracing: {headers: {\"Bad Name\": v}}\n", []string{"tracing.headers.Bad Name: invalid header name"}},
		{"missing CA file", "tracing: {ca_file: /nonexistent/ca.pem}\n", []string{"tracing.ca_file: cannot be read"}},
		{"unknown key", "tracing: {sampler: always_on}\n", []string{"tracing.sampler"}},
		{"every problem at once", "tracing: {protocol: x, sample_ratio: 2}\n", []string{"tracing.protocol", "tracing.sample_ratio"}},
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
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestTracingHeadersAreSecrets(t *testing.T) {
	c, err := Parse([]byte("tracing: {endpoint: \"http://c:4318\", headers: {X-Api-Key: \"backend-secret-value\"}}\n"), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	r := c.Redacted()
	if got := r.Tracing.Headers["X-Api-Key"]; got != "[redacted]" {
		t.Errorf("redacted header %q", got)
	}
	if got := c.Tracing.Headers["X-Api-Key"].Value(); got != "backend-secret-value" {
		t.Errorf("Redacted changed the original: %q", got)
	}
	if s := fmt.Sprintf("%v %+v", c.Tracing, c.Tracing); strings.Contains(s, "backend-secret-value") {
		t.Errorf("formatted section shows the secret: %s", s)
	}
	_, err = Parse([]byte("tracing: {headers: {X-Api-Key: \"a\\nbackend-secret-value\"}}\n"), envOf(nil))
	if err == nil || strings.Contains(err.Error(), "backend-secret-value") {
		t.Errorf("error %v", err)
	}
}
