package tracing

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llmgw/llmgw/internal/config"
)

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func ptr[T any](v T) *T { return &v }

func TestResolve(t *testing.T) {
	cases := []struct {
		name string
		cfg  config.Tracing
		env  map[string]string
		want Settings
	}{
		{name: "nothing set: off"},
		{name: "OTEL_EXPORTER_OTLP_ENDPOINT alone turns it on",
			env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"},
			want: Settings{Enabled: true, Protocol: config.TracingHTTP, URL: u("http://collector:4318/v1/traces"),
				Ratio: 1, ParentBased: true, ServiceName: "llmgw"}},
		{name: "the traces endpoint alone too, used as it is",
			env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://otlp.example.com/custom/traces"},
			want: Settings{Enabled: true, Protocol: config.TracingHTTP, URL: u("https://otlp.example.com/custom/traces"),
				Ratio: 1, ParentBased: true, ServiceName: "llmgw"}},
		{name: "the traces endpoint wins over the base one",
			env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://b:4318/v1/traces"},
			want: Settings{Enabled: true, Protocol: config.TracingHTTP, URL: u("http://b:4318/v1/traces"),
				Ratio: 1, ParentBased: true, ServiceName: "llmgw"}},
		{name: "grpc from the environment, sampler and service name",
			env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
				"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25", "OTEL_SERVICE_NAME": "edge-gw",
				"OTEL_EXPORTER_OTLP_HEADERS": "x-api-key=abc%20def,x-team=core"},
			want: Settings{Enabled: true, Protocol: config.TracingGRPC, URL: u("http://collector:4317"),
				Headers: map[string]string{"x-api-key": "abc def", "x-team": "core"}, Ratio: 0.25, ParentBased: true, ServiceName: "edge-gw"}},
		{name: "the configuration wins over the environment",
			cfg: config.Tracing{Endpoint: "https://tempo:4318/otlp", Protocol: config.TracingHTTP, SampleRatio: ptr(0.5), ServiceName: "gw",
				Headers: map[string]config.Secret{"x-api-key": "from-file"}},
			env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
				"OTEL_TRACES_SAMPLER": "always_off", "OTEL_SERVICE_NAME": "edge-gw", "OTEL_EXPORTER_OTLP_HEADERS": "x-api-key=env,x-team=core"},
			want: Settings{Enabled: true, Protocol: config.TracingHTTP, URL: u("https://tempo:4318/otlp/v1/traces"),
				Headers: map[string]string{"x-api-key": "from-file", "x-team": "core"}, Ratio: 0.5, ParentBased: true, ServiceName: "gw"}},
		{name: "enabled without an endpoint: the default receiver",
			cfg:  config.Tracing{Enabled: ptr(true), Protocol: config.TracingGRPC},
			want: Settings{Enabled: true, Protocol: config.TracingGRPC, URL: u("http://localhost:4317"), Ratio: 1, ParentBased: true, ServiceName: "llmgw"}},
		{name: "enabled: false wins over the environment's endpoint",
			cfg: config.Tracing{Enabled: ptr(false)}, env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}},
		{name: "OTEL_SDK_DISABLED turns it off whatever the file says",
			cfg: config.Tracing{Enabled: ptr(true), Endpoint: "http://collector:4318"}, env: map[string]string{"OTEL_SDK_DISABLED": "true"}},
		{name: "OTEL_TRACES_EXPORTER=none too",
			env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_TRACES_EXPORTER": "none"}},
		{name: "a sampler that is not parent-based",
			env:  map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.1"},
			want: Settings{Enabled: true, Protocol: config.TracingHTTP, URL: u("http://c:4318/v1/traces"), Ratio: 0.1, ServiceName: "llmgw"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Resolve(&tc.cfg, envOf(tc.env))
			require.NoError(t, err)
			url := ""
			if got.URL != nil {
				url = got.URL.String()
			}
			if len(got.Headers) == 0 {
				got.Headers = nil
			}
			want := ""
			if tc.want.URL != nil {
				want = tc.want.URL.String()
			}
			assert.Equal(t, want, url)
			got.URL = nil
			assert.Equal(t, tc.want.withoutURL(), got)
		})
	}
}

func (s Settings) withoutURL() Settings { s.URL = nil; return s }

func u(s string) *url.URL {
	v, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return v
}

func TestResolveErrors(t *testing.T) {
	env := map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318",
		"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
		"OTEL_EXPORTER_OTLP_HEADERS":  "x-api-key",
		"OTEL_TRACES_SAMPLER":         "parentbased_traceidratio",
		"OTEL_TRACES_SAMPLER_ARG":     "2",
	}
	_, err := Resolve(&config.Tracing{}, envOf(env))
	require.Error(t, err)
	for _, want := range []string{"OTEL_EXPORTER_OTLP_PROTOCOL", "endpoint must be an http:// or https:// URL", "OTEL_EXPORTER_OTLP_HEADERS", "OTEL_TRACES_SAMPLER_ARG"} {
		assert.Contains(t, err.Error(), want)
	}
	env = map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_HEADERS": "x-api-key=%zz-secret"}
	_, err = Resolve(&config.Tracing{}, envOf(env))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "secret", "a header value is never quoted")
}
