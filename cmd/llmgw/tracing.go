package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"go.opentelemetry.io/otel"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/observe/tracing"
)

// tracerShutdownTimeout bounds sending the last spans on shutdown.
const tracerShutdownTimeout = 10 * time.Second

// openTracer builds the process's tracer from the tracing section over
// the OTEL_* environment variables; nil when tracing is off.
func openTracer(cfg *config.Config, log *slog.Logger) (*tracing.Tracer, error) {
	s, err := tracing.Resolve(&cfg.Tracing, os.LookupEnv)
	if err != nil {
		return nil, err
	}
	t, err := tracing.New(s, versionString())
	if err != nil || t == nil {
		return nil, err
	}
	// Exports that fail (a receiver down) are logged, not fatal: the
	// spans of the batch are dropped.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.Warn("tracing: export failed", "err", err.Error())
	}))
	// The endpoint without its path or any credentials: headers and
	// the URL's user info are secrets.
	log.Info("tracing", "protocol", s.Protocol, "endpoint", s.URL.Scheme+"://"+s.URL.Host,
		"sample_ratio", s.Ratio, "parent_based", s.ParentBased, "service_name", s.ServiceName)
	return t, nil
}

// closeTracer shuts the tracer down, sending the spans still queued.
func closeTracer(t *tracing.Tracer, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), tracerShutdownTimeout)
	defer cancel()
	if err := t.Shutdown(ctx); err != nil {
		log.Warn("tracing: the last spans were not all sent", "err", err.Error())
	}
}
