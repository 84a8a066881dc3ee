package config

import (
	"maps"
	"net/url"
	"os"
	"slices"

	"golang.org/x/net/http/httpguts"
)

// Tracing exports OpenTelemetry traces over OTLP (docs/tracing.md). The
// standard OTEL_* environment variables are its defaults: a setting made
// here wins over the variable that sets the same thing, and setting
// OTEL_EXPORTER_OTLP_ENDPOINT alone (no tracing section) turns tracing on.
// The section is read when the process starts: the tracer provider it
// builds is the process's, like the metrics registry.
type Tracing struct {
	// Enabled turns tracing on or off. Unset, tracing is on when an
	// endpoint is known (here, or from OTEL_EXPORTER_OTLP_ENDPOINT or
	// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) and off otherwise.
	// OTEL_SDK_DISABLED=true and OTEL_TRACES_EXPORTER=none turn it off
	// whatever this says.
	Enabled *bool `yaml:"enabled,omitempty" json:"enabled,omitempty"`
	// Endpoint is the OTLP receiver's base URL (a collector, Jaeger,
	// Tempo, Zipkin's OTLP receiver...), as OTEL_EXPORTER_OTLP_ENDPOINT:
	// "http://collector:4318" for http/protobuf, to whose path
	// "/v1/traces" is appended, or "http://collector:4317" for grpc. An
	// https:// URL is sent over TLS. Default: the OTEL_* variables, else
	// http://localhost:4318 (http/protobuf) or http://localhost:4317
	// (grpc).
	Endpoint string `yaml:"endpoint,omitempty" json:"endpoint,omitempty"`
	// Protocol is "http/protobuf" or "grpc". Default:
	// OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL,
	// else "http/protobuf".
	Protocol string `yaml:"protocol,omitempty" json:"protocol,omitempty"`
	// Headers are sent with every export (an API key of a tracing
	// backend, say). They are secrets: never logged or shown. They are
	// added to those of OTEL_EXPORTER_OTLP_HEADERS and
	// OTEL_EXPORTER_OTLP_TRACES_HEADERS, replacing a header of the same
	// name.
	Headers map[string]Secret `yaml:"headers,omitempty" json:"headers,omitempty"`
	// CAFile is a PEM file of the certificate authorities trusted for an
	// https:// endpoint, in place of the system's. Default:
	// OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE, else
	// OTEL_EXPORTER_OTLP_CERTIFICATE, else the system's.
	CAFile string `yaml:"ca_file,omitempty" json:"ca_file,omitempty"`
	// SampleRatio is the share of new traces recorded, from 0 to 1, with
	// the parent's decision followed when a request carries a traceparent
	// (a parent-based ratio sampler): 0.1 records one trace in ten of those
	// that start at the gateway, and every trace a sampled client passed
	// on. Default: OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG, else
	// 1 (parentbased_always_on).
	SampleRatio *float64 `yaml:"sample_ratio,omitempty" json:"sample_ratio,omitempty"`
	// ServiceName is the service.name of the spans. Default:
	// OTEL_SERVICE_NAME, else "llmgw".
	ServiceName string `yaml:"service_name,omitempty" json:"service_name,omitempty"`
}

// The OTLP protocols of tracing.protocol.
const (
	TracingHTTP = "http/protobuf"
	TracingGRPC = "grpc"
)

// validate checks the tracing section. Header values are never quoted in
// a message.
func (t *Tracing) validate(p *problems) {
	if t.Enabled != nil && !*t.Enabled && (t.Endpoint != "" || t.Protocol != "" || len(t.Headers) > 0 || t.CAFile != "" ||
		t.SampleRatio != nil || t.ServiceName != "") {
		p.add("tracing.enabled", "is false: remove the section's other settings, which then have no effect")
	}
	if t.Endpoint != "" {
		u, err := url.Parse(t.Endpoint)
		switch {
		case err != nil:
			p.add("tracing.endpoint", "is not a URL")
		case u.Scheme != "http" && u.Scheme != "https":
			p.add("tracing.endpoint", "must be an http:// or https:// URL")
		case u.Host == "":
			p.add("tracing.endpoint", "has no host")
		case u.User != nil:
			p.add("tracing.endpoint", "must not hold credentials: use tracing.headers")
		}
	}
	switch t.Protocol {
	case "", TracingHTTP, TracingGRPC:
	default:
		p.add("tracing.protocol", "must be %q or %q", TracingHTTP, TracingGRPC)
	}
	for _, name := range slices.Sorted(maps.Keys(t.Headers)) {
		hp := fieldPath("tracing.headers", name)
		if !httpguts.ValidHeaderFieldName(name) {
			p.add(hp, "invalid header name")
		}
		if !httpguts.ValidHeaderFieldValue(t.Headers[name].Value()) {
			p.add(hp, "invalid header value (control characters or newlines)")
		}
	}
	if r := t.SampleRatio; r != nil && !(*r >= 0 && *r <= 1) {
		p.add("tracing.sample_ratio", "must be between 0 and 1")
	}
	if t.CAFile != "" {
		if _, err := os.Stat(t.CAFile); err != nil {
			p.add("tracing.ca_file", "cannot be read: %v", err)
		}
	}
}

// redacted returns a copy of t with its header values redacted.
func (t Tracing) redacted() Tracing {
	if t.Headers != nil {
		h := make(map[string]Secret, len(t.Headers))
		for k, v := range t.Headers {
			h[k] = v.redacted()
		}
		t.Headers = h
	}
	if t.SampleRatio != nil {
		r := *t.SampleRatio
		t.SampleRatio = &r
	}
	if t.Enabled != nil {
		e := *t.Enabled
		t.Enabled = &e
	}
	return t
}
