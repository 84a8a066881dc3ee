package tracing

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/llmgw/llmgw/internal/config"
)

// Settings is the tracing configuration in effect: the tracing section
// with the OTEL_* environment variables under it.
type Settings struct {
	// Enabled says whether spans are recorded and exported at all.
	Enabled bool
	// Protocol is config.TracingHTTP or config.TracingGRPC.
	Protocol string
	// URL is where spans go: for http/protobuf the full URL they are
	// posted to, for grpc the receiver's scheme and host (https: TLS).
	URL *url.URL
	// Headers are sent with every export; their values are secrets.
	Headers map[string]string
	// CAFile, when set, holds the certificate authorities trusted for an
	// https:// URL.
	CAFile string
	// Ratio is the sampling ratio of new traces; ParentBased says whether
	// a sampled or unsampled parent decides instead.
	Ratio       float64
	ParentBased bool
	// ServiceName is the resource's service.name.
	ServiceName string
}

// DefaultServiceName is service.name when neither the configuration nor
// OTEL_SERVICE_NAME names one.
const DefaultServiceName = "llmgw"

// Default receivers, as the OTLP exporter specification has them.
const (
	defaultHTTPEndpoint = "http://localhost:4318"
	defaultGRPCEndpoint = "http://localhost:4317"
	tracesPath          = "/v1/traces"
)

// Resolve returns the settings of cfg over the environment read through
// env (os.LookupEnv). Environment variables are defaults: what cfg sets
// wins. OTEL_SDK_DISABLED=true and OTEL_TRACES_EXPORTER=none turn tracing
// off whatever cfg says, as the operator's switch. An environment value
// that cannot be read is an error naming the variable (never quoting a
// header value).
func Resolve(cfg *config.Tracing, env func(string) (string, bool)) (Settings, error) {
	get := func(name string) string {
		v, _ := env(name)
		return strings.TrimSpace(v)
	}
	var s Settings
	var errs []error
	endpoint, perSignal := cfg.Endpoint, false
	if endpoint == "" {
		if endpoint = get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"); endpoint != "" {
			perSignal = true
		} else {
			endpoint = get("OTEL_EXPORTER_OTLP_ENDPOINT")
		}
	}
	switch {
	case strings.EqualFold(get("OTEL_SDK_DISABLED"), "true"):
		return s, nil
	case strings.EqualFold(get("OTEL_TRACES_EXPORTER"), "none"):
		return s, nil
	case cfg.Enabled != nil:
		s.Enabled = *cfg.Enabled
	default:
		s.Enabled = endpoint != ""
	}
	if !s.Enabled {
		return s, nil
	}
	s.Protocol = cfg.Protocol
	if s.Protocol == "" {
		s.Protocol = firstOf(get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"), get("OTEL_EXPORTER_OTLP_PROTOCOL"), config.TracingHTTP)
		if s.Protocol != config.TracingHTTP && s.Protocol != config.TracingGRPC {
			errs = append(errs, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL: %q is not supported: use %q or %q", s.Protocol, config.TracingHTTP, config.TracingGRPC))
		}
	}
	u, err := endpointURL(endpoint, perSignal, s.Protocol)
	if err != nil {
		errs = append(errs, err)
	}
	s.URL = u
	s.Headers = map[string]string{}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"} {
		if err := parseHeaders(get(name), s.Headers); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	for k, v := range cfg.Headers {
		s.Headers[k] = v.Value()
	}
	s.CAFile = firstOf(cfg.CAFile, get("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE"), get("OTEL_EXPORTER_OTLP_CERTIFICATE"))
	s.ServiceName = firstOf(cfg.ServiceName, get("OTEL_SERVICE_NAME"), DefaultServiceName)
	if cfg.SampleRatio != nil {
		s.Ratio, s.ParentBased = *cfg.SampleRatio, true
	} else if err := sampler(get("OTEL_TRACES_SAMPLER"), get("OTEL_TRACES_SAMPLER_ARG"), &s); err != nil {
		errs = append(errs, err)
	}
	return s, errors.Join(errs...)
}

// endpointURL returns the URL spans are sent to. A base endpoint (the
// section's, or OTEL_EXPORTER_OTLP_ENDPOINT) gets /v1/traces appended to
// its path for http/protobuf; a per-signal one is used as it is.
func endpointURL(endpoint string, perSignal bool, protocol string) (*url.URL, error) {
	if endpoint == "" {
		endpoint = defaultHTTPEndpoint
		if protocol == config.TracingGRPC {
			endpoint = defaultGRPCEndpoint
		}
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("the OTLP traces endpoint must be an http:// or https:// URL with a host")
	}
	if protocol == config.TracingHTTP && !perSignal {
		u.Path = strings.TrimSuffix(u.Path, "/") + tracesPath
	}
	return u, nil
}

// parseHeaders adds the headers of an OTEL_EXPORTER_OTLP_HEADERS value,
// "name=value,name2=value2" with URL-encoded values, to h.
func parseHeaders(v string, h map[string]string) error {
	if v == "" {
		return nil
	}
	for pair := range strings.SplitSeq(v, ",") {
		name, value, ok := strings.Cut(pair, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return errors.New("a header is not name=value")
		}
		value, err := url.PathUnescape(strings.TrimSpace(value))
		if err != nil {
			return fmt.Errorf("the value of header %q is not URL-encoded", name)
		}
		h[name] = value
	}
	return nil
}

// sampler reads OTEL_TRACES_SAMPLER and its argument into s.
func sampler(name, arg string, s *Settings) error {
	ratio := func() (float64, error) {
		if arg == "" {
			return 1, nil
		}
		r, err := strconv.ParseFloat(arg, 64)
		if err != nil || !(r >= 0 && r <= 1) {
			return 0, fmt.Errorf("OTEL_TRACES_SAMPLER_ARG: %q is not a ratio between 0 and 1", arg)
		}
		return r, nil
	}
	var err error
	switch name {
	case "", "parentbased_always_on":
		s.Ratio, s.ParentBased = 1, true
	case "parentbased_always_off":
		s.Ratio, s.ParentBased = 0, true
	case "parentbased_traceidratio":
		s.Ratio, err = ratio()
		s.ParentBased = true
	case "always_on":
		s.Ratio = 1
	case "always_off":
		s.Ratio = 0
	case "traceidratio":
		s.Ratio, err = ratio()
	default:
		return fmt.Errorf("OTEL_TRACES_SAMPLER: %q is not supported: use parentbased_traceidratio, parentbased_always_on, parentbased_always_off, traceidratio, always_on or always_off", name)
	}
	return err
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
