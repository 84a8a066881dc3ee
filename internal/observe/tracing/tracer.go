package tracing

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/credentials"

	"github.com/llmgw/llmgw/internal/config"
)

// scope is the instrumentation scope of the gateway's spans.
const scope = "github.com/llmgw/llmgw"

// Tracer is the process's tracer provider and the tracer the gateway
// starts its spans with. A nil *Tracer is tracing off: every method is a
// no-op on it, and callers test for nil before doing any work for a span.
type Tracer struct {
	tp     *sdktrace.TracerProvider
	tracer trace.Tracer
}

// New builds the tracer of s: an OTLP exporter (http/protobuf or grpc)
// behind a batching span processor, the sampler of s, and a resource
// naming the service and its version. It returns nil when s is not
// enabled. Nothing is sent before the first span ends, so a receiver that
// is down at start is no error: exports that fail are dropped, with the
// SDK's error handler told.
func New(s Settings, version string) (*Tracer, error) {
	if !s.Enabled {
		return nil, nil
	}
	exp, err := exporter(s)
	if err != nil {
		return nil, err
	}
	var sampler sdktrace.Sampler = sdktrace.TraceIDRatioBased(s.Ratio)
	if s.ParentBased {
		sampler = sdktrace.ParentBased(sampler)
	}
	attrs := []attribute.KeyValue{attribute.String("service.name", s.ServiceName)}
	if version != "" {
		attrs = append(attrs, attribute.String("service.version", version))
	}
	// Not resource.Default: it reads OTEL_RESOURCE_ATTRIBUTES and
	// OTEL_SERVICE_NAME itself, and the latter must not override a
	// configured service_name.
	res, err := resource.New(context.Background(), resource.WithFromEnv(), resource.WithTelemetrySDK(), resource.WithAttributes(attrs...))
	if err != nil && res == nil {
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithSampler(sampler), sdktrace.WithResource(res))
	return &Tracer{tp: tp, tracer: tp.Tracer(scope)}, nil
}

// exporter returns the OTLP exporter of s. Options set here are explicit,
// and so win over the OTEL_EXPORTER_OTLP_* variables the exporter would
// read itself; those it is not given here (timeout, compression) still
// apply.
func exporter(s Settings) (sdktrace.SpanExporter, error) {
	var tlsConf *tls.Config
	if s.CAFile != "" && s.URL.Scheme == "https" {
		pem, err := os.ReadFile(s.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tracing: ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New("tracing: ca_file: no PEM certificate in it")
		}
		tlsConf = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	ctx := context.Background()
	if s.Protocol == config.TracingGRPC {
		opts := []otlptracegrpc.Option{otlptracegrpc.WithEndpoint(s.URL.Host), otlptracegrpc.WithHeaders(s.Headers)}
		switch {
		case s.URL.Scheme == "http":
			opts = append(opts, otlptracegrpc.WithInsecure())
		case tlsConf != nil:
			opts = append(opts, otlptracegrpc.WithTLSCredentials(credentials.NewTLS(tlsConf)))
		default:
			opts = append(opts, otlptracegrpc.WithTLSCredentials(credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS12})))
		}
		return otlptracegrpc.New(ctx, opts...)
	}
	opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(s.URL.String()), otlptracehttp.WithHeaders(s.Headers)}
	if tlsConf != nil {
		opts = append(opts, otlptracehttp.WithTLSClientConfig(tlsConf))
	}
	return otlptracehttp.New(ctx, opts...)
}

// Shutdown ends the exports: the spans still queued are sent, within
// ctx. It is called once, after the server has drained and before the
// stores close, so that the spans of the last requests are not lost.
func (t *Tracer) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	return t.tp.Shutdown(ctx)
}

// Tracer returns the tracer spans are started with, or nil when t is.
func (t *Tracer) Tracer() trace.Tracer {
	if t == nil {
		return nil
	}
	return t.tracer
}

// Extract returns ctx with the W3C trace context (traceparent, tracestate)
// of a client's request headers, when they carry a valid one.
func Extract(ctx context.Context, h http.Header) context.Context {
	return propagation.TraceContext{}.Extract(ctx, propagation.HeaderCarrier(h))
}
